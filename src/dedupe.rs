//! The msgId replay defence: each msgId runs once within the retention time, across
//! restarts.
//!
//! The claim itself is in memory, so the hot path never waits on the database: keyed 64-bit
//! hashes (about 10 bytes a msgId) in time buckets of a quarter of the retention each. A
//! msgId is new if no kept bucket holds it; the newest bucket takes it; the oldest is dropped
//! whole once the four after it cover the retention. So a msgId is remembered for at least
//! the retention and at most 1.25 times it, and expiry costs no scan. Newly claimed msgIds are
//! written to the store in batches by one background task and loaded back at start-up. A
//! crash can therefore forget at most the last batch ([`FLUSH_EVERY`]); graceful shutdown
//! calls [`Deduper::flush`].
//!
//! The set is bounded (`QUNGUAN_MAX_REMEMBERED_MSGIDS`): when it is full a new msgId is
//! neither run nor forgotten, but answered [`Claim::Full`] (503 with `Retry-After`, so
//! DingTalk delivers it again once old msgIds have expired). Start-up reads the stored
//! msgIds a page ([`LOAD_PAGE`]) at a time.

use std::{
    collections::{HashSet, VecDeque},
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

/// Buckets per retention time; one more is kept while the oldest ages out.
const BUCKETS: i64 = 4;
/// msgIds read from the store per query at start-up.
const LOAD_PAGE: usize = 10_000;

/// What claiming a msgId found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First seen within the retention time: run it.
    New,
    /// Seen before: acknowledge, do not run.
    Seen,
    /// New, but the set is at its ceiling: neither run nor remembered.
    Full,
}

/// Claims msgIds; cheap to share behind an `Arc`.
pub struct Deduper {
    /// Newest first: (start in epoch ms, keyed hashes of msgIds first seen from then on).
    /// A random key per process keeps collisions unpredictable; 64 bits make them negligible.
    buckets: Mutex<VecDeque<(i64, HashSet<u64>)>>,
    hasher: RandomState,
    retention_ms: i64,
    /// The most msgIds held at once.
    max: usize,
    to_store: mpsc::UnboundedSender<Job>,
    /// The store; when it is shared by replicas, a claim is also made there (atomic among
    /// replicas) and the batch writer is not needed.
    store: Arc<dyn Store>,
    shared: bool,
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
        max: usize,
    ) -> Result<Arc<Self>, StoreError> {
        let (to_store, queue) = mpsc::unbounded_channel();
        let deduper = Deduper {
            buckets: Mutex::new(VecDeque::new()),
            hasher: RandomState::new(),
            retention_ms: retention.as_millis().max(BUCKETS as u128) as i64,
            max,
            to_store,
            shared: store.shared(),
            store: store.clone(),
        };
        deduper.load(store.as_ref(), now_ms).await?;
        // Runs until the Deduper, and with it the sending side, is dropped.
        tokio::spawn(write_batches(store, queue));
        Ok(Arc::new(deduper))
    }

    /// Reads the msgIds the store still remembers, a page at a time, up to the ceiling.
    async fn load(&self, store: &dyn Store, now_ms: i64) -> Result<(), StoreError> {
        let mut after = None;
        let mut loaded = 0;
        loop {
            let page = store
                .remembered_messages(now_ms, after.take(), LOAD_PAGE)
                .await?;
            let mut buckets = self.buckets.lock().expect("dedupe lock poisoned");
            for (msg_id, keep_until_ms) in &page {
                if loaded == self.max {
                    tracing::warn!(
                        max = self.max,
                        "the store remembers more msgIds than QUNGUAN_MAX_REMEMBERED_MSGIDS; the rest are not loaded"
                    );
                    return Ok(());
                }
                let seen_at = keep_until_ms.saturating_sub(self.retention_ms);
                self.bucket_for(&mut buckets, seen_at)
                    .insert(self.key(msg_id));
                loaded += 1;
            }
            if page.len() < LOAD_PAGE {
                return Ok(());
            }
            after = page.last().map(|(id, _)| id.clone());
        }
    }

    fn key(&self, msg_id: &MsgId) -> u64 {
        self.hasher.hash_one(msg_id.as_str())
    }

    /// [`Claim::New`] the first time `msg_id` is seen within the retention time; atomic,
    /// so of two concurrent deliveries exactly one gets it.
    pub fn claim(&self, msg_id: &MsgId, now_ms: i64) -> Claim {
        let key = self.key(msg_id);
        {
            let mut buckets = self.buckets.lock().expect("dedupe lock poisoned");
            self.expire(&mut buckets, now_ms);
            if buckets.iter().any(|(_, keys)| keys.contains(&key)) {
                return Claim::Seen;
            }
            if remembered(&buckets) >= self.max {
                return Claim::Full;
            }
            self.bucket_for(&mut buckets, now_ms).insert(key);
        }
        if !self.shared {
            // The writer stops only when this Deduper is dropped, so sending cannot fail.
            let _ = self
                .to_store
                .send(Job::Seen(msg_id.clone(), now_ms + self.retention_ms));
        }
        Claim::New
    }

    /// The claim every transport makes: in memory (the fast path for repeats this replica
    /// saw), then, with a shared store, in the store, so that of several replicas exactly
    /// one runs a msgId. If the store cannot answer, the msgId is released again, so its
    /// redelivery is not mistaken for a repeat.
    pub async fn claim_everywhere(&self, msg_id: &MsgId, now_ms: i64) -> Result<Claim, StoreError> {
        let local = self.claim(msg_id, now_ms);
        if local != Claim::New || !self.shared {
            return Ok(local);
        }
        match self
            .store
            .claim_message(msg_id, now_ms + self.retention_ms)
            .await
        {
            Ok(true) => Ok(Claim::New),
            Ok(false) => Ok(Claim::Seen),
            Err(e) => {
                self.release(msg_id);
                Err(e)
            }
        }
    }

    /// Forgets `msg_id` in memory.
    fn release(&self, msg_id: &MsgId) {
        let key = self.key(msg_id);
        let mut buckets = self.buckets.lock().expect("dedupe lock poisoned");
        for (_, keys) in buckets.iter_mut() {
            keys.remove(&key);
        }
    }

    fn bucket_len(&self) -> i64 {
        self.retention_ms / BUCKETS
    }

    /// The bucket a msgId first seen at `seen_ms` belongs to, created if needed.
    fn bucket_for<'a>(
        &self,
        buckets: &'a mut VecDeque<(i64, HashSet<u64>)>,
        seen_ms: i64,
    ) -> &'a mut HashSet<u64> {
        let len = self.bucket_len();
        let start = seen_ms - seen_ms.rem_euclid(len);
        let at = match buckets.iter().position(|(s, _)| *s <= start) {
            Some(i) if buckets[i].0 == start => i,
            Some(i) => {
                buckets.insert(i, (start, HashSet::new()));
                i
            }
            None => {
                buckets.push_back((start, HashSet::new()));
                buckets.len() - 1
            }
        };
        &mut buckets[at].1
    }

    /// Drops buckets whose every msgId is past the retention time.
    fn expire(&self, buckets: &mut VecDeque<(i64, HashSet<u64>)>, now_ms: i64) {
        while buckets
            .back()
            .is_some_and(|(start, _)| start + self.bucket_len() + self.retention_ms <= now_ms)
        {
            buckets.pop_back();
        }
    }

    /// Forgets expired msgIds in memory; returns how many are still remembered.
    pub fn forget_expired(&self, now_ms: i64) -> usize {
        let mut buckets = self.buckets.lock().expect("dedupe lock poisoned");
        self.expire(&mut buckets, now_ms);
        remembered(&buckets)
    }

    /// Waits until every msgId claimed so far is in the store (used at shutdown).
    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.to_store.send(Job::Flush(done)).is_ok() {
            let _ = flushed.await;
        }
    }
}

