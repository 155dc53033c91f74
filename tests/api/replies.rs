//! The reply path: sessionWebhook first, the OpenAPI group send when it cannot be used.

use std::{
    collections::HashMap,
    io::Read,
    sync::atomic::{AtomicUsize, Ordering},
    time::Duration,
};

use futures_util::{StreamExt, stream};
use qunguan::clock::now_ms;
use qunguan_simulator::SESSION_WEBHOOK_PATH;
use serde_json::{Value, json};

use crate::{fake::FakeDingTalk, helpers::*, process::*};

async fn openapi_reply(app: &TestApp) -> Value {
    app.fake
        .wait_until("OpenAPI group send", Duration::from_secs(10), |rs| {
            rs.iter()
                .any(|r| r.path == "/v1.0/robot/groupMessages/send")
        })
        .await;
    app.fake.requests_to("/v1.0/robot/groupMessages/send")[0].json()
}

fn assert_openapi_message(sent: &Value, wants: &str) {
    assert_eq!(
        sent["robotCode"], ROBOT_CODE,
        "the configured robot code, not the callback's"
    );
    assert_eq!(sent["openConversationId"], CID);
    assert_eq!(sent["msgKey"], "sampleMarkdown");
    let param: Value = serde_json::from_str(
        sent["msgParam"]
            .as_str()
            .expect("msgParam is a JSON string"),
    )
    .unwrap();
    assert!(!param["title"].as_str().unwrap().is_empty());
    assert!(param["text"].as_str().unwrap().contains(wants), "{param}");
}

#[tokio::test]
async fn an_expired_webhook_is_not_used_and_the_openapi_carries_the_reply() {
    let app = spawn_app().await;
    let mut body = app.group_message(MEMBER, "/whoami");
    body["sessionWebhookExpiredTime"] = json!(now_ms() - 1000);
    assert!(app.post_callback(&body).await.status().is_success());
    let sent = openapi_reply(&app).await;
    assert_openapi_message(&sent, MEMBER);
    let call = &app.fake.requests_to("/v1.0/robot/groupMessages/send")[0];
    assert_eq!(call.headers["x-acs-dingtalk-access-token"], "api-token-1");
    assert_eq!(app.fake.count("/robot/sendBySession"), 0);
}

#[tokio::test]
async fn a_webhook_expiring_within_a_minute_is_not_used() {
    let app = spawn_app().await;
    let mut body = app.group_message(MEMBER, "/help");
    body["sessionWebhookExpiredTime"] = json!(now_ms() + 30_000);
    app.post_callback(&body).await;
    openapi_reply(&app).await;
    assert_eq!(app.fake.count("/robot/sendBySession"), 0);
}

