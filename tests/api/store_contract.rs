//! The store contract, once, run against both backends: embedded SQLite and PostgreSQL.

use std::sync::Arc;

use qunguan::{
    config::{Config, Database},
    ids::{ChatId, MsgId, OpenConversationId, StaffId},
    store::{
        AuditRecord, BindOutcome, ConfirmTake, Confirmation, NewSchedule, PostgresStore,
        ScheduleClaim, SqliteStore, Store,
    },
};

use crate::postgres::fresh_database;

async fn postgres() -> Arc<dyn Store> {
    let url = fresh_database().await;
    Arc::new(PostgresStore::open(&postgres_url(&url)).await.unwrap())
}

pub fn postgres_url(url: &str) -> qunguan::config::PostgresUrl {
    let config = Config::from_lookup(|name| match name {
        "DINGTALK_APP_KEY" | "DINGTALK_APP_SECRET" => Some("x".into()),
        "QUNGUAN_DATABASE_URL" => Some(url.to_owned()),
        _ => None,
    })
    .unwrap();
    match config.database {
        Database::Postgres(url) => url,
        other => panic!("{other:?}"),
    }
}

fn sqlite() -> Arc<dyn Store> {
    Arc::new(SqliteStore::open(&Database::SqliteMemory).unwrap())
}

/// Both backends, SQLite first.
async fn backends() -> Vec<(&'static str, Arc<dyn Store>)> {
    vec![("sqlite", sqlite()), ("postgres", postgres().await)]
}

fn cid(s: &str) -> OpenConversationId {
    OpenConversationId::parse(s).unwrap()
}

fn chat(s: &str) -> ChatId {
    ChatId::parse(s).unwrap()
}

#[tokio::test]
async fn bindings_bind_replace_refuse_a_taken_chatid_and_unbind() {
    for (name, store) in backends().await {
        let (a, b) = (cid("cidA=="), cid("cidB=="));
        assert_eq!(
            store.bind(&a, &chat("chat1"), 1).await.unwrap(),
            BindOutcome::Bound,
            "{name}"
        );
        assert_eq!(
            store.bind(&a, &chat("chat1"), 2).await.unwrap(),
            BindOutcome::AlreadyBound,
            "{name}"
        );
        assert_eq!(
            store.bind(&b, &chat("chat1"), 3).await.unwrap(),
            BindOutcome::ChatTaken { by: a.clone() },
            "{name}"
        );
        assert_eq!(
            store.bind(&a, &chat("chat2"), 4).await.unwrap(),
            BindOutcome::Replaced {
                previous: chat("chat1")
            },
            "{name}"
        );
        assert_eq!(
            store.binding(&a).await.unwrap(),
            Some(chat("chat2")),
            "{name}"
        );
        assert_eq!(
            store.unbind(&a).await.unwrap(),
            Some(chat("chat2")),
            "{name}"
        );
        assert_eq!(store.binding(&a).await.unwrap(), None, "{name}");
        assert_eq!(store.unbind(&a).await.unwrap(), None, "{name}");
    }
}