/// How many msgIds the buckets hold.
fn remembered(buckets: &VecDeque<(i64, HashSet<u64>)>) -> usize {
    buckets.iter().map(|(_, keys)| keys.len()).sum()
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
        let d = Deduper::start(store, 0, HOUR, usize::MAX).await.unwrap();
        assert_eq!(d.claim(&msg(1), 0), Claim::New);
        assert_eq!(d.claim(&msg(1), 1_000), Claim::Seen);
        assert_eq!(d.claim(&msg(2), 1_000), Claim::New);
        // Remembered for at least the retention, at most 1.25 times it.
        assert_eq!(d.claim(&msg(1), 3_600_000 + 1_000), Claim::Seen);
        assert_eq!(d.forget_expired(4_499_999), 2);
        assert_eq!(d.forget_expired(4_500_000), 0);
        assert_eq!(
            d.claim(&msg(1), 4_500_000),
            Claim::New,
            "expired msgIds may run again"
        );
    }

    #[tokio::test]
    async fn claims_survive_a_restart_once_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::SqliteFile(dir.path().join("q.db"));
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
        let d = Deduper::start(store.clone(), 0, HOUR, usize::MAX)
            .await
            .unwrap();
        for n in 0..10_000 {
            assert_eq!(d.claim(&msg(n), 0), Claim::New);
        }
        d.flush().await;
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
        let d = Deduper::start(store, 60_000, HOUR, usize::MAX)
            .await
            .unwrap();
        assert_eq!(d.claim(&msg(9_999), 60_000), Claim::Seen);
        assert_eq!(d.claim(&msg(0), 60_000), Claim::Seen);
        assert_eq!(d.claim(&msg(10_000), 60_000), Claim::New);
    }

    #[tokio::test]
    async fn a_full_set_refuses_new_msg_ids_until_old_ones_expire() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&Database::SqliteMemory).unwrap());
        let d = Deduper::start(store, 0, HOUR, 3).await.unwrap();
        for n in 0..3 {
            assert_eq!(d.claim(&msg(n), 0), Claim::New);
        }
        assert_eq!(d.claim(&msg(3), 1), Claim::Full);
        assert_eq!(
            d.claim(&msg(0), 1),
            Claim::Seen,
            "repeats are still recognised"
        );
        assert_eq!(
            d.claim(&msg(3), 4_500_000),
            Claim::New,
            "room again after expiry"
        );
    }

    #[tokio::test]
    async fn start_up_loads_the_store_in_pages_up_to_the_ceiling() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::SqliteFile(dir.path().join("q.db"));
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
        let seen: Vec<_> = (0..25_000).map(|n| (msg(n), 3_600_000)).collect();
        store.remember_messages(&seen).await.unwrap();
        let d = Deduper::start(store.clone(), 0, HOUR, usize::MAX)
            .await
            .unwrap();
        assert_eq!(d.forget_expired(0), 25_000, "every page was read");
        let capped = Deduper::start(store, 0, HOUR, 12_345).await.unwrap();
        assert_eq!(capped.forget_expired(0), 12_345);
    }

    #[tokio::test]
    async fn concurrent_claims_of_one_msg_id_have_one_winner() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&Database::SqliteMemory).unwrap());
        let d = Deduper::start(store, 0, HOUR, usize::MAX).await.unwrap();
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| usize::from(d.claim(&msg(7), 5) == Claim::New)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(winners, 1);
    }
}
