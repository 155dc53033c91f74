//! The store contract, once, run against both backends: embedded SQLite and PostgreSQL.

use std::sync::Arc;

use qunguan::{
    config::{Config, Database},
    ids::{ChatId, MsgId, OpenConversationId, StaffId},
    store::{
        AuditRecord, BindOutcome, Claim, ConfirmTake, Confirmation, PostgresStore, Replay,
        RunTakeover, Running, ScheduleClaim, SqliteStore, Store, StoreError,
    },
};

use crate::{postgres::fresh_database, schedules::daily_mute_all};

async fn postgres() -> Arc<dyn Store> {
    let url = fresh_database().await;
    Arc::new(open_postgres(&url).await.unwrap())
}

async fn open_postgres(url: &str) -> Result<PostgresStore, StoreError> {
    PostgresStore::open(&postgres_url(url), Replay::default()).await
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
    Arc::new(SqliteStore::open(&Database::SqliteMemory, Replay::default()).unwrap())
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

/// Remembered for the retention, then deleted; reading them back a page at a time is
/// SQLite's own (`store::sqlite::seen`'s start-up test).
#[tokio::test]
async fn remembered_msg_ids_page_and_expire() {
    let retention = Replay::default().retention.as_millis() as i64;
    let t0 = 1_000_000;
    for (name, store) in backends().await {
        let ids: Vec<MsgId> = (0..25)
            .map(|i| MsgId::parse(&format!("m{i:02}")).unwrap())
            .collect();
        for id in &ids {
            assert_eq!(
                store.claim_message(id, t0).await.unwrap(),
                Claim::New,
                "{name}"
            );
        }
        for id in &ids {
            let again = store.claim_message(id, t0 + retention - 1).await.unwrap();
            assert_eq!(again, Claim::Seen, "{name}: remembered for the retention");
        }
        store.flush_messages().await;
        let forgotten = store.forget_messages(t0 + 2 * retention).await.unwrap();
        assert_eq!(forgotten, 25, "{name}: every expired msgId is deleted");
        let after = store
            .claim_message(&ids[0], t0 + 2 * retention)
            .await
            .unwrap();
        assert_eq!(after, Claim::New, "{name}: an expired msgId may run again");
    }
}

#[tokio::test]
async fn a_shared_store_claims_a_msg_id_once() {
    let retention = Replay::default().retention.as_millis() as i64;
    for (name, store) in backends().await {
        let id = MsgId::parse("msgONCE").unwrap();
        let now = qunguan::clock::now_ms();
        let claims =
            futures_util::future::join_all((0..8).map(|_| store.claim_message(&id, now))).await;
        let won = claims
            .into_iter()
            .filter(|c| *c.as_ref().unwrap() == Claim::New)
            .count();
        assert_eq!(won, 1, "{name}: eight at once, one winner");
        // An expired claim can be made again.
        let old = MsgId::parse("msgOLD").unwrap();
        assert_eq!(
            store.claim_message(&old, 1).await.unwrap(),
            Claim::New,
            "{name}"
        );
        let later = 1 + 2 * retention;
        assert_eq!(
            store.claim_message(&old, later).await.unwrap(),
            Claim::New,
            "{name}"
        );
        assert_eq!(
            store.claim_message(&old, later).await.unwrap(),
            Claim::Seen,
            "{name}"
        );
    }
}

#[tokio::test]
async fn every_binding_is_listed_in_chatid_order() {
    for (name, store) in backends().await {
        assert!(store.bindings().await.unwrap().is_empty(), "{name}");
        for (group, chat_id) in [
            ("cidC==", "chat3"),
            ("cidA==", "chat1"),
            ("cidB==", "chat2"),
        ] {
            store.bind(&cid(group), &chat(chat_id), 1).await.unwrap();
        }
        store.unbind(&cid("cidB==")).await.unwrap();
        let listed = store.bindings().await.unwrap();
        assert_eq!(
            listed,
            [
                (cid("cidA=="), chat("chat1")),
                (cid("cidC=="), chat("chat3"))
            ],
            "{name}"
        );
    }
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
            store.record_audit(record).await.unwrap();
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
    let dir = tempfile::tempdir().unwrap();
    let file = Database::SqliteFile(dir.path().join("q.db"));
    drop(SqliteStore::open(&file, Replay::default()).unwrap());
    assert!(
        SqliteStore::open(&file, Replay::default()).is_ok(),
        "migrating twice is a no-op"
    );
    rusqlite::Connection::open(dir.path().join("q.db"))
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let e = SqliteStore::open(&file, Replay::default())
        .err()
        .expect("refused")
        .to_string();
    assert!(
        e.contains("version 99, newer than this qunguan knows"),
        "{e}"
    );

    let url = fresh_database().await;
    let store = open_postgres(&url).await.unwrap();
    drop(store);
    let again = open_postgres(&url).await;
    assert!(again.is_ok(), "migrating twice is a no-op");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
        .batch_execute("UPDATE qunguan_schema SET version = 99")
        .await
        .unwrap();
    let e = open_postgres(&url)
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
        let new = |group: &str, next_run_ms| daily_mute_all(&cid(group), next_run_ms);
        let a = store
            .add_schedule(&new("cidA==", 1_000), 50)
            .await
            .unwrap()
            .unwrap();
        let b = store
            .add_schedule(&new("cidA==", 500), 50)
            .await
            .unwrap()
            .unwrap();
        let other = store
            .add_schedule(&new("cidB==", 2_000), 50)
            .await
            .unwrap()
            .unwrap();
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
            until_ms: 61_001,
        };
        let claims =
            futures_util::future::join_all((0..8).map(|_| store.claim_schedule(&claim))).await;
        let won = claims.into_iter().filter(|c| *c.as_ref().unwrap()).count();
        assert_eq!(won, 1, "{name}: eight at once, one winner");
        let running = store.schedules(&cid("cidA==")).await.unwrap()[0].running;
        assert_eq!(
            running,
            Some(Running {
                due_ms: 1_000,
                until_ms: 61_001
            }),
            "{name}: marked started, with its lease"
        );
        // Its claimant renews it, then dies: the run is due again for a takeover once its
        // lease has run out, and one of many takes it.
        store.renew_schedule_run(a, 1_000, 15_000).await.unwrap();
        let due_at = |at| {
            let store = store.clone();
            async move {
                let due = store.due_schedules(at, 10).await.unwrap();
                due.iter().any(|s| s.id == a)
            }
        };
        assert!(!due_at(76_000).await, "{name}: held until 76 001");
        assert!(due_at(76_001).await, "{name}: abandoned");
        let takeover = RunTakeover {
            id: a,
            due_ms: 1_000,
            now_ms: 76_001,
            until_ms: 136_001,
        };
        let takeovers =
            futures_util::future::join_all((0..8).map(|_| store.retake_schedule_run(&takeover)))
                .await;
        let won = takeovers
            .into_iter()
            .filter(|t| *t.as_ref().unwrap())
            .count();
        assert_eq!(won, 1, "{name}: eight takeovers at once, one winner");
        store.finish_schedule(a, 1_000, "done").await.unwrap();
        // The first claimant's late finish records nothing more.
        store.finish_schedule(a, 1_000, "failed").await.unwrap();
        let after = store.schedules(&cid("cidA==")).await.unwrap();
        assert_eq!(after[0].next_run_ms, Some(87_400_000), "{name}");
        assert_eq!(after[0].last_run_ms, Some(1_001), "{name}");
        assert_eq!(after[0].last_outcome.as_deref(), Some("done"), "{name}");
        assert_eq!(after[0].running, None, "{name}: finished");

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

/// Whether `holder` takes (or renews) `group`'s lease at `now`, for 30 s.
async fn takes(store: &dyn Store, group: &OpenConversationId, holder: &str, now: i64) -> bool {
    store
        .lease_group(group, holder, now, now + 30_000)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_group_gets_no_more_schedules_than_it_may_however_many_replicas_add_at_once() {
    let url = fresh_database().await;
    let replicas: Vec<Arc<dyn Store>> = vec![
        Arc::new(open_postgres(&url).await.unwrap()),
        Arc::new(open_postgres(&url).await.unwrap()),
    ];
    let mut all = vec![("sqlite", vec![sqlite()]), ("postgres", replicas)];
    for (name, stores) in &mut all {
        let new = |group: &str| daily_mute_all(&cid(group), 5);
        for _ in 0..49 {
            stores[0]
                .add_schedule(&new("cidA=="), 50)
                .await
                .unwrap()
                .unwrap();
        }
        // Sixteen at once, spread over the replicas: one fits.
        let adds = (0..16).map(|i| {
            let store = stores[i % stores.len()].clone();
            let new = new("cidA==");
            async move { store.add_schedule(&new, 50).await }
        });
        let added = futures_util::future::join_all(adds).await;
        let saved = added.into_iter().filter(|a| a.as_ref().unwrap().is_some());
        assert_eq!(saved.count(), 1, "{name}");
        let listed = stores[1 % stores.len()]
            .schedules(&cid("cidA=="))
            .await
            .unwrap();
        assert_eq!(listed.len(), 50, "{name}");
        // Another group counts its own.
        let other = stores[0].add_schedule(&new("cidB=="), 50).await.unwrap();
        assert!(other.is_some(), "{name}");
    }
}

#[tokio::test]
async fn a_group_lease_holds_other_holders_off_until_ended_or_run_out() {
    let (group, other_group) = (cid("cidLEASE=="), cid("cidOTHER=="));
    for (name, store) in backends().await {
        let s = store.as_ref();
        let t = 1_000_000;
        assert!(takes(s, &group, "a", t).await, "{name}");
        assert!(!takes(s, &group, "b", t + 1).await, "{name}: held");
        assert!(
            takes(s, &other_group, "b", t + 1).await,
            "{name}: another group is free"
        );
        assert!(takes(s, &group, "a", t + 10_000).await, "{name}: renewed");
        assert!(
            !takes(s, &group, "b", t + 35_000).await,
            "{name}: renewal counts"
        );
        store.end_group_lease(&group, "b").await.unwrap();
        assert!(
            !takes(s, &group, "b", t + 35_000).await,
            "{name}: only its holder ends it"
        );
        store.end_group_lease(&group, "a").await.unwrap();
        assert!(takes(s, &group, "b", t + 35_000).await, "{name}: ended");
        // b dies holding it (until t + 65 000): the lease runs out.
        assert!(!takes(s, &group, "c", t + 64_999).await, "{name}");
        assert!(takes(s, &group, "c", t + 65_000).await, "{name}: ran out");
        assert!(
            !takes(s, &group, "b", t + 65_001).await,
            "{name}: not back to its old holder"
        );
        // Of many holders trying at once, one gets it.
        let race = cid("cidRACE==");
        let holders: Vec<String> = (0..8).map(|i| format!("h{i}")).collect();
        let won =
            futures_util::future::join_all(holders.iter().map(|h| takes(s, &race, h, t))).await;
        assert_eq!(won.iter().filter(|w| **w).count(), 1, "{name}: {won:?}");
    }
}

/// Statements run on the database behind a store, beside it: SQLite's file or PostgreSQL.
enum Raw {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Raw {
    async fn run(&self, sql: &str) {
        match self {
            Raw::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Raw::Postgres(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                client.batch_execute(sql).await.unwrap();
            }
        }
    }

    /// `(table, column)` of every table qunguan made, and the names of its own indexes.
    async fn schema(&self) -> (Vec<(String, String)>, Vec<String>) {
        let (mut columns, mut indexes): (Vec<(String, String)>, Vec<String>) = match self {
            Raw::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).unwrap();
                let columns = conn
                    .prepare(
                        "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
                         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
                    )
                    .unwrap()
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                let indexes = conn
                    .prepare(
                        "SELECT name FROM sqlite_master
                         WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
                    )
                    .unwrap()
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect();
                (columns, indexes)
            }
            Raw::Postgres(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(connection);
                let columns = client
                    .query(
                        "SELECT table_name::text, column_name::text FROM information_schema.columns
                         WHERE table_schema = 'public' AND table_name <> 'qunguan_schema'",
                        &[],
                    )
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect();
                // Primary keys and UNIQUE constraints name their own indexes.
                let indexes = client
                    .query(
                        "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'
                         AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'",
                        &[],
                    )
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                (columns, indexes)
            }
        };
        columns.sort();
        indexes.sort();
        (columns, indexes)
    }
}

/// A migrated SQLite file and a migrated PostgreSQL database, with their raw access.
async fn raw_backends(dir: &std::path::Path) -> Vec<(&'static str, Raw, Database)> {
    let path = dir.join("q.db");
    let file = Database::SqliteFile(path.clone());
    drop(SqliteStore::open(&file, Replay::default()).unwrap());
    let url = fresh_database().await;
    drop(open_postgres(&url).await.unwrap());
    let postgres = Database::Postgres(postgres_url(&url));
    vec![
        ("sqlite", Raw::Sqlite(path), file),
        ("postgres", Raw::Postgres(url), postgres),
    ]
}

#[tokio::test]
async fn both_backends_migrate_to_the_same_tables_columns_and_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let backends = raw_backends(dir.path()).await;
    let sqlite = backends[0].1.schema().await;
    let postgres = backends[1].1.schema().await;
    assert!(
        sqlite
            .0
            .contains(&("schedules".to_owned(), "last_outcome".to_owned())),
        "{sqlite:?}"
    );
    assert_eq!(sqlite, postgres);
}

