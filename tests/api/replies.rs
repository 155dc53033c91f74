//! The reply path: sessionWebhook first, the OpenAPI group send when it cannot be used.

use std::time::Duration;

use qunguan::clock::now_ms;
use serde_json::{Value, json};

use crate::{fake::FakeDingTalk, helpers::*};

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
