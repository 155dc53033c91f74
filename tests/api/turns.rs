//! One change at a time per group, and only per group: the group's lease in the store
//! keeps `policy apply` and a running server apart on SQLite as on PostgreSQL, and a group
//! whose DingTalk calls hang holds up no other group's changes.

use std::time::Duration;

use qunguan::{
    clock::now_ms,
    ids::{ChatId, OpenConversationId},
};
use serde_json::json;

use crate::{
    helpers::*,
    policy::{assert_exit, chat, fleet, policy_on, write},
    postgres::fresh_database,
};

#[tokio::test]
async fn a_group_whose_dingtalk_calls_hang_holds_up_only_its_own_changes_on_postgresql() {
    let url = fresh_database().await;
    let app = spawn_app_with(&[("QUNGUAN_DATABASE_URL", &url)]).await;
    app.bind_sample_group().await;
    // Eight groups are being changed, and DingTalk does not answer about any of them.
    for i in 0..8 {
        let (chat, cid) = (format!("chatSLOW{i}"), format!("cidSLOW{i}=="));
        app.fake.add_group(&chat, &cid, OWNER, &[OWNER, MEMBER]);
        let (group, chatid) = (
            OpenConversationId::parse(&cid).unwrap(),
            ChatId::parse(&chat).unwrap(),
        );
        app.server
            .app
            .store
            .bind(&group, &chatid, now_ms())
            .await
            .unwrap();
        app.fake.hold(&chat);
        let mut body = app.group_message(ADMIN, "/mute-all");
        body["conversationId"] = json!(cid);
        assert!(app.post_callback(&body).await.status().is_success());
    }
    app.fake
        .wait_until("the eight reads", Duration::from_secs(10), |rs| {
            rs.iter()
                .filter(|r| r.path == "/chat/get" && r.query["chatid"].starts_with("chatSLOW"))
                .count()
                == 8
        })
        .await;
    // A healthy group's change is not kept waiting behind them.
    let reply = app.say(ADMIN, "/mute-all").await;
    assert!(reply.contains("Changed Everyone muted"), "{reply}");
    assert_eq!(app.fake.group(CHAT).info["chatBannedType"], 1);
    for i in 0..8 {
        app.fake.release(&format!("chatSLOW{i}"));
    }
    app.settle().await;
    for i in 0..8 {
        assert_eq!(
            app.fake.group(&format!("chatSLOW{i}")).info["chatBannedType"],
            1,
            "{i}"
        );
    }
}

#[tokio::test]
async fn policy_apply_on_sqlite_waits_for_a_change_a_running_server_is_making() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let database = app.env["QUNGUAN_DATABASE_URL"].clone();
    let file = write(
        app.dir.path(),
        "history.toml",
        &format!("[[policy]]\ngroups = [\"{CHAT}\"]\nhistory = false\n"),
    );
    // The server is changing the group: it holds the group's turn, and the change it
    // makes meanwhile (a mute) is one apply's read must see.
    let cid = OpenConversationId::parse(CID).unwrap();
    let turn = app.server.app.turns.take(&cid).await.unwrap();
    let (apply, ()) = tokio::join!(
        policy_on(&app.fake, app.dir.path(), "apply", &file, &database),
        async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            assert_eq!(
                app.fake.count("/v1.0/im/group/update"),
                0,
                "apply waits for the server's change"
            );
            app.fake.set_group_field(CHAT, "chatBannedType", json!(1));
            turn.release().await;
        }
    );
    assert_exit(&apply, 0);
    let info = app.fake.group(CHAT).info;
    assert_eq!(info["showHistoryType"], 0, "apply's change: {info}");
    assert_eq!(
        info["chatBannedType"], 1,
        "the server's change is kept: {info}"
    );
}

#[tokio::test]
async fn two_applies_at_once_on_one_sqlite_file_both_hold() {
    let fake = fleet().await;
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("qunguan.db").display());
    let groups: Vec<String> = (0..12).map(chat).collect();
    let list = format!("{groups:?}");
    let history = write(
        dir.path(),
        "history.toml",
        &format!("[[policy]]\ngroups = {list}\nhistory = false\n"),
    );
    let search = write(
        dir.path(),
        "search.toml",
        &format!("[[policy]]\ngroups = {list}\nsearchable = false\n"),
    );
    // Each read takes a while, so the two runs' reads and writes of a group interleave.
    fake.slow("/chat/get", Duration::from_millis(150));
    let (a, b) = tokio::join!(
        policy_on(&fake, dir.path(), "apply", &history, &database),
        policy_on(&fake, dir.path(), "apply", &search, &database),
    );
    for run in [&a, &b] {
        assert_exit(run, 0);
    }
    for chat in &groups {
        let info = fake.group(chat).info;
        assert_eq!(info["showHistoryType"], 0, "{chat}: {info}");
        assert_eq!(info["searchable"], 0, "{chat}: {info}");
    }
}
