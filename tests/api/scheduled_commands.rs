//! What a schedule runs is what was checked when it was made: the command's words come
//! back from the store exactly (quotes inside them included), a group has at most 50
//! schedules however many replicas create them at once, and a one-off far ahead is refused
//! for what it is.

use serde_json::Value;

use qunguan::{ids::OpenConversationId, scheduler, server::RunningServer, store::Schedule};

use crate::{helpers::*, postgres::fresh_database};

async fn schedules(server: &RunningServer) -> Vec<Schedule> {
    let cid = OpenConversationId::parse(CID).unwrap();
    server.app.store.schedules(&cid).await.unwrap()
}

/// Creates the schedule `line`, checks its reply names `described`, and runs it.
async fn create_and_run(app: &TestApp, line: &str, described: &str) {
    let text = app.say(ADMIN, line).await;
    assert!(text.contains("Created schedule"), "{line}: {text}");
    assert!(text.contains(described), "{line}: {text}");
    let made = schedules(&app.server).await;
    let due = made.last().unwrap().next_run_ms.unwrap();
    assert_eq!(scheduler::tick(&app.server.app, due).await.unwrap(), 1);
    app.settle().await;
}

#[tokio::test]
async fn a_scheduled_command_runs_with_exactly_the_words_it_was_checked_with() {
    let app = spawn_app().await;
    app.bind_sample_group().await;

    // A name with a straight quote in it (typed inside corner quotes).
    create_and_run(
        &app,
        "/schedule once 2030-01-01 10:00 /rename 「a\"b」",
        "`/rename 「a\"b」`",
    )
    .await;
    assert_eq!(app.fake.group(CHAT).info["name"], "a\"b");

    // A nickname that holds quotes and the dry-run flag's words is a nickname, changed.
    create_and_run(
        &app,
        &format!("/schedule once 2030-01-01 11:00 /nick {MEMBER} 「a\" --dry-run \"」"),
        &format!("`/nick {MEMBER} 「a\" --dry-run \"」`"),
    )
    .await;
    let nicks = app.fake.requests_to("/topapi/chat/updategroupnick");
    assert_eq!(nicks.len(), 1, "changed, not previewed");
    let sent: Value = nicks[0].json();
    assert_eq!(sent["group_nick"], "a\" --dry-run \"", "{sent}");

    // A staff id ending in a quote is that staff id, not another.
    create_and_run(
        &app,
        "/schedule once 2030-01-01 12:00 /admin add 「user201\"」",
        "`/admin add 「user201\"」`",
    )
    .await;
    let admins = app.fake.requests_to("/v1.0/im/subAdministrators");
    assert_eq!(admins.len(), 1);
    assert_eq!(
        admins[0].json()["userIds"],
        serde_json::json!(["user201\""])
    );

    // The fake knows nobody of that id (DingTalk's 40003): the run failed, for that id.
    let outcomes: Vec<_> = schedules(&app.server)
        .await
        .iter()
        .map(|s| s.last_outcome.clone().unwrap())
        .collect();
    assert_eq!(outcomes, ["done", "done", "failed"]);
}

#[tokio::test]
async fn a_schedule_saved_by_an_earlier_qunguan_still_runs() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    // The line as earlier versions stored it: words with spaces in straight quotes.
    app.server
        .app
        .store
        .add_schedule(
            &qunguan::store::NewSchedule {
                group: OpenConversationId::parse(CID).unwrap(),
                creator: qunguan::ids::StaffId::parse(ADMIN).unwrap(),
                creator_nick: "admin".into(),
                rule: "once 2030-01-01 10:00".into(),
                command: "/rename \"Q3 项目群\"".into(),
                created_at_ms: 0,
                next_run_ms: 1_893_463_200_000,
            },
            50,
        )
        .await
        .unwrap();
    let due = schedules(&app.server).await[0].next_run_ms.unwrap();
    assert_eq!(scheduler::tick(&app.server.app, due).await.unwrap(), 1);
    app.settle().await;
    assert_eq!(app.fake.group(CHAT).info["name"], "Q3 项目群");
}

#[tokio::test]
async fn two_replicas_creating_at_once_stop_at_fifty_schedules_on_postgresql() {
    let url = fresh_database().await;
    let app = spawn_app_with(&[("QUNGUAN_DATABASE_URL", &url)]).await;
    let other = app.replica().await;
    let store = &app.server.app.store;
    let cid = OpenConversationId::parse(CID).unwrap();
    let chat = qunguan::ids::ChatId::parse(CHAT).unwrap();
    store.bind(&cid, &chat, 0).await.unwrap();
    for i in 0..49 {
        let new = qunguan::store::NewSchedule {
            group: cid.clone(),
            creator: qunguan::ids::StaffId::parse(OWNER).unwrap(),
            creator_nick: "owner".into(),
            rule: "daily 22:00".into(),
            command: format!("/rename n{i}"),
            created_at_ms: 0,
            next_run_ms: 1_893_463_200_000,
        };
        store.add_schedule(&new, 50).await.unwrap();
    }
    // The owner is an admin by chat/get, which each replica asks once for all its
    // commands: held back, it lets them all go on together, each having counted 49.
    let info = app.fake.group(CHAT).info;
    for _ in 0..2 {
        let body = serde_json::json!({"errcode": 0, "errmsg": "ok", "chat_info": info});
        let delay = std::time::Duration::from_millis(300);
        app.fake.script("GET", "/chat/get", 200, body, delay);
    }
    let secret = secrecy::SecretString::from(SECRET.to_owned());
    let bodies: Vec<Value> = (0..8)
        .map(|i| app.group_message(OWNER, &format!("/schedule daily 21:{i:02} /mute-all")))
        .collect();
    let sends = bodies.iter().enumerate().map(|(i, body)| {
        let addr = if i % 2 == 0 {
            app.server.addr
        } else {
            other.addr
        };
        let url = format!("http://{addr}/callback");
        let (http, secret) = (&app.http, &secret);
        async move { qunguan::tools::signed::post(http, &url, secret, body).await }
    });
    for sent in futures_util::future::join_all(sends).await {
        assert!(sent.unwrap().status().is_success());
    }
    let mut created = 0;
    for body in &bodies {
        let reply = app
            .fake
            .webhook_reply(body["msgId"].as_str().unwrap())
            .await;
        let text = reply_text(&reply);
        if text.contains("Created schedule") {
            created += 1;
        } else {
            assert!(text.contains("has 50 schedules, the most"), "{text}");
        }
    }
    assert_eq!(schedules(&app.server).await.len(), 50);
    assert_eq!(created, 1, "one of the eight fits");
}

#[tokio::test]
async fn a_one_off_too_far_ahead_is_refused_as_too_far_not_as_passed() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app
        .say(ADMIN, "/schedule once 9999-12-31 10:00 /mute-all")
        .await;
    assert!(!text.contains("already passed"), "{text}");
    assert!(text.contains("too far ahead"), "{text}");
    assert!(schedules(&app.server).await.is_empty());
}
