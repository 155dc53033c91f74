//! The embedded SQLite store: one connection behind a mutex, used from the blocking pool
//! and by two writer threads, the seen msgIds' ([`seen`]) and the audit trail's
//! ([`audit`]). Its process is the only writer of its file, so it keeps the bindings and
//! the seen msgIds in memory as well, exact on every write.

mod audit;
mod queries;
mod seen;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock, mpsc},
};

use async_trait::async_trait;
use rusqlite::Connection;

use super::{
    AuditRecord, BindOutcome, Claim, ConfirmTake, Confirmation, NewSchedule, Replay, RunTakeover,
    Schedule, ScheduleClaim, Store, StoreError, Welcome, WelcomeTurn, migrations,
};
use crate::{
    clock::now_ms,
    config::Database,
    ids::{ChatId, MsgId, OpenConversationId, StaffId},
};
use seen::SeenSet;

/// SQLite-backed [`Store`].
pub struct SqliteStore {
    /// One connection: SQLite serialises writers anyway, and a mutex makes each
    /// check-then-write (bind) atomic without explicit transactions.
    conn: Arc<Mutex<Connection>>,
    /// Every binding, read on each command that needs a chatid, kept exact on bind and
    /// unbind (under the connection lock, with the table).
    bindings: Arc<RwLock<HashMap<OpenConversationId, ChatId>>>,
    seen: SeenSet,
    audit: audit::Appender,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

impl SqliteStore {
    /// Opens (creating if needed) and migrates the database, or refuses one a newer
    /// qunguan migrated; loads the bindings and the msgIds seen within `replay`'s
    /// retention. Errors name the path.
    pub fn open(database: &Database, replay: Replay) -> Result<Self, StoreError> {
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
        let failed = |source: StoreError| StoreError::Open {
            what: path.clone(),
            source: Box::new(source),
        };
        let mut conn = conn.map_err(|e| failed(e.into()))?;
        prepare(&mut conn).map_err(failed)?;
        let bindings = queries::all_bindings(&conn).map_err(failed)?;
        let conn = Arc::new(Mutex::new(conn));
        let seen = SeenSet::open(conn.clone(), replay, now_ms()).map_err(failed)?;
        let audit = audit::Appender::start(conn.clone()).map_err(failed)?;
        Ok(Self {
            conn,
            bindings: Arc::new(RwLock::new(bindings.into_iter().collect())),
            seen,
            audit,
        })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// Starts a thread named `name` that writes what is queued to it: `write` gets each batch
/// (whatever queued up, at most `batch` jobs) with the connection locked, and the thread
/// rests `pause` before the next. It ends when the sender it returns is dropped.
fn spawn_writer<J: Send + 'static>(
    name: &str,
    conn: Arc<Mutex<Connection>>,
    batch: usize,
    pause: std::time::Duration,
    mut write: impl FnMut(&mut Connection, Vec<J>) + Send + 'static,
) -> Result<mpsc::Sender<J>, StoreError> {
    let (queue, jobs) = mpsc::channel();
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            while let Ok(first) = jobs.recv() {
                let jobs: Vec<J> = std::iter::once(first)
                    .chain(jobs.try_iter().take(batch - 1))
                    .collect();
                write(&mut conn.lock().unwrap_or_else(|p| p.into_inner()), jobs);
                if !pause.is_zero() {
                    std::thread::sleep(pause);
                }
            }
        })
        .map_err(|e| StoreError::Task(e.to_string()))?;
    Ok(queue)
}

/// The file's settings, then its migrations.
fn prepare(conn: &mut Connection) -> Result<(), StoreError> {
    // First, so that switching to WAL and migrating wait for another process opening the
    // same file (`policy apply` beside `serve`) instead of failing at once.
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    migrate(conn)
}

