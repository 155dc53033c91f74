//! `/schedule`: commands that run later, exactly once across replicas, as their creator.
//! The tests drive the scheduler's clock themselves ([`qunguan::scheduler::tick`] at a
//! chosen time); none waits for wall-clock minutes.

use serde_json::{Value, json};

use qunguan::{
    ids::OpenConversationId,
    scheduler,
    server::RunningServer,
    store::{NewSchedule, Schedule},
};

use crate::{group_support::six, helpers::*, postgres::fresh_database};

const SEND: &str = "/v1.0/robot/groupMessages/send";

/// A `daily 22:00 /mute-all` of `group` by the admin, next due at `next_run_ms`: a schedule
/// saved straight into a store, as `/schedule` would have saved it.
pub fn daily_mute_all(group: &OpenConversationId, next_run_ms: i64) -> NewSchedule {
    NewSchedule {
        group: group.clone(),
        creator: qunguan::ids::StaffId::parse(ADMIN).unwrap(),
        creator_nick: "admin".into(),
        rule: "daily 22:00".into(),
        command: "/mute-all".into(),
        created_at_ms: 0,
        next_run_ms,
    }
}

async fn schedules(server: &RunningServer) -> Vec<Schedule> {
    let cid = OpenConversationId::parse(CID).unwrap();
    server.app.store.schedules(&cid).await.unwrap()
}

