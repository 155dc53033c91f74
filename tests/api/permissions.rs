//! Who may change things: configured admins, the group owner, trusted org admins.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_member_is_refused_and_nothing_changes() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app.say(MEMBER, "/lock-friending").await;
    assert!(
        text.contains("Only admins may run `/lock-friending`"),
        "{text}"
    );
    app.settle().await;
    assert_eq!(app.fake.count("/topapi/chat/member/friendswitch/update"), 0);
    assert_eq!(app.fake.group(CHAT).friending_locked, None);
    assert!(
        app.metrics()
            .await
            .contains(r#"qunguan_commands_total{command="lock-friending",outcome="refused"} 1"#)
    );
}

#[tokio::test]
async fn the_group_owner_is_an_admin() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app.say(OWNER, "/whoami").await;
    assert!(
        text.contains("are an admin") && text.contains("own this group"),
        "{text}"
    );
    app.say(OWNER, "/lock-friending").await;
    assert_eq!(app.fake.group(CHAT).friending_locked, Some(true));
}

#[tokio::test]
async fn a_trusted_org_admin_is_an_admin_and_an_untrusted_one_is_not() {
    let app = spawn_app().await;
    let mut body = app.group_message(MEMBER, "/whoami");
    body["isAdmin"] = json!(true);
    let text = reply_text(&app.ask(&body).await);
    assert!(
        text.contains("org admin (isAdmin)") && text.contains("are an admin"),
        "{text}"
    );

    let app = spawn_app_with(&[("QUNGUAN_TRUST_ORG_ADMINS", "false")]).await;
    app.bind_sample_group().await;
    let mut body = app.group_message(MEMBER, "/lock-friending");
    body["isAdmin"] = json!(true);
    let text = reply_text(&app.ask(&body).await);
    assert!(
        text.contains("Only admins") && text.contains("QUNGUAN_TRUST_ORG_ADMINS is off"),
        "{text}"
    );
    app.settle().await;
    assert_eq!(app.fake.count("/topapi/chat/member/friendswitch/update"), 0);
}

#[tokio::test]
async fn a_sender_without_staff_id_is_never_an_admin() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let mut body = app.group_message(MEMBER, "/lock-friending");
    body.as_object_mut().unwrap().remove("senderStaffId");
    body["isAdmin"] = json!(true);
    let text = reply_text(&app.ask(&body).await);
    assert!(text.contains("no staff id"), "{text}");
    app.settle().await;
    assert_eq!(app.fake.count("/topapi/chat/member/friendswitch/update"), 0);
}

#[tokio::test]
async fn whoami_explains_a_configured_admin_and_a_member() {
    let app = spawn_app().await;
    let text = app.say(ADMIN, "/whoami").await;
    assert!(
        text.contains(ADMIN) && text.contains("listed in QUNGUAN_ADMINS"),
        "{text}"
    );
    let text = app.say(MEMBER, "/whoami").await;
    assert!(
        text.contains("are not an admin") && text.contains("not bound"),
        "{text}"
    );
}

#[tokio::test]
async fn a_member_cannot_bind_and_no_conversion_is_made() {
    let app = spawn_app().await;
    let text = app.say(MEMBER, &format!("/bind {CHAT}")).await;
    assert!(text.contains("Only admins"), "{text}");
    app.assert_only_replies_sent().await;
}
