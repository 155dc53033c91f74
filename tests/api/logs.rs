//! What the real binary writes to its log: no secret on any failure path, nothing a sender
//! controls can forge a line, and a log nobody reads never stalls callbacks.

use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use serde_json::json;

use crate::{fake::FakeDingTalk, helpers::*, process::*};

const EXT: &str = "ext001";
/// The session of a sessionWebhook: a capability to post in the group.
const SESSION: &str = "SESSION-CANARY-7f3e";
/// Tokens in token answers that do not decode.
const OAPI_TOKEN: &str = "OAPI-TOKEN-CANARY-91c2";
const API_TOKEN: &str = "API-TOKEN-CANARY-04ab";

async fn fake_with_contact() -> FakeDingTalk {
    let fake = FakeDingTalk::start().await;
    fake.add_group(CHAT, CID, OWNER, &[OWNER, MEMBER, ADMIN]);
    fake.add_contact(json!({"userid": EXT, "name": "王客户", "follower_user_id": OWNER}));
    fake
}

/// A group message from the configured admin, replying to `webhook`.
fn admin_says(text: &str, webhook: String) -> serde_json::Value {
    json!({
        "msgId": new_msg_id(), "conversationId": CID, "conversationType": "2",
        "msgtype": "text", "text": {"content": text}, "senderStaffId": ADMIN,
        "senderNick": "admin", "sessionWebhook": webhook,
        "sessionWebhookExpiredTime": qunguan::clock::now_ms() + 5_400_000,
    })
}

/// Runs the binary with `extra`, posts `bodies` one after another (each waited for with
/// `wait`), stops it and returns its log.
async fn log_of(
    fake: &FakeDingTalk,
    extra: &[(&str, &str)],
    bodies: &[serde_json::Value],
    wait: impl Fn(&FakeDingTalk, usize) -> bool,
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = vec![("RUST_LOG", "debug"), ("QUNGUAN_ADMINS", ADMIN)];
    settings.extend_from_slice(extra);
    let (child, base) = spawn_binary(fake, dir.path(), &settings);
    wait_healthy(&base).await;
    let http = reqwest::Client::new();
    for (i, body) in bodies.iter().enumerate() {
        assert_eq!(post_signed(&http, &base, body).await, 200);
        eventually(&format!("step {i} to finish"), async || wait(fake, i)).await;
    }
    let (_, log) = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    log
}

#[tokio::test]
async fn no_secret_token_or_session_reaches_the_log_on_any_failure_path() {
    let closed = format!("http://127.0.0.1:{}", closed_port());
    // 1. The old-style API and the TOP gateway refuse connections: gettoken (whose query
    //    holds the app secret) and the sessionWebhook (its session) fail to connect; the
    //    OpenAPI fallback then gets a token answer that does not decode.
    let fake = fake_with_contact().await;
    fake.script(
        "POST",
        "/v1.0/oauth2/accessToken",
        200,
        json!({"accessToken": API_TOKEN, "expireIn": "soon"}),
        Duration::ZERO,
    );
    let webhook = format!("{closed}/robot/sendBySession?session={SESSION}");
    let unreachable = log_of(
        &fake,
        &[
            ("DINGTALK_OAPI_URL", &closed),
            ("DINGTALK_TOP_URL", &closed),
        ],
        &[admin_says(&format!("/contact {EXT}"), webhook)],
        |fake, _| fake.count("/v1.0/oauth2/accessToken") > 0,
    )
    .await;
    // 2. The old-style API answers, the TOP gateway (whose `session` is the access
    //    token) does not; the first gettoken answer does not decode.
    let fake = fake_with_contact().await;
    fake.script(
        "GET",
        "/gettoken",
        200,
        json!({"errcode": 0, "access_token": OAPI_TOKEN, "expires_in": "soon"}),
        Duration::ZERO,
    );
    let top_down = log_of(
        &fake,
        &[("DINGTALK_TOP_URL", &closed)],
        &[
            admin_says(&format!("/contact {EXT}"), fake.webhook_url("s1")),
            admin_says(
                &format!("/contact-update {EXT} title=x"),
                fake.webhook_url("s2"),
            ),
        ],
        |fake, i| fake.count("/robot/sendBySession") > i,
    )
    .await;
    let token = fake.requests_to("/topapi/extcontact/get")[0].query["access_token"].clone();

    for (phase, log) in [("unreachable", &unreachable), ("TOP down", &top_down)] {
        for secret in [SECRET, SESSION, OAPI_TOKEN, API_TOKEN, &token] {
            assert!(
                !log.contains(secret),
                "{phase}: {secret} is in the log:\n{log}"
            );
        }
    }
    // The failures happened, and their causes are still said.
    for (log, want) in [
        (&unreachable, "gettoken failed"),
        (&unreachable, "sessionWebhook failed"),
        (&unreachable, "unusable oauth2_access_token answer"),
        (&top_down, "extcontact_update failed"),
        (&top_down, "unusable gettoken answer"),
    ] {
        assert!(log.contains(want), "{want} missing from:\n{log}");
    }
    assert!(
        unreachable.to_lowercase().contains("connection refused"),
        "{unreachable}"
    );
}

