//! Checks on deploy/ that need neither Docker nor a cluster: the files parse, agree with
//! each other and with the code's defaults; the systemd unit and the nginx config pass their
//! own tools' checks when those tools are installed (`.ci/run` installs nginx).

use std::{collections::BTreeSet, net::SocketAddr, path::Path, process::Command};

use qunguan::config::{Config, DEFAULT_LISTEN};
use yaml_rust2::{Yaml, YamlLoader};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn yaml(relative: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

fn default_port() -> u16 {
    DEFAULT_LISTEN.parse::<SocketAddr>().unwrap().port()
}

/// The settings `.env.example` documents (set or commented out).
fn documented_settings() -> BTreeSet<String> {
    read(".env.example")
        .lines()
        .filter_map(|l| l.trim_start_matches("# ").split_once('='))
        .map(|(name, _)| name.trim().to_owned())
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .collect()
}

/// Checks that `settings` (plus placeholder credentials) make a valid config.
fn assert_valid_config(origin: &str, settings: &[(String, String)]) {
    let documented = documented_settings();
    for (name, _) in settings {
        assert!(
            documented.contains(name),
            "{origin} sets {name}, which qunguan does not read"
        );
    }
    let lookup = |name: &str| {
        settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .or_else(|| {
                name.starts_with("DINGTALK_APP")
                    .then(|| "placeholder".to_owned())
            })
    };
    if let Err(e) = Config::from_lookup(lookup) {
        panic!("{origin}'s settings are not a valid config: {e}");
    }
}

#[test]
fn the_dockerfile_builds_the_binary_it_runs_on_the_default_port() {
    let dockerfile = read("deploy/Dockerfile");
    let port = default_port();
    assert!(read("Cargo.toml").contains("[[bin]]\nname = \"qunguan\""));
    assert!(dockerfile.contains("cargo build --release --locked --bin qunguan"));
    assert!(
        dockerfile.contains("COPY --from=build /src/target/release/qunguan /usr/local/bin/qunguan")
    );
    assert!(dockerfile.contains(&format!("EXPOSE {port}")));
    assert!(
        dockerfile.contains(r#"CMD ["/usr/local/bin/qunguan", "healthcheck"]"#),
        "HEALTHCHECK must ask qunguan's /healthz"
    );
    assert!(dockerfile.contains("VOLUME /data"));
    let user = dockerfile
        .lines()
        .rfind(|l| l.starts_with("USER "))
        .expect("a USER line");
    assert!(!user.contains("root") && !user.contains(" 0"), "{user}");
    // Every build-context path it copies exists, and secrets stay out of the context.
    for line in dockerfile
        .lines()
        .filter(|l| l.starts_with("COPY ") && !l.contains("--from"))
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        for source in &words[1..words.len() - 1] {
            assert!(
                Path::new(ROOT).join(source).exists(),
                "COPY {source}: missing"
            );
        }
    }
    assert!(read(".dockerignore").lines().any(|l| l == ".env"));
    // Its environment is a valid configuration, on the default port, with the store on
    // the volume.
    let env: Vec<(String, String)> = dockerfile
        .replace("\\\n", " ")
        .lines()
        .filter_map(|l| l.strip_prefix("ENV "))
        .flat_map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .map(|pair| {
            let (k, v) = pair.split_once('=').expect("ENV name=value");
            (k.to_owned(), v.to_owned())
        })
        .collect();
    assert!(
        env.contains(&("QUNGUAN_LISTEN".into(), format!("0.0.0.0:{port}"))),
        "{env:?}"
    );
    assert!(env.contains(&(
        "QUNGUAN_DATABASE_URL".into(),
        "sqlite:///data/qunguan.db".into()
    )));
    assert_valid_config("deploy/Dockerfile", &env);
}

#[test]
fn compose_runs_the_image_with_dotenv_a_volume_and_the_port() {
    let doc = &yaml("deploy/docker-compose.yml")[0];
    let service = &doc["services"]["qunguan"];
    assert_eq!(service["build"]["context"].as_str(), Some(".."));
    let dockerfile = service["build"]["dockerfile"].as_str().unwrap();
    assert!(Path::new(ROOT).join(dockerfile).exists(), "{dockerfile}");
    assert_eq!(service["env_file"].as_str(), Some("../.env"));
    let port = default_port();
    let published = service["ports"][0].as_str().unwrap();
    assert!(published.ends_with(&format!(":{port}")), "{published}");
    assert!(
        published.starts_with("127.0.0.1:"),
        "publish on loopback, behind TLS"
    );
    let volume = service["volumes"][0].as_str().unwrap();
    assert!(volume.ends_with(":/data"), "{volume}");
    let name = volume.split(':').next().unwrap();
    assert!(
        !doc["volumes"][name].is_badvalue(),
        "volume {name} is declared"
    );
    let env = compose_env(service);
    assert_valid_config("deploy/docker-compose.yml", &env);
}

/// Every document of every resource the kustomization in `dir` lists (directories are
/// kustomizations of their own, followed), with its strategic-merge patches' container
/// env appended to the Deployment's.
fn kustomized(dir: &str) -> Vec<Yaml> {
    let kustomization = &yaml(&format!("{dir}/kustomization.yaml"))[0];
    let mut objects: Vec<Yaml> = Vec::new();
    for resource in kustomization["resources"].as_vec().unwrap() {
        let path = format!("{dir}/{}", resource.as_str().unwrap());
        if Path::new(ROOT).join(&path).is_dir() {
            objects.extend(kustomized(&path));
        } else {
            objects.extend(yaml(&path));
        }
    }
    for patch in kustomization["patches"].as_vec().into_iter().flatten() {
        let patch = &yaml(&format!("{dir}/{}", patch["path"].as_str().unwrap()))[0];
        let target = objects
            .iter_mut()
            .find(|o| {
                o["kind"] == patch["kind"] && o["metadata"]["name"] == patch["metadata"]["name"]
            })
            .expect("a patch names an object of the base");
        let extra = patch["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_vec()
            .unwrap();
        let Yaml::Hash(deployment) = target else {
            panic!("not a mapping")
        };
        let env = env_of_first_container(deployment);
        env.retain(|e| !extra.iter().any(|x| x["name"] == e["name"]));
        env.extend(extra.iter().cloned());
    }
    objects
}

/// The env list of a Deployment's first container, to change.
fn env_of_first_container(deployment: &mut yaml_rust2::yaml::Hash) -> &mut Vec<Yaml> {
    let key = |k: &str| Yaml::String(k.to_owned());
    let mut node = deployment.get_mut(&key("spec")).unwrap();
    for k in ["template", "spec", "containers"] {
        node = match node {
            Yaml::Hash(h) => h.get_mut(&key(k)).unwrap(),
            _ => panic!("{k}"),
        };
    }
    let Yaml::Array(containers) = node else {
        panic!("containers")
    };
    let Yaml::Hash(container) = &mut containers[0] else {
        panic!("container")
    };
    match container.get_mut(&key("env")).unwrap() {
        Yaml::Array(env) => env,
        _ => panic!("env"),
    }
}

/// Every object of the HTTP deployment.
fn kubernetes_objects() -> Vec<Yaml> {
    kustomized("deploy/kubernetes")
}

/// The settings a Deployment's first container gets: the Secret's, then its env.
fn pod_settings(objects: &[Yaml]) -> Vec<(String, String)> {
    let secret = object(objects, "Secret");
    let container = &object(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0];
    let mut env: Vec<(String, String)> = secret["stringData"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().into(), v.as_str().unwrap().into()))
        .collect();
    env.extend(container["env"].as_vec().unwrap().iter().map(|e| {
        let name = e["name"].as_str().unwrap().to_owned();
        (name, e["value"].as_str().unwrap_or_default().to_owned())
    }));
    env
}

#[test]
fn the_stream_variants_expose_nothing_and_set_the_mode() {
    let objects = kustomized("deploy/kubernetes/stream");
    for kind in ["Service", "Ingress"] {
        assert!(
            objects.iter().all(|o| o["kind"].as_str() != Some(kind)),
            "no {kind} in Stream mode"
        );
    }
    let env = pod_settings(&objects);
    assert_valid_config("deploy/kubernetes/stream", &env);
    assert!(
        env.contains(&("QUNGUAN_MODE".into(), "stream".into())),
        "{env:?}"
    );
    let config =
        Config::from_lookup(|n| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone())).unwrap();
    assert_eq!(config.mode, qunguan::config::Mode::Stream);

    let doc = &yaml("deploy/docker-compose.stream.yml")[0];
    let service = &doc["services"]["qunguan"];
    assert!(
        service["ports"].is_badvalue(),
        "no port published in Stream mode"
    );
    let env = compose_env(service);
    assert!(env.contains(&("QUNGUAN_MODE".into(), "stream".into())));
    assert_valid_config("deploy/docker-compose.stream.yml", &env);
    let volume = service["volumes"][0].as_str().unwrap();
    assert!(volume.ends_with(":/data"), "{volume}");
}

