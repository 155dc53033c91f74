//! Start-up, configuration errors, health, restarts and shutdown.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn bindings_survive_a_restart() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let app = app.restart().await;
    let text = app.say(MEMBER, "/info").await;
    assert!(
        text.contains(CHAT) && text.contains(&format!("group {CHAT}")),
        "{text}"
    );
}

#[tokio::test]
async fn seen_msg_ids_survive_a_restart() {
    let app = spawn_app().await;
    let body = app.group_message(MEMBER, "/help");
    app.ask(&body).await;
    let app = app.restart().await;
    assert!(app.post_callback(&body).await.status().is_success());
    app.settle().await;
    assert_eq!(
        app.fake.count("/robot/sendBySession"),
        1,
        "a replayed msgId ran again"
    );
}

#[tokio::test]
async fn health_readiness_and_metrics_are_served() {
    let app = spawn_app().await;
    let get = |path: &str| app.http.get(app.url(path)).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().text().await.unwrap(), "ready");
    app.say(MEMBER, "/help").await;
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("# TYPE qunguan_callbacks counter"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"qunguan_commands_total{command="help",outcome="done"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn stopping_lets_running_commands_finish() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    app.fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": 0, "chat_info": {"name": "late"}}),
        Duration::from_millis(800),
    );
    let body = app.group_message(MEMBER, "/info");
    assert_eq!(app.post_callback(&body).await.status(), 200);
    let TestApp { server, fake, .. } = app;
    server.stop().await.unwrap();
    // The reply was delivered before stop() returned.
    let replied = fake
        .requests_to("/robot/sendBySession")
        .iter()
        .any(|r| r.query["session"] == body["msgId"]);
    assert!(replied, "the running command was cut off");
}

fn qunguan() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qunguan"));
    cmd.env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

#[test]
fn missing_configuration_exits_fast_naming_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = qunguan()
        .current_dir(dir.path())
        .args(["serve"])
        .env("QUNGUAN_LANG", "fr")
        .output()
        .unwrap();
    // It exits in milliseconds; the bound only catches a hang or a retry loop and leaves
    // room for a loaded machine.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in ["DINGTALK_APP_KEY", "DINGTALK_APP_SECRET", "QUNGUAN_LANG"] {
        assert!(stderr.contains(name), "{name} missing from: {stderr}");
    }
}

#[test]
fn a_dotenv_file_in_the_working_directory_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DINGTALK_APP_KEY=k\nDINGTALK_APP_SECRET=s\nQUNGUAN_LISTEN=nonsense\n",
    )
    .unwrap();
    let out = qunguan()
        .current_dir(dir.path())
        .args(["serve"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("QUNGUAN_LISTEN") && !stderr.contains("DINGTALK_APP_KEY"),
        "{stderr}"
    );
}

#[test]
fn an_unopenable_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("missing-dir").join("q.db");
    let out = qunguan()
        .current_dir(dir.path())
        .args(["serve"])
        .env("DINGTALK_APP_KEY", "k")
        .env("DINGTALK_APP_SECRET", "s")
        .env("QUNGUAN_LISTEN", "127.0.0.1:0")
        .env(
            "QUNGUAN_DATABASE_URL",
            format!("sqlite://{}", bad.display()),
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains(&bad.display().to_string()), "{stderr}");
}

#[tokio::test]
async fn sigterm_stops_the_binary_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let port = crate::process::closed_port();
    let mut child = qunguan()
        .current_dir(dir.path())
        .args(["serve"])
        .env("DINGTALK_APP_KEY", "k")
        .env("DINGTALK_APP_SECRET", "s")
        .env("QUNGUAN_LISTEN", format!("127.0.0.1:{port}"))
        .env("DINGTALK_OAPI_URL", "http://127.0.0.1:9")
        .env("DINGTALK_API_URL", "http://127.0.0.1:9")
        .spawn()
        .unwrap();
    // The handler is installed before anything listens: once /healthz answers, SIGTERM
    // is a clean stop, however loaded the machine.
    crate::process::wait_healthy(&format!("http://127.0.0.1:{port}")).await;
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
}
