//! Hostile input through the real server: replies stay inert and bounded, odd bodies are
//! refused, extreme numbers do not wrap, and the replay defence has a ceiling.

use pulldown_cmark::{Event, Parser, Tag};
use serde_json::json;

use crate::helpers::*;

const EVIL: &str = "evil.example";

/// Asserts that `md`, rendered, has no link, image or HTML, and shows no markup of its own
/// besides what qunguan's replies use (paragraphs, lists, bold, code).
fn assert_inert(md: &str) {
    for event in Parser::new(md) {
        let bad = matches!(
            &event,
            Event::Start(
                Tag::Link { .. }
                    | Tag::Image { .. }
                    | Tag::Heading { .. }
                    | Tag::BlockQuote(_)
                    | Tag::Emphasis
                    | Tag::Strikethrough
            ) | Event::Html(_)
                | Event::InlineHtml(_)
        );
        assert!(!bad, "{event:?} in {md}");
    }
}

#[tokio::test]
async fn placeholders_in_a_members_text_do_not_multiply_the_reply() {
    let app = spawn_app().await;
    let key = "{2}".repeat(5_000);
    let body = app.group_message(MEMBER, &format!("/contact-update u1 {key}=x"));
    let text = reply_text(&app.ask(&body).await);
    assert!(text.contains('…'), "the echoed key is shortened: {text}");
    app.settle().await;
    let replies = app.fake.requests_to("/robot/sendBySession");
    assert_eq!(replies.len(), 1, "one message, one reply");
    assert!(
        replies[0].body.len() < 4_000,
        "{} bytes",
        replies[0].body.len()
    );
}

#[tokio::test]
async fn a_link_typed_as_a_command_comes_back_as_text() {
    let app = spawn_app().await;
    let typed = format!("/x`[点此重新登录](http://{EVIL}/login)![i](http://{EVIL}/i.png)");
    let text = app.say(MEMBER, &typed).await;
    assert!(text.contains(EVIL), "the text is shown, as text: {text}");
    assert_inert(&text);
}

#[tokio::test]
async fn nicks_titles_and_contact_fields_are_inert_in_replies() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    let link = format!("[点此](http://{EVIL}/x)");
    let mut body = app.group_message(ADMIN, "/lock-friending");
    body["senderNick"] = json!(format!("**{link}**\n# 通知"));
    body["conversationTitle"] = json!(format!("<a href=\"http://{EVIL}\">群</a>{link}"));
    let locked = reply_text(&app.ask(&body).await);
    assert!(locked.contains(EVIL), "{locked}");
    assert_inert(&locked);
    let audit = app.say(ADMIN, "/audit").await;
    assert!(audit.contains(EVIL), "the nick is listed: {audit}");
    assert_inert(&audit);

    app.fake.add_contact(json!({
        "userid": "ext9", "name": format!("_王_{link}"), "follower_user_id": OWNER,
        "remark": format!("![logo](http://{EVIL}/i.png) ~~x~~ <b>y</b>"),
        "address": "line1\n> quoted\n- item", "label_ids": [],
    }));
    let contact = app.say(ADMIN, "/contact ext9").await;
    assert!(
        contact.contains("logo") && contact.contains("quoted"),
        "{contact}"
    );
    assert_inert(&contact);
}

#[tokio::test]
async fn a_numeric_msg_id_and_a_repeated_nested_key_are_bad_requests() {
    let app = spawn_app().await;
    let mut body = app.group_message(MEMBER, "/help");
    body["msgId"] = json!(123456789012345678901234567890_f64);
    assert_eq!(app.post_callback(&body).await.status(), 400);

    let body = app.group_message(MEMBER, "/help");
    let raw = body.to_string().replacen(
        r#""content":"#,
        r#""content":" /kick everyone","content":"#,
        1,
    );
    assert!(raw.contains("/kick"), "{raw}");
    let ts = qunguan::clock::now_ms().to_string();
    let response = app
        .post_raw(
            &[("timestamp", &ts), ("sign", &sign(&ts))],
            raw.into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 400);
    app.settle().await;
    assert_eq!(app.fake.count("/robot/sendBySession"), 0);
}

#[tokio::test]
async fn a_webhook_expired_at_the_smallest_time_is_not_used() {
    let app = spawn_app().await;
    let mut body = app.group_message(MEMBER, "/help");
    body["sessionWebhookExpiredTime"] = json!(i64::MIN);
    assert!(app.post_callback(&body).await.status().is_success());
    app.fake
        .wait_until(
            "the OpenAPI reply",
            std::time::Duration::from_secs(10),
            |rs| {
                rs.iter()
                    .any(|r| r.path == "/v1.0/robot/groupMessages/send")
            },
        )
        .await;
    assert_eq!(app.fake.count("/robot/sendBySession"), 0);
}

#[tokio::test]
async fn past_the_msg_id_ceiling_callbacks_are_asked_to_come_again() {
    let app = spawn_app_with(&[("QUNGUAN_MAX_REMEMBERED_MSGIDS", "2")]).await;
    for _ in 0..2 {
        app.ask(&app.group_message(MEMBER, "/help")).await;
    }
    let third = app.group_message(MEMBER, "/help");
    let response = app.post_callback(&third).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    assert!(
        app.metrics()
            .await
            .contains(r#"qunguan_callbacks_total{transport="http",outcome="dedupe_full"} 1"#)
    );
    app.settle().await;
    assert_eq!(
        app.fake.count("/robot/sendBySession"),
        2,
        "the third did not run"
    );
}