fn object<'a>(objects: &'a [Yaml], kind: &str) -> &'a Yaml {
    let found: Vec<&Yaml> = objects
        .iter()
        .filter(|o| o["kind"].as_str() == Some(kind))
        .collect();
    assert_eq!(found.len(), 1, "one {kind}");
    found[0]
}

#[test]
fn the_kubernetes_objects_fit_together() {
    let objects = kubernetes_objects();
    for o in &objects {
        assert!(
            o["apiVersion"].as_str().is_some(),
            "{o:?} has no apiVersion"
        );
        assert!(
            o["metadata"]["name"].as_str().is_some(),
            "{o:?} has no name"
        );
    }
    let deployment = object(&objects, "Deployment");
    let secret = object(&objects, "Secret");
    let service = object(&objects, "Service");
    let ingress = object(&objects, "Ingress");
    let claim = object(&objects, "PersistentVolumeClaim");

    let spec = &deployment["spec"];
    assert_eq!(
        spec["replicas"].as_i64(),
        Some(1),
        "one replica with SQLite"
    );
    assert_eq!(spec["strategy"]["type"].as_str(), Some("Recreate"));
    let pod = &spec["template"];
    assert_eq!(
        pod["metadata"]["labels"], spec["selector"]["matchLabels"],
        "the selector picks the pod"
    );
    let container = &pod["spec"]["containers"][0];
    let port = &container["ports"][0];
    assert_eq!(
        port["containerPort"].as_i64(),
        Some(i64::from(default_port()))
    );
    let port_name = port["name"].as_str().unwrap();
    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        assert_eq!(get["port"].as_str(), Some(port_name), "{probe}");
    }
    assert!(
        container["resources"]["requests"]["memory"]
            .as_str()
            .is_some()
    );
    assert!(
        container["resources"]["limits"]["memory"]
            .as_str()
            .is_some()
    );

    // Credentials come from the Secret; the rest is a valid config.
    let secret_name = secret["metadata"]["name"].as_str().unwrap();
    assert_eq!(
        container["envFrom"][0]["secretRef"]["name"].as_str(),
        Some(secret_name)
    );
    let env = pod_settings(&objects);
    for key in ["DINGTALK_APP_KEY", "DINGTALK_APP_SECRET"] {
        assert!(env.iter().any(|(k, _)| k == key), "the Secret holds {key}");
    }
    assert_valid_config("deploy/kubernetes", &env);

    // The store's volume is the claim, mounted where QUNGUAN_DATABASE_URL points.
    let claim_name = claim["metadata"]["name"].as_str().unwrap();
    let volumes = pod["spec"]["volumes"].as_vec().unwrap();
    let data = volumes
        .iter()
        .find(|v| v["persistentVolumeClaim"]["claimName"].as_str() == Some(claim_name))
        .expect("the claim is a volume");
    let mount = container["volumeMounts"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|m| m["name"] == data["name"])
        .expect("the claim is mounted");
    let database = env
        .iter()
        .find(|(k, _)| k == "QUNGUAN_DATABASE_URL")
        .unwrap();
    let mount_path = mount["mountPath"].as_str().unwrap();
    assert!(
        database.1.starts_with(&format!("sqlite://{mount_path}/")),
        "{database:?} is not on {mount_path}"
    );

    // Service → pod port; Ingress → Service, TLS, /callback only.
    assert_eq!(service["spec"]["selector"], spec["selector"]["matchLabels"]);
    let service_port = &service["spec"]["ports"][0];
    assert_eq!(service_port["targetPort"].as_str(), Some(port_name));
    let ingress_spec = &ingress["spec"];
    assert!(
        ingress_spec["tls"][0]["secretName"].as_str().is_some(),
        "TLS"
    );
    let paths = ingress_spec["rules"][0]["http"]["paths"].as_vec().unwrap();
    assert_eq!(paths.len(), 1, "only /callback is published");
    assert_eq!(paths[0]["path"].as_str(), Some("/callback"));
    let backend = &paths[0]["backend"]["service"];
    assert_eq!(backend["name"], service["metadata"]["name"]);
    assert_eq!(backend["port"]["name"], service_port["name"]);
}

