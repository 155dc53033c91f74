//! A database password, in whatever form `QUNGUAN_DATABASE_URL` carries it, is in no output
//! of the real binary: not the start-up line, not the error of a database it cannot open,
//! not the refusal of a URL that does not parse.

use std::process::{Command, Output, Stdio};

use crate::{fake::FakeDingTalk, process::*};

const PASSWORD: &str = "PW-CANARY-9e4a";

/// `qunguan ARGS` with `database` as `QUNGUAN_DATABASE_URL`, at DEBUG, run to its end.
async fn run(fake: &FakeDingTalk, args: Vec<String>, database: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let settings = [("QUNGUAN_DATABASE_URL", database), ("RUST_LOG", "debug")];
    let (mut command, _) = binary(
        Command::new(env!("CARGO_BIN_EXE_qunguan")),
        fake,
        dir.path(),
        &settings,
    );
    command.args(args).stdout(Stdio::piped());
    tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("the binary runs")
}

#[tokio::test]
async fn a_database_password_is_in_no_output_in_any_form() {
    let fake = FakeDingTalk::start().await;
    let closed = closed_port();
    let host = format!("127.0.0.1:{closed}");
    let databases = [
        // Unreachable: the start-up line, then the error of opening it.
        format!("postgres://qunguan:{PASSWORD}@{host}/q"),
        format!("postgres://qunguan@{host}/q?password={PASSWORD}"),
        format!("postgresql://qunguan@{host}/q?sslmode=disable&PassWord={PASSWORD}"),
        format!("postgres://qunguan@{host}/q?pass%77ord={PASSWORD}"),
        // Not a URL that parses: the refusal.
        format!("postgres://qunguan:{PASSWORD}@127.0.0.1:port/q"),
        format!("postgres://qunguan@127.0.0.1:port/q?password={PASSWORD}"),
        format!("postgres://qunguan:{PASSWORD}/x@127.0.0.1/q"),
        // libpq's key=value form, which is refused.
        format!("host=127.0.0.1 port={closed} user=qunguan password={PASSWORD}"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[[policy]]\ngroups = \"all\"\nhistory = false\n").unwrap();
    let policy = policy.display().to_string();
    for database in &databases {
        let runs = [
            vec!["serve".to_owned()],
            vec!["policy".into(), "check".into(), policy.clone()],
        ];
        for args in runs {
            let out = run(&fake, args.clone(), database).await;
            let said = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(!out.status.success(), "{args:?} {database}: {said}");
            assert!(
                !said.contains(PASSWORD),
                "{args:?} {database}: the password is shown:\n{said}"
            );
            assert!(said.contains("QUNGUAN_DATABASE_URL"), "{args:?}: {said}");
        }
    }
}