/// The markdown texts of the OpenAPI group sends so far.
fn announcements(app: &TestApp) -> Vec<String> {
    app.fake
        .requests_to(SEND)
        .iter()
        .map(|r| {
            let sent: Value = r.json();
            assert_eq!(sent["openConversationId"], CID);
            let param: Value = serde_json::from_str(sent["msgParam"].as_str().unwrap()).unwrap();
            param["text"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn tick(server: &RunningServer, at_ms: i64) -> usize {
    scheduler::tick(&server.app, at_ms).await.unwrap()
}

fn banned(app: &TestApp) -> i64 {
    six(app)["chatBannedType"].as_i64().unwrap()
}

#[tokio::test]
async fn a_schedule_runs_at_its_time_once_with_two_replicas() {
    let url = fresh_database().await;
    let app = spawn_app_with(&[("QUNGUAN_DATABASE_URL", &url)]).await;
    let other = app.replica().await;
    app.bind_sample_group().await;
    // Twelve hours from now in Shanghai, so the replicas' own 15-second ticks never reach it.
    let hour = (qunguan::clock::now_ms() / 3_600_000 + 8 + 12) % 24;
    let at = format!("{hour:02}:00");
    let text = app
        .say(ADMIN, &format!("/schedule daily {at} /mute-all"))
        .await;
    assert!(
        text.contains(&format!("Created schedule #1: daily {at}, `/mute-all`")),
        "{text}"
    );
    assert!(text.contains(&format!("{at} (Asia/Shanghai)")), "{text}");
    let due = schedules(&app.server).await[0].next_run_ms.unwrap();
    assert!(text.contains(&qunguan::commands::format_local(
        due,
        &app.server.app.config.timezone
    )));

    let (a, b) = tokio::join!(tick(&app.server, due - 1), tick(&other, due - 1));
    assert_eq!(a + b, 0, "not due yet");
    assert_eq!(banned(&app), 0);
    for round in 0..3 {
        let at = due + 1_000 + round;
        let (a, b) = tokio::join!(tick(&app.server, at), tick(&other, at));
        assert_eq!(
            a + b,
            usize::from(round == 0),
            "round {round}: claimed once in all"
        );
    }
    app.settle().await;
    eventually("the other replica", async || {
        other.app.worker.running() == 0
    })
    .await;

    assert_eq!(banned(&app), 1, "the group is muted");
    assert_eq!(crate::group_support::updates(&app).len(), 1, "one change");
    let said = announcements(&app);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].starts_with("Ran `/mute-all` as scheduled (#1, set by"),
        "{}",
        said[0]
    );
    assert!(said[0].contains("Changed Everyone muted"), "{}", said[0]);
    let after = &schedules(&other).await[0];
    assert_eq!(
        after.next_run_ms,
        Some(due + 86_400_000),
        "tomorrow, same time"
    );
    assert_eq!(after.last_outcome.as_deref(), Some("done"));

    // The audit, read through the other replica, names the schedule.
    let body = app.group_message(ADMIN, "/audit 3");
    let url = format!("http://{}/callback", other.addr);
    let secret = secrecy::SecretString::from(SECRET.to_owned());
    qunguan::tools::signed::post(&app.http, &url, &secret, &body)
        .await
        .unwrap();
    let text = reply_text(
        &app.fake
            .webhook_reply(body["msgId"].as_str().unwrap())
            .await,
    );
    assert!(
        text.contains(&format!("({ADMIN}) (from schedule #1) `/mute-all`: done")),
        "{text}"
    );
}

#[tokio::test]
async fn a_missed_run_runs_inside_the_grace_window_and_is_skipped_outside_it() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app
        .say(ADMIN, "/schedule once 2030-01-01 10:00 /mute-all")
        .await;
    assert!(text.contains("#1"), "{text}");
    let text = app
        .say(ADMIN, "/定时 一次 2030-01-01 09:00 /rename Late")
        .await;
    assert!(text.contains("#2"), "{text}");
    let name = app.fake.group(CHAT).info["name"].clone();
    // qunguan was down over both; it starts again at 10:05.
    let app = app.restart().await;
    let ten = schedules(&app.server).await[0].next_run_ms.unwrap();
    assert_eq!(tick(&app.server, ten + 300_000).await, 2, "both claimed");
    app.settle().await;
    assert_eq!(
        banned(&app),
        1,
        "five minutes late: inside the 600 s grace, it ran"
    );
    assert_eq!(
        app.fake.group(CHAT).info["name"],
        name,
        "65 minutes late: skipped, the name is unchanged"
    );
    let said = announcements(&app);
    assert_eq!(said.len(), 1, "only the run is announced: {said:?}");
    let listed = schedules(&app.server).await;
    assert_eq!(listed[0].last_outcome.as_deref(), Some("done"));
    assert_eq!(listed[1].last_outcome.as_deref(), Some("skipped"));
    assert!(
        listed.iter().all(|s| s.next_run_ms.is_none()),
        "one-offs run no more"
    );
    assert_eq!(tick(&app.server, ten + 400_000).await, 0);

    let text = app.say(ADMIN, "/audit 5").await;
    assert!(
        text.contains("(from schedule #2) `/rename Late`: skipped (its time was missed)"),
        "{text}"
    );
    assert!(
        text.contains("(from schedule #1) `/mute-all`: done"),
        "{text}"
    );
    let text = app.say(ADMIN, "/schedule list").await;
    assert!(
        text.contains("#2 once 2030-01-01 09:00 `/rename Late`"),
        "{text}"
    );
    assert!(text.contains("next: none; last:"), "{text}");
    assert!(text.contains("(skipped)"), "{text}");
}

#[tokio::test]
async fn a_creator_who_lost_admin_rights_is_refused_at_run_time() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    // The owner is an admin because they own the group.
    let text = app
        .say(OWNER, "/schedule once 2030-01-01 10:00 /mute-all")
        .await;
    assert!(text.contains("Created schedule #1"), "{text}");
    app.fake.set_group_field(CHAT, "owner", json!(MEMBER));
    let due = schedules(&app.server).await[0].next_run_ms.unwrap();
    assert_eq!(tick(&app.server, due).await, 1);
    app.settle().await;
    assert_eq!(banned(&app), 0, "nothing changed");
    let said = announcements(&app);
    assert_eq!(said.len(), 1);
    assert!(said[0].contains("Only admins may run"), "{}", said[0]);
    let text = app.say(ADMIN, "/audit 1").await;
    assert!(
        text.contains(&format!(
            "({OWNER}) (from schedule #1) `/mute-all`: refused"
        )),
        "{text}"
    );
    assert_eq!(
        schedules(&app.server).await[0].last_outcome.as_deref(),
        Some("refused")
    );
}