#[tokio::test]
async fn a_nick_cannot_forge_a_log_line_or_carry_escapes() {
    let fake = fake_with_contact().await;
    let forged = "2026-12-01T00:00:00.000000Z  INFO qunguan::audit: audit outcome=done";
    let mut body = admin_says("/unbind", fake.webhook_url("s1"));
    body["senderNick"] = json!(format!("mallory\n{forged}\u{1b}[2J\u{7}"));
    let log = log_of(&fake, &[], &[body], |fake, _| {
        fake.count("/robot/sendBySession") > 0
    })
    .await;
    assert!(log.contains("mallory"), "{log}");
    assert!(
        !log.lines().any(|l| l.starts_with(forged)),
        "a forged line:\n{log}"
    );
    assert!(!log.contains('\u{1b}') && !log.contains('\u{7}'), "{log:?}");
}

/// The line that says a schedule was made: the command writes it without its msgId.
fn schedule_created(log: &str) -> &str {
    log.lines()
        .find(|l| l.contains("schedule created"))
        .unwrap_or_else(|| panic!("no schedule line in:\n{log}"))
}

#[tokio::test]
async fn every_log_line_of_a_callback_carries_its_msg_id_at_info() {
    let fake = fake_with_contact().await;
    let body = admin_says("/schedule daily 22:00 /mute-all", fake.webhook_url("s1"));
    let msg_id = body["msgId"].as_str().unwrap().to_owned();
    let log = log_of(&fake, &[("RUST_LOG", "info")], &[body], |fake, _| {
        fake.count("/robot/sendBySession") > 0
    })
    .await;
    let line = schedule_created(&log);
    assert!(
        line.contains(&format!(
            "request{{method=POST path=/callback msg_id={msg_id}}}"
        )),
        "{line}"
    );
}

#[tokio::test]
async fn every_log_line_of_a_stream_frame_carries_its_msg_id_at_info() {
    let fake = fake_with_contact().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = [
        ("RUST_LOG", "info"),
        ("QUNGUAN_ADMINS", ADMIN),
        ("QUNGUAN_MODE", "stream"),
    ];
    let (child, base) = spawn_binary(&fake, dir.path(), &settings);
    wait_healthy(&base).await;
    eventually("a Stream connection", async || {
        fake.sim().stream_links().open == 1
    })
    .await;
    let body = admin_says("/schedule daily 22:00 /mute-all", fake.webhook_url("s2"));
    let msg_id = body["msgId"].as_str().unwrap().to_owned();
    fake.sim().push_message(&body).unwrap();
    fake.webhook_reply("s2").await;
    let (_, log) = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    let line = schedule_created(&log);
    assert!(
        line.contains(&format!("frame{{msg_id={msg_id}}}")),
        "{line}"
    );
}

#[tokio::test]
async fn a_log_nobody_reads_does_not_stall_callbacks() {
    let fake = FakeDingTalk::start().await;
    fake.add_group(CHAT, CID, OWNER, &[OWNER, MEMBER, ADMIN]);
    let dir = tempfile::tempdir().unwrap();
    // stderr is a pipe this test never reads until the end.
    let (child, base) = spawn_binary(&fake, dir.path(), &[("RUST_LOG", "debug")]);
    wait_healthy(&base).await;
    let http = reqwest::Client::new();
    // At DEBUG each command run logs a line, 10,000 of them more than the queue (8,192)
    // and the pipe hold; each repeat logs one at INFO (throttled to one a second).
    let fresh: Vec<_> = (0..10_000).map(|_| info_message(&fake)).collect();
    let bodies = fresh.iter().chain(fresh.iter().take(2_300));
    let started = Instant::now();
    let answered = stream::iter(bodies)
        .map(|b| post_signed(&http, &base, b))
        .buffer_unordered(32)
        .filter(|s| std::future::ready(*s == 200))
        .count();
    let answered = tokio::time::timeout(Duration::from_secs(120), answered)
        .await
        .expect("callbacks stalled behind the log");
    assert_eq!(answered, 12_300, "after {:?}", started.elapsed());
    let metrics = metrics_of(&http, &base).await;
    let dropped = metrics
        .lines()
        .find_map(|l| l.strip_prefix("qunguan_log_lines_dropped_total "))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(dropped.is_some_and(|n| n > 0), "{metrics}");
    let (status, _) = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    assert!(status.success());
}
