//! The DingTalk client as seen from outside: tokens, retries, error replies.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn fifty_concurrent_commands_fetch_one_token() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    assert_eq!(
        app.fake.count("/gettoken"),
        0,
        "start-up binding uses the new-style token only"
    );
    // friendswitch answers are not cached, so each command makes its own call.
    let bodies: Vec<_> = (0..50)
        .map(|_| app.group_message(ADMIN, "/lock-friending"))
        .collect();
    join_all(bodies.iter().map(|b| app.ask(b))).await;
    assert_eq!(
        app.fake.count("/topapi/chat/member/friendswitch/update"),
        50
    );
    assert_eq!(app.fake.count("/gettoken"), 1);
}

#[tokio::test]
async fn concurrent_info_commands_share_one_chat_get() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    let bodies: Vec<_> = (0..50)
        .map(|_| app.group_message(MEMBER, "/info"))
        .collect();
    let replies = join_all(bodies.iter().map(|b| app.ask(b))).await;
    assert!(replies.iter().all(|r| reply_text(r).contains(OWNER)));
    assert_eq!(app.fake.count("/chat/get"), 1);
    assert_eq!(app.fake.count("/gettoken"), 1);
}

#[tokio::test]
async fn an_invalidated_token_is_refreshed_once() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    app.say(ADMIN, "/lock-friending").await;
    assert_eq!(app.fake.count("/gettoken"), 1);
    app.fake.revoke_tokens();
    let bodies: Vec<_> = (0..10)
        .map(|_| app.group_message(ADMIN, "/unlock-friending"))
        .collect();
    let replies = join_all(bodies.iter().map(|b| app.ask(b))).await;
    for reply in &replies {
        assert!(reply_text(reply).contains("may add each other"), "{reply}");
    }
    assert_eq!(app.fake.count("/gettoken"), 2);
}

#[tokio::test]
async fn a_late_token_refusal_reuses_the_token_another_call_already_refreshed() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    app.say(ADMIN, "/lock-friending").await;
    let path = "/topapi/chat/member/friendswitch/update";
    // A's call is refused with the old token only after B's refusal caused a refresh:
    // A must retry with B's new token instead of throwing it away and fetching another.
    app.fake.script(
        "POST",
        path,
        200,
        json!({"errcode": 42001}),
        Duration::from_millis(500),
    );
    app.fake
        .script("POST", path, 200, json!({"errcode": 40014}), Duration::ZERO);
    let a = app.group_message(ADMIN, "/unlock-friending");
    assert!(app.post_callback(&a).await.status().is_success());
    app.fake
        .wait_until("A's call", Duration::from_secs(5), |rs| {
            rs.iter().filter(|r| r.path == path).count() >= 2
        })
        .await;
    let b = app.group_message(ADMIN, "/unlock-friending");
    let (reply_a, reply_b) = tokio::join!(
        app.fake.webhook_reply(a["msgId"].as_str().unwrap()),
        app.ask(&b)
    );
    assert!(
        reply_text(&reply_a).contains("may add each other"),
        "{reply_a}"
    );
    assert!(
        reply_text(&reply_b).contains("may add each other"),
        "{reply_b}"
    );
    assert_eq!(app.fake.count("/gettoken"), 2);
}

#[tokio::test]
async fn a_transient_error_is_retried() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    app.fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": -1, "errmsg": "系统繁忙"}),
        Duration::ZERO,
    );
    app.fake.script(
        "GET",
        "/chat/get",
        502,
        json!("bad gateway"),
        Duration::ZERO,
    );
    let text = app.say(MEMBER, "/info").await;
    assert!(text.contains(&format!("group {CHAT}")), "{text}");
    assert_eq!(app.fake.count("/chat/get"), 3);
}

#[tokio::test]
async fn persistent_failure_gives_up_after_three_attempts_and_says_so() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    for _ in 0..3 {
        app.fake.script(
            "GET",
            "/chat/get",
            200,
            json!({"errcode": 400001}),
            Duration::ZERO,
        );
    }
    let text = app.say(MEMBER, "/info").await;
    assert!(text.contains("slow or unreachable"), "{text}");
    assert_eq!(app.fake.count("/chat/get"), 3);
}

#[tokio::test]
async fn permission_errors_name_the_missing_permission() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    app.fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": 43007, "errmsg": "没有调用权限"}),
        Duration::ZERO,
    );
    let text = app.say(MEMBER, "/info").await;
    assert!(
        text.contains("qyapi_chat_read") && !text.contains("没有调用权限"),
        "{text}"
    );
    app.fake.script(
        "POST",
        "/topapi/chat/member/friendswitch/update",
        200,
        json!({"errcode": 88, "sub_code": "60011", "sub_msg": "没有调用该接口的权限", "request_id": "req-77"}),
        Duration::ZERO,
    );
    let text = app.say(ADMIN, "/lock-friending").await;
    assert!(
        text.contains("qyapi_chat_manage") && text.contains("req-77"),
        "{text}"
    );
}

#[tokio::test]
async fn invalid_chatid_and_ip_whitelist_errors_are_actionable() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    app.fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": 40016}),
        Duration::ZERO,
    );
    assert!(app.say(MEMBER, "/info").await.contains("rebind"));
    app.fake.script(
        "POST",
        "/topapi/chat/member/friendswitch/update",
        200,
        json!({"errcode": 60020}),
        Duration::ZERO,
    );
    assert!(
        app.say(ADMIN, "/lock-friending")
            .await
            .contains("egress IP")
    );
}

#[tokio::test]
async fn dingtalk_calls_are_counted_by_api_and_errcode() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    app.fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": -1}),
        Duration::ZERO,
    );
    app.say(MEMBER, "/info").await;
    let metrics = app.metrics().await;
    for want in [
        r#"qunguan_dingtalk_calls_total{api="chat_get",errcode="-1"} 1"#,
        r#"qunguan_dingtalk_calls_total{api="chat_get",errcode="0"} 1"#,
        r#"qunguan_dingtalk_calls_total{api="gettoken",errcode="0"} 1"#,
        r#"qunguan_replies_total{path="webhook",outcome="ok"} 1"#,
        r#"qunguan_commands_total{command="info",outcome="done"} 1"#,
        r#"qunguan_callbacks_total{transport="http",outcome="accepted"} 1"#,
    ] {
        assert!(metrics.contains(want), "{want} missing from\n{metrics}");
    }
}

#[tokio::test]
async fn a_command_past_its_deadline_says_dingtalk_is_slow() {
    let app = spawn_app_with(&[
        ("QUNGUAN_GROUPS", CHAT),
        ("QUNGUAN_COMMAND_TIMEOUT_SECS", "1"),
    ])
    .await;
    app.fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": 0, "chat_info": {}}),
        Duration::from_secs(3),
    );
    let text = app.say(MEMBER, "/info").await;
    assert!(text.contains("slow or unreachable"), "{text}");
    assert!(
        app.metrics()
            .await
            .contains(r#"qunguan_commands_total{command="info",outcome="timeout"} 1"#)
    );
}