#[tokio::test]
async fn corrupt_rows_read_the_same_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    for (name, raw, database) in raw_backends(dir.path()).await {
        // Ids that no longer parse: a space in a conversation id, a chatid, a msgId, a
        // staff id.
        raw.run(
            "INSERT INTO bindings VALUES ('cidGood==', 'chatgood', 1);
             INSERT INTO bindings VALUES ('bad cid', 'chatheld', 1);
             INSERT INTO bindings VALUES ('cidBadChat==', 'chat with space', 1);
             INSERT INTO audit (at_ms, msg_id, conversation_id, sender_nick, command, args,
               outcome, duration_ms) VALUES (1, 'm1', 'cidA==', 'n', 'kick', '', 'done', 1);
             INSERT INTO audit (at_ms, msg_id, conversation_id, sender_nick, command, args,
               outcome, duration_ms) VALUES (2, 'm 2', 'cidA==', 'n', 'kick', '', 'done', 1);
             INSERT INTO schedules (conversation_id, creator, creator_nick, rule, command,
               created_at_ms, next_run_ms) VALUES ('cidA==', 'u1', 'n', 'daily 22:00', '/mute-all', 1, 5);
             INSERT INTO schedules (conversation_id, creator, creator_nick, rule, command,
               created_at_ms, next_run_ms) VALUES ('cidA==', 'u 2', 'n', 'daily 22:00', '/mute-all', 1, 5);
             INSERT INTO confirmations VALUES ('cidA==', '111111', 'alice', 'bad chat', 'kick',
               'u1', '{}', 1, 9000000000000, NULL);",
        )
        .await;
        let store = qunguan::store::open(&database, Replay::default())
            .await
            .unwrap();
        // In a list, a row that does not read is left out.
        assert_eq!(
            store.bindings().await.unwrap(),
            [(cid("cidGood=="), chat("chatgood"))],
            "{name}"
        );
        assert_eq!(
            store.recent_audit(&cid("cidA=="), 10).await.unwrap().len(),
            1,
            "{name}"
        );
        assert_eq!(
            store.schedules(&cid("cidA==")).await.unwrap().len(),
            1,
            "{name}"
        );
        assert_eq!(
            store.due_schedules(10, 10).await.unwrap().len(),
            1,
            "{name}"
        );
        // A chatid that does not read leaves its group unbound, so /bind can replace it.
        assert_eq!(
            store.binding(&cid("cidBadChat==")).await.unwrap(),
            None,
            "{name}"
        );
        assert_eq!(
            store
                .bind(&cid("cidBadChat=="), &chat("chatnew"), 2)
                .await
                .unwrap(),
            BindOutcome::Bound,
            "{name}"
        );
        // An answer that rests on an unreadable row fails, and changes nothing.
        for _ in 0..2 {
            let taken = store
                .take_confirmation(
                    &cid("cidA=="),
                    "111111",
                    &StaffId::parse("alice").unwrap(),
                    5,
                )
                .await;
            assert!(
                matches!(taken, Err(StoreError::Corrupt(_))),
                "{name}: {taken:?}"
            );
        }
        let bound = store.bind(&cid("cidNew=="), &chat("chatheld"), 3).await;
        assert!(
            matches!(bound, Err(StoreError::Corrupt(_))),
            "{name}: {bound:?}"
        );
        assert_eq!(
            store.binding(&cid("cidNew==")).await.unwrap(),
            None,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_welcome_is_kept_replaced_removed_and_sent_at_most_once_per_window() {
    use qunguan::store::{Welcome, WelcomeTurn};
    for (name, store) in backends().await {
        let group = cid("cidW==");
        assert_eq!(store.welcome(&group).await.unwrap(), None, "{name}");
        assert_eq!(
            store.claim_welcome(&group, 1_000, 10_000).await.unwrap(),
            WelcomeTurn::Off,
            "{name}"
        );
        let welcome = |text: &str| Welcome {
            text: text.into(),
            set_by: StaffId::parse("u1").unwrap(),
            set_at_ms: 5,
        };
        store
            .set_welcome(&group, &welcome("hi {name}"))
            .await
            .unwrap();
        store
            .set_welcome(&group, &welcome("欢迎 {name}"))
            .await
            .unwrap();
        assert_eq!(
            store.welcome(&group).await.unwrap(),
            Some(welcome("欢迎 {name}")),
            "{name}"
        );
        let turns = futures_util::future::join_all(
            (0..6).map(|_| store.claim_welcome(&group, 20_000, 10_000)),
        )
        .await;
        let sent = turns
            .iter()
            .filter(
                |t| matches!(t.as_ref().unwrap(), WelcomeTurn::Send(text) if text == "欢迎 {name}"),
            )
            .count();
        assert_eq!(sent, 1, "{name}: six at once, one turn");
        assert!(
            turns
                .iter()
                .any(|t| *t.as_ref().unwrap() == WelcomeTurn::WaitUntil(30_000)),
            "{name}"
        );
        assert!(
            matches!(
                store.claim_welcome(&group, 30_000, 10_000).await.unwrap(),
                WelcomeTurn::Send(_)
            ),
            "{name}"
        );
        assert!(store.remove_welcome(&group).await.unwrap(), "{name}");
        assert!(!store.remove_welcome(&group).await.unwrap(), "{name}");
    }
}

#[tokio::test]
async fn a_dissolved_group_leaves_only_its_audit_trail() {
    use qunguan::store::Welcome;
    for (name, store) in backends().await {
        let (gone, kept) = (cid("cidGone=="), cid("cidKept=="));
        for (group, chat_id) in [(&gone, "chatgone"), (&kept, "chatkept")] {
            store.bind(group, &chat(chat_id), 1).await.unwrap();
            store
                .add_schedule(&daily_mute_all(group, 5), 50)
                .await
                .unwrap();
            let welcome = Welcome {
                text: "hi".into(),
                set_by: StaffId::parse("u1").unwrap(),
                set_at_ms: 1,
            };
            store.set_welcome(group, &welcome).await.unwrap();
            let pending = Confirmation {
                group: group.clone(),
                code: "123456".into(),
                requester: StaffId::parse("u1").unwrap(),
                chat: chat(chat_id),
                command: "kick".into(),
                args: "u2".into(),
                action: r#"{"do":"kick","members":["u2"]}"#.into(),
                created_at_ms: 1,
                expires_at_ms: i64::MAX,
            };
            assert!(store.save_confirmation(&pending).await.unwrap(), "{name}");
            store
                .record_audit(AuditRecord {
                    at_ms: 1,
                    msg_id: MsgId::parse("m1").unwrap(),
                    conversation: group.clone(),
                    chat: None,
                    sender_staff_id: None,
                    sender_nick: "n".into(),
                    command: "bind".into(),
                    args: String::new(),
                    outcome: "done".into(),
                    errcode: None,
                    request_id: None,
                    duration_ms: 0,
                    source: None,
                })
                .await
                .unwrap();
        }
        store.forget_group(&gone).await.unwrap();
        assert_eq!(store.binding(&gone).await.unwrap(), None, "{name}");
        assert!(store.schedules(&gone).await.unwrap().is_empty(), "{name}");
        assert_eq!(store.welcome(&gone).await.unwrap(), None, "{name}");
        let alice = StaffId::parse("u1").unwrap();
        let taken = store.take_confirmation(&gone, "123456", &alice, 2).await;
        assert_eq!(
            taken.unwrap(),
            ConfirmTake::Unknown,
            "{name}: its confirmations are gone"
        );
        assert_eq!(
            store.recent_audit(&gone, 5).await.unwrap().len(),
            1,
            "{name}: the audit stays"
        );
        assert!(
            store.binding(&kept).await.unwrap().is_some(),
            "{name}: another group is untouched"
        );
        assert_eq!(store.schedules(&kept).await.unwrap().len(), 1, "{name}");
        assert!(
            matches!(
                store
                    .take_confirmation(&kept, "123456", &alice, 2)
                    .await
                    .unwrap(),
                ConfirmTake::Taken(_)
            ),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_released_claim_is_new_again() {
    for (name, store) in backends().await {
        let id = MsgId::parse("event-ev1").unwrap();
        let now = qunguan::clock::now_ms();
        assert_eq!(
            store.claim_message(&id, now).await.unwrap(),
            Claim::New,
            "{name}"
        );
        store.flush_messages().await;
        store.release_message(&id).await.unwrap();
        store.flush_messages().await;
        assert_eq!(
            store.claim_message(&id, now + 1).await.unwrap(),
            Claim::New,
            "{name}"
        );
        assert_eq!(
            store.claim_message(&id, now + 2).await.unwrap(),
            Claim::Seen,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_released_claim_is_gone_from_the_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let file = Database::SqliteFile(dir.path().join("q.db"));
    let id = MsgId::parse("event-ev2").unwrap();
    let now = qunguan::clock::now_ms();
    {
        let store = SqliteStore::open(&file, Replay::default()).unwrap();
        assert_eq!(store.claim_message(&id, now).await.unwrap(), Claim::New);
        store.flush_messages().await;
        store.release_message(&id).await.unwrap();
        store.flush_messages().await;
    }
    let reopened = SqliteStore::open(&file, Replay::default()).unwrap();
    assert_eq!(
        reopened.claim_message(&id, now + 1).await.unwrap(),
        Claim::New,
        "a claim given back is not remembered after a restart"
    );
}