#[tokio::test]
async fn a_300001_answer_falls_back_to_the_openapi() {
    let app = spawn_app().await;
    app.fake.script(
        "POST",
        "/robot/sendBySession",
        200,
        json!({"errcode": 300001, "errmsg": "session 不存在"}),
        Duration::ZERO,
    );
    let body = app.group_message(MEMBER, "/whoami");
    app.post_callback(&body).await;
    let sent = openapi_reply(&app).await;
    assert_openapi_message(&sent, MEMBER);
    assert_eq!(app.fake.count("/robot/sendBySession"), 1);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"qunguan_replies_total{path="webhook",outcome="failed"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"qunguan_replies_total{path="openapi",outcome="ok"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_foreign_session_webhook_is_never_contacted() {
    let app = spawn_app().await;
    let elsewhere = FakeDingTalk::start().await;
    let oapi_port = app.fake.addr.port();
    let foreign = [
        elsewhere.webhook_url("x"),
        format!("http://127.0.0.1:{oapi_port}/robot/other?session=x"),
        format!("http://user:pw@127.0.0.1:{oapi_port}/robot/sendBySession?session=x"),
        format!("https://127.0.0.1:{oapi_port}/robot/sendBySession?session=x"),
        "not a url".to_owned(),
    ];
    for (i, url) in foreign.iter().enumerate() {
        let mut body = app.group_message(MEMBER, "/help");
        body["sessionWebhook"] = json!(url);
        app.post_callback(&body).await;
        app.fake
            .wait_until("fallback", Duration::from_secs(10), |rs| {
                rs.iter()
                    .filter(|r| r.path == "/v1.0/robot/groupMessages/send")
                    .count()
                    > i
            })
            .await;
    }
    app.settle().await;
    assert!(
        elsewhere.requests().is_empty(),
        "the foreign host was contacted"
    );
    assert_eq!(app.fake.count("/robot/sendBySession"), 0);
    assert_eq!(app.fake.count("/robot/other"), 0);
}

#[tokio::test]
async fn a_sender_without_staff_id_gets_a_reply_without_mention() {
    let app = spawn_app().await;
    let mut body = app.group_message(MEMBER, "/help");
    body.as_object_mut().unwrap().remove("senderStaffId");
    let reply = app.ask(&body).await;
    assert!(reply.get("at").is_none(), "{reply}");
    assert!(reply_text(&reply).contains("/help"));
}

#[tokio::test]
async fn when_both_paths_fail_the_failure_is_counted_and_the_server_stays_healthy() {
    let app = spawn_app().await;
    app.fake.script(
        "POST",
        "/robot/sendBySession",
        500,
        json!("down"),
        Duration::ZERO,
    );
    for _ in 0..3 {
        app.fake.script(
            "POST",
            "/v1.0/robot/groupMessages/send",
            503,
            json!("down"),
            Duration::ZERO,
        );
    }
    app.post_callback(&app.group_message(MEMBER, "/help")).await;
    app.fake
        .wait_until("the OpenAPI attempt", Duration::from_secs(10), |rs| {
            rs.iter()
                .any(|r| r.path == "/v1.0/robot/groupMessages/send")
        })
        .await;
    app.settle().await;
    assert!(
        app.metrics()
            .await
            .contains(r#"qunguan_replies_total{path="openapi",outcome="failed"} 1"#)
    );
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn in_a_direct_chat_the_fallback_is_the_one_to_one_send() {
    let app = spawn_app().await;
    let mut body = app.direct_message(MEMBER, "/whoami");
    body["sessionWebhookExpiredTime"] = json!(now_ms() - 1000);
    app.post_callback(&body).await;
    app.fake
        .wait_until("the 1:1 send", Duration::from_secs(10), |rs| {
            rs.iter()
                .any(|r| r.path == "/v1.0/robot/oToMessages/batchSend")
        })
        .await;
    let sent = app.fake.requests_to("/v1.0/robot/oToMessages/batchSend")[0].json();
    assert_eq!(sent["robotCode"], ROBOT_CODE);
    assert_eq!(sent["userIds"], json!([MEMBER]));
    assert_eq!(sent["msgKey"], "sampleMarkdown");
    assert!(
        sent["msgParam"].as_str().unwrap().contains(MEMBER),
        "{sent}"
    );
    assert_eq!(app.fake.count("/v1.0/robot/groupMessages/send"), 0);
}

/// A `/help` for the binary, replying to the fake with session = msgId.
fn help_message(fake: &FakeDingTalk) -> Value {
    let mut body = info_message(fake);
    body["text"]["content"] = json!(" /help");
    body
}

/// Under `ulimit -n 1024`, 5,000 callbacks while DingTalk is slow to answer replies: every
/// callback answered 200 gets its reply once (503s are fine), the connections to DingTalk
/// do not grow with the backlog, and no file descriptor runs out.
#[tokio::test]
async fn a_burst_under_a_1024_file_limit_loses_no_acknowledged_reply() {
    let fake = FakeDingTalk::start().await;
    fake.add_group(CHAT, CID, OWNER, &[OWNER, MEMBER, ADMIN]);
    let limit = rlimit::increase_nofile_limit(8192).unwrap();
    assert!(
        limit >= 4096,
        "this test needs 4,096 open files; the hard limit is {limit}"
    );
    let dir = tempfile::tempdir().unwrap();
    // Soft and hard: qunguan raises its soft limit to the hard one at start-up.
    let (mut child, base) = spawn_binary_with_file_limit(&fake, dir.path(), &[], 1024);
    let mut stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        log
    });
    wait_healthy(&base).await;
    // DingTalk answers no reply until the burst has outrun the replies.
    fake.hold(SESSION_WEBHOOK_PATH);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(200)
        .build()
        .unwrap();
    let busy = AtomicUsize::new(0);
    let bodies: Vec<Value> = (0..5_000).map(|_| help_message(&fake)).collect();
    let burst = stream::iter(&bodies)
        .map(|body| async {
            let ts = now_ms().to_string();
            let answer = http
                .post(format!("{base}/callback"))
                .header("timestamp", &ts)
                .header("sign", sign(&ts))
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await;
            let status = answer.map(|r| r.status().as_u16()).unwrap_or(0);
            if status == 503 {
                busy.fetch_add(1, Ordering::Relaxed);
            }
            (body["msgId"].as_str().unwrap().to_owned(), status)
        })
        .buffer_unordered(200)
        .collect::<Vec<_>>();
    let release = async {
        eventually("the burst to outrun the replies", async || {
            busy.load(Ordering::Relaxed) > 0
        })
        .await;
        fake.release(SESSION_WEBHOOK_PATH);
    };
    let (answered, ()) = tokio::join!(burst, release);
    let accepted: Vec<&String> = answered
        .iter()
        .filter(|(_, status)| *status == 200)
        .map(|(id, _)| id)
        .collect();
    assert!(accepted.len() >= 1_000, "{} accepted", accepted.len());
    let sessions = || -> HashMap<String, usize> {
        fake.with_requests(|rs| {
            let mut replies = HashMap::new();
            for r in rs.iter().filter(|r| r.path == "/robot/sendBySession") {
                *replies.entry(r.query["session"].clone()).or_default() += 1;
            }
            replies
        })
    };
    eventually("a reply to every acknowledged callback", async || {
        let replies = sessions();
        accepted.iter().all(|id| replies.contains_key(*id))
    })
    .await;
    let replies = sessions();
    assert!(
        accepted.iter().all(|id| replies[*id] == 1),
        "each answered once"
    );
    let peak = fake.connections().peak();
    assert!(
        peak <= 2 * qunguan::dingtalk::MAX_CONNECTIONS_PER_HOST,
        "{peak} connections to DingTalk at once"
    );
    let (status, _) = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    let log = log.join().unwrap();
    assert!(status.success(), "{status}: {log}");
    assert!(!log.contains("Too many open files"), "{log}");
    assert!(
        log.contains("open files") && log.contains("hard=1024"),
        "{log}"
    );
}
