//! The embedded SQLite store: one connection behind a mutex, used from the blocking pool.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

mod audit;
mod confirmations;
mod schedules;

use super::{
    AuditRecord, BindOutcome, ConfirmTake, Confirmation, NewSchedule, Schedule, ScheduleClaim,
    Store, StoreError,
};
use crate::{
    config::Database,
    ids::{ChatId, MsgId, OpenConversationId, StaffId},
};

/// Schema versions, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: bindings and seen msgIds.
    "CREATE TABLE bindings (
         conversation_id TEXT PRIMARY KEY,
         chat_id TEXT NOT NULL UNIQUE,
         bound_at_ms INTEGER NOT NULL
     );
     CREATE TABLE seen_messages (
         msg_id TEXT PRIMARY KEY,
         keep_until_ms INTEGER NOT NULL
     ) WITHOUT ROWID;
     CREATE INDEX seen_messages_keep_until ON seen_messages (keep_until_ms);",
    // 2: the audit trail.
    "CREATE TABLE audit (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         at_ms INTEGER NOT NULL,
         msg_id TEXT NOT NULL,
         conversation_id TEXT NOT NULL,
         chat_id TEXT,
         sender_staff_id TEXT,
         sender_nick TEXT NOT NULL,
         command TEXT NOT NULL,
         args TEXT NOT NULL,
         outcome TEXT NOT NULL,
         errcode TEXT,
         request_id TEXT,
         duration_ms INTEGER NOT NULL
     );
     CREATE INDEX audit_by_group ON audit (conversation_id, id);",
    // 3: commands waiting for /confirm.
    "CREATE TABLE confirmations (
         conversation_id TEXT NOT NULL,
         code TEXT NOT NULL,
         requester TEXT NOT NULL,
         chat_id TEXT NOT NULL,
         command TEXT NOT NULL,
         args TEXT NOT NULL,
         action TEXT NOT NULL,
         created_at_ms INTEGER NOT NULL,
         expires_at_ms INTEGER NOT NULL,
         used_at_ms INTEGER,
         PRIMARY KEY (conversation_id, code)
     );
     CREATE INDEX confirmations_expiry ON confirmations (expires_at_ms);",
    // 4: where a run came from (a schedule, a policy file), and the schedules.
    "ALTER TABLE audit ADD COLUMN source TEXT;
     CREATE TABLE schedules (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         conversation_id TEXT NOT NULL,
         creator TEXT NOT NULL,
         creator_nick TEXT NOT NULL,
         rule TEXT NOT NULL,
         command TEXT NOT NULL,
         created_at_ms INTEGER NOT NULL,
         next_run_ms INTEGER,
         last_run_ms INTEGER,
         last_outcome TEXT
     );
     CREATE INDEX schedules_by_group ON schedules (conversation_id, id);
     CREATE INDEX schedules_due ON schedules (next_run_ms);",
];

/// SQLite-backed [`Store`].
pub struct SqliteStore {
    /// One connection: SQLite serialises writers anyway, and a mutex makes each
    /// check-then-write (bind) atomic without explicit transactions.
    conn: Arc<Mutex<Connection>>,
    /// Every binding, read on each command that needs a chatid. This store is the only
    /// writer of its file (one replica), so the map is kept exact on bind and unbind.
    bindings: Arc<RwLock<HashMap<OpenConversationId, ChatId>>>,
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database. Errors name the path.
    pub fn open(database: &Database) -> Result<Self, StoreError> {
        let (path, conn) = match database {
            Database::SqliteMemory => (":memory:".to_owned(), Connection::open_in_memory()),
            Database::SqliteFile(path) => (path.display().to_string(), Connection::open(path)),
            Database::Postgres(url) => {
                return Err(StoreError::Open {
                    what: url.to_string(),
                    source: "not an SQLite database".into(),
                });
            }
        };
        let opened = conn.and_then(|mut conn| {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            migrate(&mut conn)?;
            Ok(conn)
        });
        let with_bindings = opened.and_then(|conn| {
            let bindings = load_bindings(&conn)?;
            Ok((conn, bindings))
        });
        match with_bindings {
            Ok((conn, bindings)) => Ok(Self {
                conn: Arc::new(Mutex::new(conn)),
                bindings: Arc::new(RwLock::new(bindings)),
            }),
            Err(source) => Err(StoreError::Open {
                what: path,
                source: Box::new(source),
            }),
        }
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
        .map_err(StoreError::from)
    }
}