#[tokio::test]
async fn groups_binding_one_chatid_at_once_get_one_binding_and_refusals() {
    for (name, store) in backends().await {
        for round in 0..5 {
            let chat = chat(&format!("chatRACE{round}"));
            let groups: Vec<_> = (0..6).map(|g| cid(&format!("cid{round}x{g}=="))).collect();
            let outcomes = futures_util::future::join_all(
                groups
                    .iter()
                    .map(|g| store.bind(g, &chat, i64::from(round))),
            )
            .await;
            let outcomes: Vec<_> = outcomes
                .into_iter()
                .map(|o| o.unwrap_or_else(|e| panic!("{name}: a racing bind failed: {e}")))
                .collect();
            let bound: Vec<_> = groups
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| **o == BindOutcome::Bound)
                .map(|(g, _)| g.clone())
                .collect();
            assert_eq!(bound.len(), 1, "{name}: {outcomes:?}");
            for o in &outcomes {
                assert!(
                    *o == BindOutcome::Bound
                        || *o
                            == BindOutcome::ChatTaken {
                                by: bound[0].clone()
                            },
                    "{name}: {o:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn remembered_msg_ids_page_and_expire() {
    for (name, store) in backends().await {
        let seen: Vec<(MsgId, i64)> = (0..25)
            .map(|i| {
                (
                    MsgId::parse(&format!("m{i:02}")).unwrap(),
                    if i < 20 { 1_000 } else { 10 },
                )
            })
            .collect();
        store.remember_messages(&seen).await.unwrap();
        let first = store.remembered_messages(100, None, 10).await.unwrap();
        assert_eq!(first.len(), 10, "{name}");
        let second = store
            .remembered_messages(100, first.last().map(|(m, _)| m.clone()), 100)
            .await
            .unwrap();
        assert_eq!(
            second.len(),
            10,
            "{name}: the five expired ones are not read"
        );
        assert_eq!(store.forget_messages(100).await.unwrap(), 5, "{name}");
    }
}

#[tokio::test]
async fn a_shared_store_claims_a_msg_id_once() {
    let store = postgres().await;
    assert!(store.shared());
    let id = MsgId::parse("msgONCE").unwrap();
    let far = qunguan::clock::now_ms() + 60_000;
    let claims =
        futures_util::future::join_all((0..8).map(|_| store.claim_message(&id, far))).await;
    let won = claims.into_iter().filter(|c| *c.as_ref().unwrap()).count();
    assert_eq!(won, 1, "eight at once, one winner");
    // An expired claim can be made again.
    let old = MsgId::parse("msgOLD").unwrap();
    assert!(store.claim_message(&old, 1).await.unwrap());
    assert!(store.claim_message(&old, far).await.unwrap());
    assert!(
        !sqlite().shared(),
        "SQLite serves one replica; its claims stay in memory"
    );
}

#[tokio::test]
async fn the_audit_trail_reads_back_newest_first() {
    for (name, store) in backends().await {
        for i in 0..3 {
            let record = AuditRecord {
                at_ms: i,
                msg_id: MsgId::parse(&format!("m{i}")).unwrap(),
                conversation: cid("cidA=="),
                chat: (i == 0).then(|| chat("chat1")),
                sender_staff_id: StaffId::parse("u1").ok(),
                sender_nick: "张三".into(),
                command: "kick".into(),
                args: "u2".into(),
                outcome: "done".into(),
                errcode: None,
                request_id: Some(format!("r{i}")),
                duration_ms: 5,
                source: (i == 1).then(|| "schedule #7".to_owned()),
            };
            store.record_audit(&record).await.unwrap();
        }
        let recent = store.recent_audit(&cid("cidA=="), 2).await.unwrap();
        let ids: Vec<&str> = recent.iter().map(|r| r.msg_id.as_str()).collect();
        assert_eq!(ids, ["m2", "m1"], "{name}");
        assert_eq!(recent[0].sender_nick, "张三", "{name}");
        assert_eq!(recent[1].source.as_deref(), Some("schedule #7"), "{name}");
        assert_eq!(recent[0].source, None, "{name}");
        assert!(
            store
                .recent_audit(&cid("cidB=="), 5)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_confirmation_is_taken_once_by_its_requester_before_it_expires() {
    for (name, store) in backends().await {
        let pending = |code: &str, expires_at_ms| Confirmation {
            group: cid("cidA=="),
            code: code.into(),
            requester: StaffId::parse("alice").unwrap(),
            chat: chat("chat1"),
            command: "kick".into(),
            args: "u1".into(),
            action: r#"{"do":"kick","members":["u1"]}"#.into(),
            created_at_ms: 1_000,
            expires_at_ms,
        };
        assert!(
            store
                .save_confirmation(&pending("111111", 5_000))
                .await
                .unwrap(),
            "{name}"
        );
        assert!(
            !store
                .save_confirmation(&pending("111111", 5_000))
                .await
                .unwrap(),
            "{name}"
        );
        let (alice, bob) = (
            StaffId::parse("alice").unwrap(),
            StaffId::parse("bob").unwrap(),
        );
        let take = |group: &str, who: &StaffId, at| {
            let (store, group, who) = (store.clone(), cid(group), who.clone());
            async move {
                store
                    .take_confirmation(&group, "111111", &who, at)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(
            take("cidB==", &alice, 2_000).await,
            ConfirmTake::Unknown,
            "{name}"
        );
        assert_eq!(
            take("cidA==", &bob, 2_000).await,
            ConfirmTake::NotRequester,
            "{name}"
        );
        assert!(
            matches!(take("cidA==", &alice, 2_000).await, ConfirmTake::Taken(c) if c.args == "u1"),
            "{name}"
        );
        assert_eq!(
            take("cidA==", &alice, 2_001).await,
            ConfirmTake::Used,
            "{name}"
        );
        store
            .save_confirmation(&pending("222222", 5_000))
            .await
            .unwrap();
        let late = store
            .take_confirmation(&cid("cidA=="), "222222", &alice, 5_000)
            .await
            .unwrap();
        assert_eq!(late, ConfirmTake::Expired, "{name}");
        store.check().await.unwrap();
    }
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_qunguan_is_refused() {
    let url = fresh_database().await;
    let store = PostgresStore::open(&postgres_url(&url)).await.unwrap();
    drop(store);
    let again = PostgresStore::open(&postgres_url(&url)).await;
    assert!(again.is_ok(), "migrating twice is a no-op");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute("UPDATE qunguan_schema SET version = 99")
        .await
        .unwrap();
    let e = PostgresStore::open(&postgres_url(&url))
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("version 99, newer than this qunguan knows"),
        "{e}"
    );
    assert!(!e.contains("qunguan:qunguan@"), "no password in {e}");
}

#[tokio::test]
async fn schedules_are_kept_per_group_and_each_run_is_claimed_once() {
    for (name, store) in backends().await {
        let new = |group: &str, next_run_ms| NewSchedule {
            group: cid(group),
            creator: StaffId::parse("u1").unwrap(),
            creator_nick: "张伟".into(),
            rule: "daily 22:00".into(),
            command: "/mute-all".into(),
            created_at_ms: 1,
            next_run_ms,
        };
        let a = store.add_schedule(&new("cidA==", 1_000)).await.unwrap();
        let b = store.add_schedule(&new("cidA==", 500)).await.unwrap();
        let other = store.add_schedule(&new("cidB==", 2_000)).await.unwrap();
        let listed: Vec<i64> = store
            .schedules(&cid("cidA=="))
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(listed, [a, b], "{name}");
        let due: Vec<i64> = store
            .due_schedules(1_000, 10)
            .await
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(due, [b, a], "{name}: earliest first, not yet due left out");

        let claim = ScheduleClaim {
            id: a,
            due_ms: 1_000,
            next_ms: Some(87_400_000),
            now_ms: 1_001,
        };
        let claims =
            futures_util::future::join_all((0..8).map(|_| store.claim_schedule(&claim))).await;
        let won = claims.into_iter().filter(|c| *c.as_ref().unwrap()).count();
        assert_eq!(won, 1, "{name}: eight at once, one winner");
        store.finish_schedule(a, "done").await.unwrap();
        let after = store.schedules(&cid("cidA==")).await.unwrap();
        assert_eq!(after[0].next_run_ms, Some(87_400_000), "{name}");
        assert_eq!(after[0].last_run_ms, Some(1_001), "{name}");
        assert_eq!(after[0].last_outcome.as_deref(), Some("done"), "{name}");

        assert!(
            !store.remove_schedule(&cid("cidA=="), other).await.unwrap(),
            "{name}: another group's schedule is not removed"
        );
        assert!(
            store.remove_schedule(&cid("cidA=="), b).await.unwrap(),
            "{name}"
        );
        assert!(
            !store.remove_schedule(&cid("cidA=="), b).await.unwrap(),
            "{name}"
        );
        assert_eq!(
            store.schedules(&cid("cidB==")).await.unwrap().len(),
            1,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_group_lock_holds_other_replicas_off_until_released_or_dropped() {
    use std::time::Duration;
    let url = fresh_database().await;
    let (a, b) = (
        PostgresStore::open(&postgres_url(&url)).await.unwrap(),
        PostgresStore::open(&postgres_url(&url)).await.unwrap(),
    );
    let group = cid("cidLOCK==");
    let held = a.lock_group(&group).await.unwrap();
    let b = std::sync::Arc::new(b);
    let waiting = tokio::spawn({
        let (b, group) = (b.clone(), group.clone());
        async move { b.lock_group(&group).await.unwrap() }
    });
    crate::helpers::eventually("the other replica to wait for the lock", async || {
        crate::postgres::lock_waiters(&url).await == 1
    })
    .await;
    assert!(!waiting.is_finished(), "the other replica waits");
    let other = b.lock_group(&cid("cidOTHER==")).await.unwrap();
    other.release().await;
    held.release().await;
    let again = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("released: the other replica gets it")
        .unwrap();
    // Dropped unreleased (a cancelled command): freed with its connection.
    drop(again);
    let after_drop = tokio::time::timeout(Duration::from_secs(5), a.lock_group(&group))
        .await
        .expect("dropped: freed")
        .unwrap();
    after_drop.release().await;
    // Released locks give their connections back: more cycles than the pool has room for.
    for _ in 0..40 {
        a.lock_group(&group).await.unwrap().release().await;
    }
    assert!(a.check().await.is_ok());
    assert!(
        sqlite().lock_group(&group).await.is_ok(),
        "SQLite serves one replica: nothing to hold"
    );
}
