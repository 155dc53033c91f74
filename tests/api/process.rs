//! The real `qunguan` binary as a child process: spawning it against a fake DingTalk,
//! waiting for it, posting signed callbacks to it, stopping it and reading its log.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
};

use qunguan::clock::now_ms;
use serde_json::json;

use crate::{fake::FakeDingTalk, helpers::*};

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real binary, configured against `fake`, listening on a free port.
pub fn spawn_binary(
    fake: &FakeDingTalk,
    dir: &std::path::Path,
    extra: &[(&str, &str)],
) -> (Child, String) {
    let (mut cmd, base) = binary(
        Command::new(env!("CARGO_BIN_EXE_qunguan")),
        fake,
        dir,
        extra,
    );
    cmd.arg("serve");
    (cmd.spawn().unwrap(), base)
}

/// The same, run by `sh` under `ulimit -n {open_files}`.
pub fn spawn_binary_with_file_limit(
    fake: &FakeDingTalk,
    dir: &std::path::Path,
    extra: &[(&str, &str)],
    open_files: u32,
) -> (Child, String) {
    let mut sh = Command::new("sh");
    sh.args([
        "-c",
        &format!("ulimit -n {open_files} && exec \"$0\" serve"),
        env!("CARGO_BIN_EXE_qunguan"),
    ]);
    let (mut cmd, base) = binary(sh, fake, dir, extra);
    (cmd.spawn().unwrap(), base)
}

/// `cmd` with qunguan's settings pointing every DingTalk base URL at `fake`; stderr piped.
pub fn binary(
    mut cmd: Command,
    fake: &FakeDingTalk,
    dir: &std::path::Path,
    extra: &[(&str, &str)],
) -> (Command, String) {
    let port = closed_port();
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DINGTALK_APP_KEY", APP_KEY)
        .env("DINGTALK_APP_SECRET", SECRET)
        .env("DINGTALK_OAPI_URL", fake.base_url())
        .env("DINGTALK_API_URL", fake.base_url())
        .env(
            "DINGTALK_TOP_URL",
            format!("{}/router/rest", fake.base_url()),
        )
        .env("QUNGUAN_LISTEN", format!("127.0.0.1:{port}"))
        .env("QUNGUAN_GROUPS", CHAT)
        .env("QUNGUAN_LANG", "en")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    (cmd, format!("http://127.0.0.1:{port}"))
}

pub async fn wait_healthy(base: &str) {
    eventually("the binary to come up", async || {
        reqwest::get(format!("{base}/healthz")).await.is_ok()
    })
    .await;
}

pub async fn post_signed(
    http: &reqwest::Client,
    base: &str,
    body: &serde_json::Value,
) -> reqwest::StatusCode {
    let ts = now_ms().to_string();
    http.post(format!("{base}/callback"))
        .header("timestamp", &ts)
        .header("sign", sign(&ts))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
}

/// The binary's `/metrics` text.
pub async fn metrics_of(http: &reqwest::Client, base: &str) -> String {
    let response = http.get(format!("{base}/metrics")).send().await.unwrap();
    response.text().await.unwrap()
}

/// A group `/info` for the binary, replying to the fake with session = msgId.
pub fn info_message(fake: &FakeDingTalk) -> serde_json::Value {
    let msg_id = new_msg_id();
    json!({
        "msgId": msg_id, "conversationId": CID, "conversationType": "2", "msgtype": "text",
        "text": {"content": " /info"}, "senderStaffId": MEMBER, "senderNick": "m",
        "sessionWebhook": fake.webhook_url(&msg_id), "sessionWebhookExpiredTime": now_ms() + 5_400_000,
    })
}

pub fn sigterm_and_wait(child: Child) -> (std::process::ExitStatus, String) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