#[test]
fn the_replica_variants_share_one_postgresql() {
    // Compose: a PostgreSQL service, two qunguan replicas pointed at it.
    let doc = &yaml("deploy/docker-compose.replicas.yml")[0];
    let postgres = &doc["services"]["postgres"];
    assert!(postgres["image"].as_str().unwrap().starts_with("postgres:"));
    let service = &doc["services"]["qunguan"];
    assert_eq!(service["deploy"]["replicas"].as_i64(), Some(2));
    assert_eq!(
        service["depends_on"]["postgres"]["condition"].as_str(),
        Some("service_healthy")
    );
    let env = compose_env(service);
    assert!(env.contains(&("QUNGUAN_REPLICAS".into(), "2".into())));
    let url = &env
        .iter()
        .find(|(k, _)| k == "QUNGUAN_DATABASE_URL")
        .unwrap()
        .1;
    assert!(
        url.starts_with("postgres://") && url.contains("@postgres:5432/"),
        "{url}"
    );
    assert_valid_config("deploy/docker-compose.replicas.yml", &env);

    // Kubernetes: two replicas, rolling, a disruption budget, the URL from the Secret.
    let objects = kustomized("deploy/kubernetes/replicas");
    let deployment = object(&objects, "Deployment");
    let spec = &deployment["spec"];
    assert_eq!(spec["replicas"].as_i64(), Some(2));
    assert_eq!(spec["strategy"]["type"].as_str(), Some("RollingUpdate"));
    assert_eq!(
        spec["strategy"]["rollingUpdate"]["maxUnavailable"].as_i64(),
        Some(0)
    );
    let pdb = object(&objects, "PodDisruptionBudget");
    assert_eq!(
        pdb["spec"]["selector"]["matchLabels"],
        spec["template"]["metadata"]["labels"]
    );
    assert_eq!(pdb["spec"]["minAvailable"].as_i64(), Some(1));
    let secret = object(&objects, "Secret");
    let url = secret["stringData"]["QUNGUAN_DATABASE_URL"]
        .as_str()
        .unwrap();
    assert!(
        url.starts_with("postgres://"),
        "the URL, with its password, is in the Secret"
    );
    let env = pod_settings(&objects);
    assert!(
        env.contains(&("QUNGUAN_REPLICAS".into(), "2".into())),
        "{env:?}"
    );
    let container = &spec["template"]["spec"]["containers"][0];
    for e in container["env"].as_vec().unwrap() {
        assert_ne!(
            e["name"].as_str(),
            Some("QUNGUAN_DATABASE_URL"),
            "not in plain env"
        );
    }
    assert!(
        objects
            .iter()
            .all(|o| o["kind"].as_str() != Some("PersistentVolumeClaim")),
        "the state is in PostgreSQL, not on a volume"
    );
    assert_valid_config("deploy/kubernetes/replicas", &env);
}