#[tokio::test]
async fn schedules_are_listed_and_removed_by_admins_of_their_group() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let text = app.say(ADMIN, "/schedule list").await;
    assert!(text.contains("no schedules"), "{text}");
    app.say(ADMIN, "/schedule weekdays 08:30 /unmute-all").await;
    app.say(ADMIN, "/schedule weekends 23:00 /set history off")
        .await;
    let text = app.say(ADMIN, "/schedule list").await;
    assert!(text.contains("times in Asia/Shanghai"), "{text}");
    assert!(
        text.contains("#1 weekdays 08:30 `/unmute-all`, set by"),
        "{text}"
    );
    assert!(
        text.contains("#2 weekends 23:00 `/set history off`"),
        "{text}"
    );
    assert!(text.contains(&format!("({ADMIN})")), "{text}");

    let text = app.say(ADMIN, "/schedule remove #1 --dry-run").await;
    assert!(text.contains("would remove schedule #1"), "{text}");
    assert_eq!(schedules(&app.server).await.len(), 2);
    let text = app.say(ADMIN, "/schedule remove 1").await;
    assert!(text.contains("Removed schedule #1"), "{text}");
    let text = app.say(ADMIN, "/schedule remove 1").await;
    assert!(text.contains("no schedule #1"), "{text}");
    let text = app.say(ADMIN, "/schedule list").await;
    assert!(!text.contains("#1 "), "{text}");
    assert!(text.contains("#2 "), "{text}");

    let text = app.say(MEMBER, "/schedule remove 2").await;
    assert!(text.contains("Only admins may run"), "{text}");
    let text = app
        .say(ADMIN, "/schedule daily 22:00 /mute-all --dry-run")
        .await;
    assert!(
        text.contains("Preview: would create a schedule: daily 22:00"),
        "{text}"
    );
    assert_eq!(
        schedules(&app.server).await.len(),
        1,
        "a dry run saves nothing"
    );
    // The runs of a schedule survive a restart with the store.
    let app = app.restart().await;
    assert_eq!(schedules(&app.server).await.len(), 1);
}

#[tokio::test]
async fn a_wrong_command_or_time_is_refused_when_the_schedule_is_made() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let cases = [
        (
            "/schedule daily 22:00 /set history maybe",
            "usage: `/set <setting> <value>`",
        ),
        ("/schedule daily 22:00 /mute-all now", "usage: `/mute-all`"),
        ("/schedule daily 22:00 /rename", "<name>"),
        (
            "/schedule daily 22:00 /kick member001",
            "only changing commands",
        ),
        (
            "/schedule daily 22:00 /confirm 123456",
            "only changing commands",
        ),
        ("/schedule daily 22:00 /info", "only changing commands"),
        ("/schedule daily 22:00 /nosuch", "no such command"),
        ("/schedule daily 25:00 /mute-all", "HH:MM, 00:00 to 23:59"),
        (
            "/schedule hourly 22:00 /mute-all",
            "expected daily, weekdays, weekends or once",
        ),
        ("/schedule once 2030-02-30 10:00 /mute-all", "YYYY-MM-DD"),
        ("/schedule daily 22:00", "followed by a command"),
    ];
    for (line, want) in cases {
        let text = app.say(ADMIN, line).await;
        assert!(
            text.contains("Wrong arguments for `/schedule`"),
            "{line}: {text}"
        );
        assert!(text.contains(want), "{line}: {text}");
    }
    let text = app
        .say(ADMIN, "/schedule once 2020-01-01 10:00 /mute-all")
        .await;
    assert!(text.contains("has already passed"), "{text}");
    app.say(ADMIN, "/unbind").await;
    let text = app.say(ADMIN, "/schedule daily 22:00 /mute-all").await;
    assert!(
        text.contains("not bound"),
        "refused now, not at 22:00: {text}"
    );
    assert!(schedules(&app.server).await.is_empty(), "nothing saved");
}