/// In one write transaction, taken before the version is read: of two processes opening
/// a new file at once (`serve` and `policy apply`), one migrates and the other then finds
/// it done.
fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for migration in migrations::pending(migrations::SQLITE, found)? {
        tx.execute_batch(migration.sql)?;
        tx.pragma_update(None, "user_version", migration.version)?;
    }
    tx.commit()?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn claim_message(&self, msg_id: &MsgId, now_ms: i64) -> Result<Claim, StoreError> {
        Ok(self.seen.claim(msg_id, now_ms))
    }

    async fn release_message(&self, msg_id: &MsgId) -> Result<(), StoreError> {
        self.seen.release(msg_id);
        Ok(())
    }

    async fn forget_messages(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.seen.forget_expired(now_ms);
        self.with(move |conn| queries::forget_messages(conn, now_ms))
            .await
    }

    fn messages_in_memory(&self) -> Option<usize> {
        Some(self.seen.forget_expired(now_ms()))
    }

    async fn flush_messages(&self) {
        self.seen.flush().await;
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
            let outcome = queries::bind(conn, &group, &chat, now_ms)?;
            if matches!(outcome, BindOutcome::Bound | BindOutcome::Replaced { .. }) {
                // Still under the connection lock: the map changes with the table.
                let mut map = bindings.write().expect("bindings lock poisoned");
                map.insert(group, chat);
            }
            Ok(outcome)
        })
        .await
    }

    async fn unbind(&self, group: &OpenConversationId) -> Result<Option<ChatId>, StoreError> {
        let group = group.clone();
        let bindings = self.bindings.clone();
        self.with(move |conn| {
            let removed = queries::unbind(conn, &group)?;
            bindings
                .write()
                .expect("bindings lock poisoned")
                .remove(&group);
            Ok(removed)
        })
        .await
    }

    async fn forget_group(&self, group: &OpenConversationId) -> Result<(), StoreError> {
        let group = group.clone();
        let bindings = self.bindings.clone();
        self.with(move |conn| {
            queries::forget_group(conn, &group)?;
            bindings
                .write()
                .expect("bindings lock poisoned")
                .remove(&group);
            Ok(())
        })
        .await
    }

    async fn welcome(&self, group: &OpenConversationId) -> Result<Option<Welcome>, StoreError> {
        let group = group.clone();
        self.with(move |conn| queries::welcome(conn, &group)).await
    }

    async fn set_welcome(
        &self,
        group: &OpenConversationId,
        welcome: &Welcome,
    ) -> Result<(), StoreError> {
        let (group, welcome) = (group.clone(), welcome.clone());
        self.with(move |conn| queries::set_welcome(conn, &group, &welcome))
            .await
    }

    async fn remove_welcome(&self, group: &OpenConversationId) -> Result<bool, StoreError> {
        let group = group.clone();
        self.with(move |conn| queries::remove_welcome(conn, &group))
            .await
    }

    async fn lease_group(
        &self,
        group: &OpenConversationId,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let (group, holder) = (group.clone(), holder.to_owned());
        self.with(move |conn| queries::lease_group(conn, &group, &holder, now_ms, until_ms))
            .await
    }

    async fn end_group_lease(
        &self,
        group: &OpenConversationId,
        holder: &str,
    ) -> Result<(), StoreError> {
        let (group, holder) = (group.clone(), holder.to_owned());
        self.with(move |conn| queries::end_group_lease(conn, &group, &holder))
            .await
    }

    async fn claim_welcome(
        &self,
        group: &OpenConversationId,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<WelcomeTurn, StoreError> {
        let group = group.clone();
        self.with(move |conn| queries::claim_welcome(conn, &group, now_ms, window_ms))
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

    async fn record_audit(&self, record: AuditRecord) -> Result<(), StoreError> {
        self.audit.append(record).await
    }

    async fn recent_audit(
        &self,
        group: &OpenConversationId,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let group = group.clone();
        self.with(move |conn| queries::recent_audit(conn, &group, limit))
            .await
    }

    async fn save_confirmation(&self, pending: &Confirmation) -> Result<bool, StoreError> {
        let pending = pending.clone();
        self.with(move |conn| queries::save_confirmation(conn, &pending))
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
        self.with(move |conn| queries::take_confirmation(conn, &group, &code, &requester, now_ms))
            .await
    }

    async fn add_schedule(
        &self,
        schedule: &NewSchedule,
        at_most: usize,
    ) -> Result<Option<i64>, StoreError> {
        let schedule = schedule.clone();
        self.with(move |conn| queries::add_schedule(conn, &schedule, at_most))
            .await
    }

    async fn schedules(&self, group: &OpenConversationId) -> Result<Vec<Schedule>, StoreError> {
        let group = group.clone();
        self.with(move |conn| queries::schedules(conn, &group))
            .await
    }

    async fn remove_schedule(
        &self,
        group: &OpenConversationId,
        id: i64,
    ) -> Result<bool, StoreError> {
        let group = group.clone();
        self.with(move |conn| queries::remove_schedule(conn, &group, id))
            .await
    }

    async fn due_schedules(&self, now_ms: i64, limit: usize) -> Result<Vec<Schedule>, StoreError> {
        self.with(move |conn| queries::due_schedules(conn, now_ms, limit))
            .await
    }

    async fn claim_schedule(&self, claim: &ScheduleClaim) -> Result<bool, StoreError> {
        let claim = claim.clone();
        self.with(move |conn| queries::claim_schedule(conn, &claim))
            .await
    }

    async fn retake_schedule_run(&self, takeover: &RunTakeover) -> Result<bool, StoreError> {
        let takeover = takeover.clone();
        self.with(move |conn| queries::retake_schedule_run(conn, &takeover))
            .await
    }

    async fn renew_schedule_run(&self, id: i64, due_ms: i64, by_ms: i64) -> Result<(), StoreError> {
        self.with(move |conn| queries::renew_schedule_run(conn, id, due_ms, by_ms))
            .await
    }

    async fn finish_schedule(&self, id: i64, due_ms: i64, outcome: &str) -> Result<(), StoreError> {
        let outcome = outcome.to_owned();
        self.with(move |conn| queries::finish_schedule(conn, id, due_ms, &outcome))
            .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.with(queries::check).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> (OpenConversationId, OpenConversationId, ChatId, ChatId) {
        (
            OpenConversationId::parse("cidA==").unwrap(),
            OpenConversationId::parse("cidB==").unwrap(),
            ChatId::parse("chat1").unwrap(),
            ChatId::parse("chat2").unwrap(),
        )
    }

    fn memory() -> SqliteStore {
        SqliteStore::open(&Database::SqliteMemory, Replay::default()).unwrap()
    }

    #[tokio::test]
    async fn bind_outcomes() {
        let store = memory();
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
        let open = || SqliteStore::open(&db, Replay::default()).unwrap();
        open().bind(&a, &c1, 0).await.unwrap();
        assert_eq!(open().binding(&a).await.unwrap(), Some(c1));
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
        let store = SqliteStore::open(&db, Replay::default()).unwrap();
        for n in 1..=3 {
            store.record_audit(record(&a, n)).await.unwrap();
        }
        store.record_audit(record(&b, 4)).await.unwrap();
        drop(store);
        let store = SqliteStore::open(&db, Replay::default()).unwrap();
        let got = store.recent_audit(&a, 2).await.unwrap();
        assert_eq!(got, vec![record(&a, 3), record(&a, 2)]);
    }

    #[test]
    fn an_unopenable_path_is_named_in_the_error() {
        let db = Database::SqliteFile("/nonexistent-dir/sub/q.db".into());
        let err = SqliteStore::open(&db, Replay::default())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("/nonexistent-dir/sub/q.db"), "{err}");
    }
}
