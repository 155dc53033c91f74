//! The msgId replay defence: each msgId runs once within the retention time, across
//! restarts.
//!
//! The claim itself is in memory (one mutex-guarded set of keyed 64-bit hashes, about 20
//! bytes a msgId), so the hot path never waits on the database. Newly claimed msgIds are
//! written to the store in batches by one background task and loaded back at start-up. A
//! crash can therefore forget at most the last batch ([`FLUSH_EVERY`]); graceful shutdown
//! calls [`Deduper::flush`].

use std::{
    collections::HashMap,
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::sync::{mpsc, oneshot};

use crate::{
    ids::MsgId,
    store::{Store, StoreError},
};

/// How often claimed msgIds are written to the store.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// The most msgIds written in one transaction.
const BATCH: usize = 4096;

/// Claims msgIds; cheap to share behind an `Arc`.
pub struct Deduper {
    /// Keyed hash of the msgId → expiry in whole seconds since the epoch. A random key per
    /// process keeps collisions unpredictable; 64 bits make them negligible.
    seen: Mutex<HashMap<u64, u32>>,
    hasher: RandomState,
    retention_ms: i64,
    to_store: mpsc::UnboundedSender<Job>,
}

/// Work for the background writer.
enum Job {
    /// A newly claimed msgId and its keep-until time.
    Seen(MsgId, i64),
    /// Answered once everything queued before it is in the store.
    Flush(oneshot::Sender<()>),
}

impl Deduper {
    /// Loads the msgIds the store still remembers and starts the batch writer.
    pub async fn start(
        store: Arc<dyn Store>,
        now_ms: i64,
        retention: Duration,
    ) -> Result<Arc<Self>, StoreError> {
        let remembered = store.remembered_messages(now_ms).await?;
        let (to_store, queue) = mpsc::unbounded_channel();
        let deduper = Deduper {
            seen: Mutex::new(HashMap::with_capacity(remembered.len())),
            hasher: RandomState::new(),
            retention_ms: retention.as_millis() as i64,
            to_store,
        };
        {
            let mut seen = deduper.seen.lock().expect("dedupe lock poisoned");
            for (msg_id, keep_until_ms) in &remembered {
                seen.insert(deduper.key(msg_id), seconds(*keep_until_ms));
            }
        }
        // Runs until the Deduper, and with it the sending side, is dropped.
        tokio::spawn(write_batches(store, queue));
        Ok(Arc::new(deduper))
    }

    fn key(&self, msg_id: &MsgId) -> u64 {
        self.hasher.hash_one(msg_id.as_str())
    }

    /// `true` the first time `msg_id` is seen within the retention time; atomic, so of two
    /// concurrent deliveries exactly one gets `true`.
    pub fn claim(&self, msg_id: &MsgId, now_ms: i64) -> bool {
        let keep_until_ms = now_ms + self.retention_ms;
        let key = self.key(msg_id);
        {
            let mut seen = self.seen.lock().expect("dedupe lock poisoned");
            match seen.get_mut(&key) {
                Some(until) if i64::from(*until) * 1000 > now_ms => return false,
                Some(until) => *until = seconds(keep_until_ms),
                None => {
                    seen.insert(key, seconds(keep_until_ms));
                }
            }
        }
        // The writer stops only when this Deduper is dropped, so sending cannot fail here.
        let _ = self.to_store.send(Job::Seen(msg_id.clone(), keep_until_ms));
        true
    }

    /// Waits until every msgId claimed so far is in the store (used at shutdown).
    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.to_store.send(Job::Flush(done)).is_ok() {
            let _ = flushed.await;
        }
    }

    /// Forgets expired msgIds in memory; returns how many are still remembered.
    pub fn forget_expired(&self, now_ms: i64) -> usize {
        let mut seen = self.seen.lock().expect("dedupe lock poisoned");
        seen.retain(|_, until| i64::from(*until) * 1000 > now_ms);
        seen.len()
    }
}

/// Rounded up, so a msgId is never forgotten early.
fn seconds(ms: i64) -> u32 {
    u32::try_from((ms + 999) / 1000).unwrap_or(u32::MAX)
}

async fn write_batches(store: Arc<dyn Store>, mut queue: mpsc::UnboundedReceiver<Job>) {
    let mut jobs = Vec::with_capacity(BATCH);
    while queue.recv_many(&mut jobs, BATCH).await > 0 {
        let mut seen = Vec::with_capacity(jobs.len());
        let mut waiting = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Seen(msg_id, keep_until_ms) => seen.push((msg_id, keep_until_ms)),
                Job::Flush(done) => waiting.push(done),
            }
        }
        if !seen.is_empty() {
            if let Err(e) = store.remember_messages(&seen).await {
                tracing::error!(error = %e, count = seen.len(), "cannot record msgIds; they are deduplicated in memory only");
            }
        }
        for done in waiting {
            let _ = done.send(());
        }
        tokio::time::sleep(FLUSH_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{config::Database, store::SqliteStore};

    const HOUR: Duration = Duration::from_secs(3600);

    fn msg(n: u32) -> MsgId {
        MsgId::parse(&format!("msg{n}")).unwrap()
    }

    #[tokio::test]
    async fn a_msg_id_is_claimed_once_until_it_expires() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&Database::SqliteMemory).unwrap());
        let d = Deduper::start(store, 0, HOUR).await.unwrap();
        assert!(d.claim(&msg(1), 0));
        assert!(!d.claim(&msg(1), 1_000));
        assert!(d.claim(&msg(2), 1_000));
        assert!(
            d.claim(&msg(1), 3_600_000 + 1_000),
            "expired msgIds may run again"
        );
        assert_eq!(d.forget_expired(3_600_000 + 1_000 + 1), 1);
    }

    #[tokio::test]
    async fn claims_survive_a_restart_once_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::SqliteFile(dir.path().join("q.db"));
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
        let d = Deduper::start(store.clone(), 0, HOUR).await.unwrap();
        for n in 0..10_000 {
            assert!(d.claim(&msg(n), 0));
        }
        d.flush().await;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
        let d = Deduper::start(store, 60_000, HOUR).await.unwrap();
        assert!(!d.claim(&msg(9_999), 60_000));
        assert!(!d.claim(&msg(0), 60_000));
        assert!(d.claim(&msg(10_000), 60_000));
    }

    #[tokio::test]
    async fn concurrent_claims_of_one_msg_id_have_one_winner() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&Database::SqliteMemory).unwrap());
        let d = Deduper::start(store, 0, HOUR).await.unwrap();
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| usize::from(d.claim(&msg(7), 5))))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(winners, 1);
    }
}
