//! A scheduled run is held with a lease while it runs: a replica killed after claiming a
//! run leaves it unfinished, and once its lease runs out another replica (or the same
//! database's next qunguan) takes it over and runs it, once.

use std::time::Duration;

use qunguan::{
    clock::now_ms,
    config::Database,
    ids::{ChatId, OpenConversationId},
    scheduler::{self, RUN_LEASE},
    store::Replay,
};

use crate::{fake::FakeDingTalk, helpers::*, postgres::fresh_database, schedules::daily_mute_all};

const UPDATE: &str = "/v1.0/im/group/update";

/// A qunguan binary on `database` claims a due `/mute-all` run and is killed while the run
/// waits for DingTalk; a qunguan started after on the same database finds the run held
/// until its lease runs out, then takes it over and runs it.
async fn a_killed_claimant_s_run_is_taken_over(database: Database, url: &str) {
    let fake = FakeDingTalk::start().await;
    fake.add_group(CHAT, CID, OWNER, &[OWNER, MEMBER, ADMIN]);
    let store = qunguan::store::open(&database, Replay::default())
        .await
        .unwrap();
    let (group, chat) = (
        OpenConversationId::parse(CID).unwrap(),
        ChatId::parse(CHAT).unwrap(),
    );
    store.bind(&group, &chat, now_ms()).await.unwrap();
    let due = now_ms() - 1_000;
    let id = store
        .add_schedule(&daily_mute_all(&group, due), 50)
        .await
        .unwrap()
        .expect("room for it");
    drop(store);

    // The first qunguan's start-up tick claims the run; DingTalk does not answer its read.
    fake.hold(CHAT);
    let dir = tempfile::tempdir().unwrap();
    let (mut first, _) =
        crate::process::spawn_binary(&fake, dir.path(), &[("QUNGUAN_DATABASE_URL", url)]);
    fake.wait_until("the run's read", Duration::from_secs(20), |rs| {
        rs.iter().any(|r| {
            r.path == "/chat/get" && r.query.get("chatid").map(String::as_str) == Some(CHAT)
        })
    })
    .await;
    first.kill().unwrap();
    let _ = first.wait();
    fake.release(CHAT);

    let app = spawn_app_on(fake, &[("QUNGUAN_DATABASE_URL", url)]).await;
    let claimed_at = now_ms();
    let running = |app: &TestApp| {
        let store = app.server.app.store.clone();
        let group = group.clone();
        async move { store.schedules(&group).await.unwrap()[0].clone() }
    };
    let held = running(&app).await;
    assert_eq!(
        held.running.map(|r| r.due_ms),
        Some(due),
        "claimed, unfinished"
    );
    assert_eq!(
        scheduler::tick(&app.server.app, claimed_at).await.unwrap(),
        0,
        "its lease still holds"
    );
    let after_lease = claimed_at + RUN_LEASE.as_millis() as i64 + 1_000;
    assert_eq!(
        scheduler::tick(&app.server.app, after_lease).await.unwrap(),
        1,
        "taken over once its lease ran out"
    );
    app.settle().await;
    assert_eq!(app.fake.count(UPDATE), 1, "run once");
    assert_eq!(app.fake.group(CHAT).info["chatBannedType"], 1);
    let done = running(&app).await;
    assert_eq!(done.id, id);
    assert_eq!(done.last_outcome.as_deref(), Some("done"));
    assert_eq!(done.running, None, "finished");
    assert_eq!(
        scheduler::tick(&app.server.app, after_lease + 1)
            .await
            .unwrap(),
        0,
        "and not again"
    );
}

#[tokio::test]
async fn a_run_whose_replica_was_killed_is_run_once_by_another_replica_on_postgresql() {
    let url = fresh_database().await;
    let database = Database::Postgres(crate::store_contract::postgres_url(&url));
    a_killed_claimant_s_run_is_taken_over(database, &url).await;
}

#[tokio::test]
async fn a_run_whose_sqlite_instance_was_killed_runs_at_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("qunguan.db");
    let url = format!("sqlite://{}", path.display());
    a_killed_claimant_s_run_is_taken_over(Database::SqliteFile(path), &url).await;
}