/// A compose service's `environment`, with `${NAME:?message}` and `${NAME}` replaced by a
/// placeholder value, as compose fills them in from `.env`.
fn compose_env(service: &Yaml) -> Vec<(String, String)> {
    service["environment"]
        .as_hash()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().into(),
                compose_filled(v.as_str().unwrap()),
            )
        })
        .collect()
}

/// `${NAME:?message}` and `${NAME}` replaced by a placeholder value, as compose would.
fn compose_filled(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        out.push_str("placeholder");
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether `program` can be run; a check that needs it is skipped (and says so) if not.
fn installed(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("SKIPPED: {program} is not installed");
    }
    found
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let unit = read("deploy/qunguan.service");
    assert!(unit.contains("ExecStart=/usr/local/bin/qunguan serve"));
    assert!(unit.contains("StateDirectory=qunguan"));
    assert!(unit.contains("QUNGUAN_DATABASE_URL=sqlite:///var/lib/qunguan/"));
    for hardening in [
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "DynamicUser=yes",
    ] {
        assert!(unit.contains(hardening), "{hardening}");
    }
    if !installed("systemd-analyze") {
        return;
    }
    // verify wants the binary to exist: point it at the one cargo built.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qunguan.service");
    let local = unit.replace("/usr/local/bin/qunguan", env!("CARGO_BIN_EXE_qunguan"));
    std::fs::write(&path, local).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let about_ours: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("qunguan.service"))
        .collect();
    assert!(
        out.status.success() && about_ours.is_empty(),
        "systemd-analyze verify: {stderr}"
    );
}

#[test]
fn the_nginx_config_passes_nginx_t_and_proxies_to_the_default_port() {
    let conf = read("deploy/nginx.conf");
    assert!(conf.contains(&format!("server 127.0.0.1:{};", default_port())));
    assert!(conf.contains("location = /callback"));
    for header in ["sign", "timestamp"] {
        assert!(
            !conf.contains(&format!("proxy_set_header {header} ")),
            "{header} must pass through untouched"
        );
    }
    if !installed("nginx") || !installed("openssl") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=bot.example.com"])
        .args(["-keyout", &format!("{d}/qunguan.key")])
        .args(["-out", &format!("{d}/qunguan.crt")])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let local = conf
        .replace("/etc/nginx/tls", &d)
        .replace("/run/nginx.pid", &format!("{d}/nginx.pid"))
        .replace("/var/log/nginx", &d);
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, local).unwrap();
    let out = Command::new("nginx")
        .args(["-t", "-q", "-p", &d, "-e", &format!("{d}/error.log"), "-c"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "nginx -t: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
