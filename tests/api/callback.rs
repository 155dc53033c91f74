//! Decoding, size limit, dedupe, message types and acknowledgement.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::*;

/// A valid group callback padded to exactly `size` bytes.
fn padded(app: &TestApp, size: usize) -> Vec<u8> {
    let mut body = app.group_message(MEMBER, "/help");
    body["padding"] = json!("");
    let base = body.to_string().len();
    body["padding"] = json!("p".repeat(size - base));
    let bytes = body.to_string().into_bytes();
    assert_eq!(bytes.len(), size);
    bytes
}

async fn post_bytes(app: &TestApp, body: Vec<u8>) -> reqwest::Response {
    let ts = qunguan::clock::now_ms().to_string();
    app.post_raw(&[("timestamp", &ts), ("sign", &sign(&ts))], body)
        .await
}

#[tokio::test]
async fn the_body_limit_is_exactly_64_kib() {
    let app = spawn_app().await;
    assert_eq!(post_bytes(&app, padded(&app, 65_536)).await.status(), 200);
    assert_eq!(post_bytes(&app, padded(&app, 65_537)).await.status(), 413);
    assert!(
        app.metrics()
            .await
            .contains(r#"qunguan_callbacks_total{transport="http",outcome="too_large"} 1"#)
    );
}

#[tokio::test]
async fn undecodable_or_incomplete_bodies_get_400() {
    let app = spawn_app().await;
    assert_eq!(post_bytes(&app, b"{not json".to_vec()).await.status(), 400);
    let mut no_msg_id = app.group_message(MEMBER, "/help");
    no_msg_id.as_object_mut().unwrap().remove("msgId");
    assert_eq!(
        post_bytes(&app, no_msg_id.to_string().into_bytes())
            .await
            .status(),
        400
    );
    app.settle().await;
    assert!(app.fake.requests().is_empty());
}

#[tokio::test]
async fn numbers_and_strings_are_accepted_where_dingtalk_varies() {
    let app = spawn_app().await;
    let mut body = app.group_message(MEMBER, "/help");
    body["createAt"] = json!(body["createAt"].to_string());
    body["conversationType"] = json!(2);
    body["sessionWebhookExpiredTime"] = json!(body["sessionWebhookExpiredTime"].to_string());
    body["unknownNewField"] = json!({"x": [1, 2]});
    let reply = app.ask(&body).await;
    assert!(reply_text(&reply).contains("/help"));
}

#[tokio::test]
async fn a_repeated_msg_id_is_acknowledged_and_not_run_again() {
    let app = spawn_app().await;
    let body = app.group_message(MEMBER, "/help");
    app.ask(&body).await;
    let again = app.post_callback(&body).await;
    assert!(again.status().is_success());
    app.settle().await;
    assert_eq!(app.fake.count("/robot/sendBySession"), 1);
    assert!(
        app.metrics()
            .await
            .contains(r#"qunguan_callbacks_total{transport="http",outcome="duplicate"} 1"#)
    );
}

#[tokio::test]
async fn concurrent_deliveries_of_one_msg_id_run_once() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let body = app.group_message(ADMIN, "/lock-friending");
    let responses = join_all((0..20).map(|_| app.post_callback(&body))).await;
    assert!(responses.iter().all(|r| r.status().is_success()));
    app.fake
        .webhook_reply(body["msgId"].as_str().unwrap())
        .await;
    app.settle().await;
    assert_eq!(app.fake.count("/topapi/chat/member/friendswitch/update"), 1);
    // The bind reply and the lock reply.
    assert_eq!(app.fake.count("/robot/sendBySession"), 2);
}

#[tokio::test]
async fn rich_text_commands_from_harmonyos_work() {
    let app = spawn_app().await;
    let mut body = app.group_message(MEMBER, "");
    body["msgtype"] = json!("richText");
    body.as_object_mut().unwrap().remove("text");
    body["content"] = json!({"richText": [{"text": "@群管机器人"}, {"text": "/whoami"}, {"type": "picture", "downloadCode": "x"}]});
    let text = reply_text(&app.ask(&body).await);
    assert!(text.contains(MEMBER), "{text}");
}

#[tokio::test]
async fn pictures_are_ignored_in_groups_and_answered_in_direct_chats() {
    let app = spawn_app().await;
    let mut group = app.group_message(MEMBER, "");
    group["msgtype"] = json!("picture");
    group["content"] = json!({"downloadCode": "x"});
    assert!(app.post_callback(&group).await.status().is_success());
    app.settle().await;
    assert!(app.fake.requests().is_empty());

    let mut direct = app.direct_message(MEMBER, "");
    direct["msgtype"] = json!("picture");
    direct["content"] = json!({"downloadCode": "x"});
    let text = reply_text(&app.ask(&direct).await);
    assert!(text.contains("/help"), "{text}");
}

#[tokio::test]
async fn the_callback_is_acknowledged_before_dingtalk_answers() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    app.fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": 0, "chat_info": {"name": "slow"}}),
        Duration::from_millis(1500),
    );
    let body = app.group_message(MEMBER, "/info");
    let response = app.post_callback(&body).await;
    assert_eq!(response.status(), 200);
    // Acknowledged while chat/get is still being held by the fake.
    assert!(
        !app.fake
            .requests_to("/robot/sendBySession")
            .iter()
            .any(|r| r.query["session"] == body["msgId"])
    );
    let text = reply_text(
        &app.fake
            .webhook_reply(body["msgId"].as_str().unwrap())
            .await,
    );
    assert!(text.contains("slow"), "{text}");
}

#[tokio::test]
async fn a_burst_of_hundreds_is_all_acknowledged_and_all_answered() {
    let app = spawn_app().await;
    let bodies: Vec<_> = (0..300)
        .map(|_| app.group_message(MEMBER, "/help"))
        .collect();
    let responses = join_all(bodies.iter().map(|b| app.post_callback(b))).await;
    assert!(responses.iter().all(|r| r.status().is_success()));
    app.fake
        .wait_until("300 replies", Duration::from_secs(30), |rs| {
            rs.iter()
                .filter(|r| r.path == "/robot/sendBySession")
                .count()
                >= 300
        })
        .await;
    app.settle().await;
    assert_eq!(app.fake.count("/robot/sendBySession"), 300);
}

#[tokio::test]
async fn a_full_worker_answers_503_with_retry_after_and_keeps_the_msg_id() {
    let app = spawn_app_with(&[("QUNGUAN_MAX_IN_FLIGHT", "1")]).await;
    app.bind_sample_group().await;
    app.fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": 0, "chat_info": {"name": "held"}}),
        Duration::from_millis(1000),
    );
    let first = app.group_message(MEMBER, "/info");
    assert_eq!(app.post_callback(&first).await.status(), 200);
    app.fake
        .wait_until("chat/get", Duration::from_secs(5), |rs| {
            rs.iter().any(|r| r.path == "/chat/get")
        })
        .await;
    let second = app.group_message(MEMBER, "/help");
    let response = app.post_callback(&second).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    app.fake
        .webhook_reply(first["msgId"].as_str().unwrap())
        .await;
    app.settle().await;
    // DingTalk's retry of the refused callback is processed.
    app.ask(&second).await;
}