#[tokio::test]
async fn runs_due_together_in_one_group_run_one_after_another_and_both_hold() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    for line in [
        "/schedule once 2030-01-01 22:00 /mute-all",
        "/schedule once 2030-01-01 22:00 /set history off",
        "/schedule once 2030-01-01 22:00 /set searchable off",
    ] {
        let text = app.say(ADMIN, line).await;
        assert!(text.contains("Created schedule"), "{text}");
    }
    let due = schedules(&app.server).await[0].next_run_ms.unwrap();
    assert_eq!(tick(&app.server, due).await, 3);
    app.settle().await;
    let now = six(&app);
    assert_eq!(now["chatBannedType"], 1, "{now}");
    assert_eq!(now["showHistoryType"], 0, "{now}");
    assert_eq!(now["searchable"], 0, "{now}");
    assert_eq!(announcements(&app).len(), 3);
}

#[tokio::test]
async fn a_schedule_due_in_many_groups_at_once_runs_in_all_of_them_on_postgresql() {
    let url = fresh_database().await;
    let app = spawn_app_with(&[
        ("QUNGUAN_DATABASE_URL", &url),
        ("QUNGUAN_RATE_LIMIT_PER_SEC", "10000"),
    ])
    .await;
    let store = &app.server.app.store;
    let due = qunguan::clock::now_ms() + 86_400_000;
    let groups = 40;
    for i in 0..groups {
        let (chat, cid) = (format!("chatMANY{i}"), format!("cidMANY{i}=="));
        app.fake.add_group(&chat, &cid, OWNER, &[OWNER, ADMIN]);
        let cid = OpenConversationId::parse(&cid).unwrap();
        let chat_id = qunguan::ids::ChatId::parse(&chat).unwrap();
        store.bind(&cid, &chat_id, 0).await.unwrap();
        let new = daily_mute_all(&cid, due);
        store.add_schedule(&new, 50).await.unwrap();
    }
    // More runs at once than the connections group locks may hold (and than the pool has).
    assert_eq!(tick(&app.server, due).await, groups);
    // Callbacks are still answered while they run.
    let text = app.say(MEMBER, "/help").await;
    assert!(!text.is_empty());
    app.settle().await;
    for i in 0..groups {
        let info = app.fake.group(&format!("chatMANY{i}")).info;
        let cid = OpenConversationId::parse(&format!("cidMANY{i}==")).unwrap();
        let audit = store.recent_audit(&cid, 5).await.unwrap();
        assert_eq!(info["chatBannedType"], 1, "group {i}: {audit:?}");
    }
    assert_eq!(app.fake.count(SEND), groups, "each run announced");
}

#[tokio::test]
async fn a_run_missed_while_qunguan_was_down_runs_by_itself_at_start_up() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    // A schedule whose run came due five minutes ago, while qunguan was down.
    app.server
        .app
        .store
        .add_schedule(
            &daily_mute_all(
                &OpenConversationId::parse(CID).unwrap(),
                qunguan::clock::now_ms() - 300_000,
            ),
            50,
        )
        .await
        .unwrap();
    // No test clock here: the scheduler's own first tick, at start-up, runs it.
    let app = app.restart().await;
    app.fake
        .wait_until(
            "the announcement",
            std::time::Duration::from_secs(10),
            |rs| rs.iter().any(|r| r.path == SEND),
        )
        .await;
    app.settle().await;
    assert_eq!(banned(&app), 1);
    let after = &schedules(&app.server).await[0];
    assert_eq!(after.last_outcome.as_deref(), Some("done"));
    assert!(
        after.next_run_ms.unwrap() > qunguan::clock::now_ms(),
        "moved to its next 22:00"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"qunguan_commands_total{command="mute-all",outcome="done"} 1"#),
        "a scheduled run is counted like a typed one: {metrics}"
    );
}

#[tokio::test]
async fn times_are_in_qunguan_timezone() {
    let app = spawn_app_with(&[("QUNGUAN_TIMEZONE", "Europe/Berlin")]).await;
    app.bind_sample_group().await;
    let text = app
        .say(ADMIN, "/schedule once 2030-01-01 10:00 /mute-all")
        .await;
    assert!(text.contains("2030-01-01 10:00 (Europe/Berlin)"), "{text}");
    let due = schedules(&app.server).await[0].next_run_ms.unwrap();
    assert_eq!(
        due, 1_893_488_400_000,
        "10:00 in Berlin in winter is 09:00 UTC"
    );
}