fn load_bindings(conn: &Connection) -> rusqlite::Result<HashMap<OpenConversationId, ChatId>> {
    let mut stmt = conn.prepare("SELECT conversation_id, chat_id FROM bindings")?;
    let rows = stmt.query_map([], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut bindings = HashMap::new();
    for row in rows {
        let (cid, chat) = row?;
        if let (Ok(cid), Ok(chat)) = (OpenConversationId::parse(&cid), ChatId::parse(&chat)) {
            bindings.insert(cid, chat);
        }
    }
    Ok(bindings)
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let done: usize = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn remember_messages(&self, seen: &[(MsgId, i64)]) -> Result<(), StoreError> {
        let seen: Vec<(String, i64)> = seen
            .iter()
            .map(|(m, t)| (m.as_str().to_owned(), *t))
            .collect();
        self.with(move |conn| {
            let tx = conn.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO seen_messages (msg_id, keep_until_ms) VALUES (?1, ?2)
                     ON CONFLICT (msg_id) DO UPDATE SET keep_until_ms = excluded.keep_until_ms",
                )?;
                for (msg_id, keep_until_ms) in &seen {
                    insert.execute(params![msg_id, keep_until_ms])?;
                }
            }
            tx.commit()
        })
        .await
    }

    async fn remembered_messages(
        &self,
        now_ms: i64,
        after: Option<MsgId>,
        limit: usize,
    ) -> Result<Vec<(MsgId, i64)>, StoreError> {
        self.with(move |conn| {
            // Keyset pages over the primary key: each page is one index range scan.
            let mut stmt = conn.prepare_cached(
                "SELECT msg_id, keep_until_ms FROM seen_messages
                 WHERE msg_id > ?1 AND keep_until_ms > ?2 ORDER BY msg_id LIMIT ?3",
            )?;
            let after = after.as_ref().map_or("", MsgId::as_str).to_owned();
            let rows = stmt.query_map(rusqlite::params![after, now_ms, limit as i64], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?;
            let mut out = Vec::with_capacity(limit.min(16_384));
            for row in rows {
                let (raw, keep_until_ms) = row?;
                if let Ok(msg_id) = MsgId::parse(&raw) {
                    out.push((msg_id, keep_until_ms));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn forget_messages(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.with(move |conn| {
            let n = conn.execute(
                "DELETE FROM seen_messages WHERE keep_until_ms <= ?1",
                [now_ms],
            )?;
            Ok(n as u64)
        })
        .await
    }

    async fn binding(&self, group: &OpenConversationId) -> Result<Option<ChatId>, StoreError> {
        Ok(self
            .bindings
            .read()
            .expect("bindings lock poisoned")
            .get(group)
            .cloned())
    }

    async fn bind(
        &self,
        group: &OpenConversationId,
        chat: &ChatId,
        now_ms: i64,
    ) -> Result<BindOutcome, StoreError> {
        let (group, chat) = (group.clone(), chat.clone());
        let bindings = self.bindings.clone();
        self.with(move |conn| {
            let holder: Option<String> = conn
                .query_row(
                    "SELECT conversation_id FROM bindings WHERE chat_id = ?1",
                    [chat.as_str()],
                    |row| row.get(0),
                )
                .optional()?;
            match holder {
                Some(h) if h == group.as_str() => return Ok(BindOutcome::AlreadyBound),
                Some(h) => {
                    let by = OpenConversationId::parse(&h).map_err(|e| {
                        rusqlite::Error::InvalidParameterName(format!("stored cid {e}"))
                    })?;
                    return Ok(BindOutcome::ChatTaken { by });
                }
                None => {}
            }
            let previous: Option<String> = conn
                .query_row(
                    "SELECT chat_id FROM bindings WHERE conversation_id = ?1",
                    [group.as_str()],
                    |row| row.get(0),
                )
                .optional()?;
            conn.execute(
                "INSERT INTO bindings (conversation_id, chat_id, bound_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (conversation_id) DO UPDATE SET chat_id = excluded.chat_id,
                 bound_at_ms = excluded.bound_at_ms",
                params![group.as_str(), chat.as_str(), now_ms],
            )?;
            // Still under the connection lock: the map changes with the table.
            bindings
                .write()
                .expect("bindings lock poisoned")
                .insert(group, chat);
            Ok(match previous.and_then(|p| ChatId::parse(&p).ok()) {
                Some(previous) => BindOutcome::Replaced { previous },
                None => BindOutcome::Bound,
            })
        })
        .await
    }

    async fn unbind(&self, group: &OpenConversationId) -> Result<Option<ChatId>, StoreError> {
        let group = group.clone();
        let bindings = self.bindings.clone();
        let removed: Option<String> = self
            .with(move |conn| {
                let removed = conn
                    .query_row(
                        "DELETE FROM bindings WHERE conversation_id = ?1 RETURNING chat_id",
                        [group.as_str()],
                        |row| row.get(0),
                    )
                    .optional()?;
                bindings
                    .write()
                    .expect("bindings lock poisoned")
                    .remove(&group);
                Ok(removed)
            })
            .await?;
        Ok(removed.and_then(|s| ChatId::parse(&s).ok()))
    }

    async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError> {
        let record = record.clone();
        self.with(move |conn| audit::insert(conn, &record)).await
    }

    async fn recent_audit(
        &self,
        group: &OpenConversationId,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let group = group.clone();
        self.with(move |conn| audit::recent(conn, &group, limit))
            .await
    }

    async fn save_confirmation(&self, pending: &Confirmation) -> Result<bool, StoreError> {
        let pending = pending.clone();
        self.with(move |conn| confirmations::save(conn, &pending))
            .await
    }

    async fn take_confirmation(
        &self,
        group: &OpenConversationId,
        code: &str,
        requester: &StaffId,
        now_ms: i64,
    ) -> Result<ConfirmTake, StoreError> {
        let (group, code, requester) = (group.clone(), code.to_owned(), requester.clone());
        self.with(move |conn| confirmations::take(conn, &group, &code, &requester, now_ms))
            .await
    }

    async fn bindings(&self) -> Result<Vec<(OpenConversationId, ChatId)>, StoreError> {
        let mut all: Vec<_> = self
            .bindings
            .read()
            .expect("bindings lock poisoned")
            .iter()
            .map(|(cid, chat)| (cid.clone(), chat.clone()))
            .collect();
        all.sort_by(|a, b| a.1.as_str().cmp(b.1.as_str()));
        Ok(all)
    }

    async fn add_schedule(&self, schedule: &NewSchedule) -> Result<i64, StoreError> {
        let schedule = schedule.clone();
        self.with(move |conn| schedules::add(conn, &schedule)).await
    }

    async fn schedules(&self, group: &OpenConversationId) -> Result<Vec<Schedule>, StoreError> {
        let group = group.clone();
        self.with(move |conn| schedules::of_group(conn, &group))
            .await
    }

    async fn remove_schedule(
        &self,
        group: &OpenConversationId,
        id: i64,
    ) -> Result<bool, StoreError> {
        let group = group.clone();
        self.with(move |conn| schedules::remove(conn, &group, id))
            .await
    }

    async fn due_schedules(&self, now_ms: i64, limit: usize) -> Result<Vec<Schedule>, StoreError> {
        self.with(move |conn| schedules::due(conn, now_ms, limit))
            .await
    }

    async fn claim_schedule(&self, claim: &ScheduleClaim) -> Result<bool, StoreError> {
        let claim = claim.clone();
        self.with(move |conn| schedules::claim(conn, &claim)).await
    }

    async fn finish_schedule(&self, id: i64, outcome: &str) -> Result<(), StoreError> {
        let outcome = outcome.to_owned();
        self.with(move |conn| schedules::finish(conn, id, &outcome))
            .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.with(|conn| conn.query_row("SELECT 1", [], |_| Ok(())))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::StaffId;

    fn ids() -> (OpenConversationId, OpenConversationId, ChatId, ChatId) {
        (
            OpenConversationId::parse("cidA==").unwrap(),
            OpenConversationId::parse("cidB==").unwrap(),
            ChatId::parse("chat1").unwrap(),
            ChatId::parse("chat2").unwrap(),
        )
    }

    #[tokio::test]
    async fn remembered_msg_ids_are_kept_until_they_expire() {
        let store = SqliteStore::open(&Database::SqliteMemory).unwrap();
        let (m1, m2) = (MsgId::parse("msg1").unwrap(), MsgId::parse("msg2").unwrap());
        store
            .remember_messages(&[(m1.clone(), 100), (m2.clone(), 200)])
            .await
            .unwrap();
        store.remember_messages(&[(m1.clone(), 300)]).await.unwrap();
        let kept = store.remembered_messages(150, None, 10).await.unwrap();
        assert_eq!(kept, vec![(m1.clone(), 300), (m2.clone(), 200)]);
        let first = store.remembered_messages(150, None, 1).await.unwrap();
        assert_eq!(first, vec![(m1.clone(), 300)]);
        let next = store.remembered_messages(150, Some(m1), 1).await.unwrap();
        assert_eq!(next, vec![(m2, 200)]);
        assert_eq!(store.forget_messages(250).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn bind_outcomes() {
        let store = SqliteStore::open(&Database::SqliteMemory).unwrap();
        let (a, b, c1, c2) = ids();
        assert_eq!(store.bind(&a, &c1, 0).await.unwrap(), BindOutcome::Bound);
        assert_eq!(
            store.bind(&a, &c1, 0).await.unwrap(),
            BindOutcome::AlreadyBound
        );
        assert_eq!(
            store.bind(&b, &c1, 0).await.unwrap(),
            BindOutcome::ChatTaken { by: a.clone() }
        );
        assert_eq!(
            store.bind(&a, &c2, 0).await.unwrap(),
            BindOutcome::Replaced {
                previous: c1.clone()
            }
        );
        assert_eq!(store.binding(&a).await.unwrap(), Some(c2.clone()));
        assert_eq!(store.unbind(&a).await.unwrap(), Some(c2));
        assert_eq!(store.unbind(&a).await.unwrap(), None);
        assert_eq!(store.binding(&a).await.unwrap(), None);
    }

    #[tokio::test]
    async fn bindings_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::SqliteFile(dir.path().join("q.db"));
        let (a, _, c1, _) = ids();
        SqliteStore::open(&db)
            .unwrap()
            .bind(&a, &c1, 0)
            .await
            .unwrap();
        assert_eq!(
            SqliteStore::open(&db).unwrap().binding(&a).await.unwrap(),
            Some(c1)
        );
    }

    #[tokio::test]
    async fn audit_records_are_kept_per_group_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::SqliteFile(dir.path().join("q.db"));
        let (a, b, c1, _) = ids();
        let record = |group: &OpenConversationId, n: i64| AuditRecord {
            at_ms: n,
            msg_id: MsgId::parse(&format!("m{n}")).unwrap(),
            conversation: group.clone(),
            chat: Some(c1.clone()),
            sender_staff_id: StaffId::parse("s1").ok(),
            sender_nick: "张三".into(),
            command: "lock-friending".into(),
            args: String::new(),
            outcome: "done".into(),
            errcode: None,
            request_id: Some(format!("r{n}")),
            duration_ms: 5,
            source: None,
        };
        let store = SqliteStore::open(&db).unwrap();
        for n in 1..=3 {
            store.record_audit(&record(&a, n)).await.unwrap();
        }
        store.record_audit(&record(&b, 4)).await.unwrap();
        drop(store);
        let store = SqliteStore::open(&db).unwrap();
        let got = store.recent_audit(&a, 2).await.unwrap();
        assert_eq!(got, vec![record(&a, 3), record(&a, 2)]);
    }

    #[test]
    fn an_unopenable_path_is_named_in_the_error() {
        let db = Database::SqliteFile("/nonexistent-dir/sub/q.db".into());
        let err = SqliteStore::open(&db).err().unwrap().to_string();
        assert!(err.contains("/nonexistent-dir/sub/q.db"), "{err}");
    }
}
