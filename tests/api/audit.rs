//! The audit trail: every changing command leaves a record, read back with /audit.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn done_refused_and_failed_changes_are_recorded_and_read_back() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    app.say(ADMIN, "/lock-friending").await;
    app.say(MEMBER, "/unlock-friending").await;
    app.fake.script(
        "POST",
        "/topapi/chat/member/friendswitch/update",
        200,
        json!({"errcode": 43007, "errmsg": "没有调用权限", "request_id": "req-fail"}),
        Duration::ZERO,
    );
    app.say(ADMIN, "/unlock-friending").await;
    app.say(MEMBER, "/help").await;
    let text = app.say(ADMIN, "/audit").await;
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].contains(&format!(
            "({ADMIN}) `/unlock-friending`: failed (43007), request id `req-fail`"
        )),
        "{text}"
    );
    assert!(
        lines[1].contains(&format!("({MEMBER}) `/unlock-friending`: refused")),
        "{text}"
    );
    assert!(
        lines[2].contains(&format!(
            "({ADMIN}) `/lock-friending`: done, request id `req-friendswitch`"
        )),
        "{text}"
    );
    assert!(
        lines[3].contains(&format!("`/bind {CHAT}`: done")),
        "{text}"
    );
    let text = app.say(ADMIN, "/audit 2").await;
    assert_eq!(
        text.lines().filter(|l| l.starts_with("- ")).count(),
        2,
        "{text}"
    );
}

#[tokio::test]
async fn audit_records_survive_a_restart_and_belong_to_their_group() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let app = app.restart().await;
    let text = app.say(ADMIN, "/审计").await;
    assert!(text.contains(&format!("`/bind {CHAT}`: done")), "{text}");
    let mut other = app.group_message(ADMIN, "/audit");
    other["conversationId"] = json!("cidAnotherGroup==");
    let text = reply_text(&app.ask(&other).await);
    assert!(text.contains("Nothing has been changed"), "{text}");
}

#[tokio::test]
async fn audit_is_for_admins_and_checks_its_count() {
    let app = spawn_app().await;
    assert!(app.say(MEMBER, "/audit").await.contains("Only admins"));
    let text = app.say(ADMIN, "/audit 51").await;
    assert!(
        text.contains("from 1 to 50") && text.contains("Usage: `/audit [n]`"),
        "{text}"
    );
}

#[tokio::test]
async fn the_record_is_written_before_the_reply_is_sent() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    // Hold the reply at the fake while the database is checked.
    app.fake.script(
        "POST",
        "/robot/sendBySession",
        200,
        json!({"errcode": 0}),
        Duration::from_millis(1500),
    );
    let body = app.group_message(ADMIN, "/lock-friending");
    app.post_callback(&body).await;
    app.fake
        .wait_until("the reply", Duration::from_secs(10), |rs| {
            rs.iter().any(|r| r.path == "/robot/sendBySession")
        })
        .await;
    let db = rusqlite::Connection::open(app.dir.path().join("qunguan.db")).unwrap();
    let (outcome, request_id): (String, String) = db
        .query_row(
            "SELECT outcome, request_id FROM audit WHERE msg_id = ?1",
            [body["msgId"].as_str().unwrap()],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("the audit record exists while the reply is in flight");
    assert_eq!(
        (outcome.as_str(), request_id.as_str()),
        ("done", "req-friendswitch")
    );
}
