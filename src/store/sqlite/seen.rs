//! SQLite's replay defence: each msgId runs once within the retention time, across
//! restarts. This store's one process is the only writer of its file, so the claim itself
//! is made in memory and the hot path never waits on the disk.
//!
//! Keyed 64-bit hashes (about 10 bytes a msgId) in time buckets of a quarter of the
//! retention each. A msgId is new if no kept bucket holds it; the newest bucket takes it;
//! the oldest is dropped whole once the four after it cover the retention. So a msgId is
//! remembered for at least the retention and at most 1.25 times it, and expiry costs no
//! scan. Newly claimed msgIds are written to the file in batches by one background thread
//! and loaded back at start-up, a page ([`LOAD_PAGE`]) at a time. A crash can therefore
//! forget at most the last batch ([`FLUSH_EVERY`]); graceful shutdown flushes.
//!
//! The set is bounded (`QUNGUAN_MAX_REMEMBERED_MSGIDS`): when it is full a new msgId is
//! neither run nor forgotten, but answered [`Claim::Full`] (503 with `Retry-After`, so
//! DingTalk delivers it again once old msgIds have expired).

use std::{
    collections::{HashSet, VecDeque},
    hash::{BuildHasher, RandomState},
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use crate::{
    ids::MsgId,
    store::{Claim, Replay, StoreError, sql},
};

/// How often claimed msgIds are written to the file.
const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// The most msgIds written in one transaction.
const BATCH: usize = 4096;
/// Buckets per retention time; one more is kept while the oldest ages out.
const BUCKETS: i64 = 4;
/// msgIds read from the file per query at start-up.
const LOAD_PAGE: usize = 10_000;

/// Newest first: (start in epoch ms, keyed hashes of msgIds first seen from then on).
type Buckets = VecDeque<(i64, HashSet<u64>)>;

/// The msgIds seen within the retention time.
pub struct SeenSet {
    buckets: Mutex<Buckets>,
    /// A random key per process keeps collisions unpredictable; 64 bits make them negligible.
    hasher: RandomState,
    retention_ms: i64,
    /// The most msgIds held at once.
    max: usize,
    to_file: mpsc::Sender<Job>,
}

/// Work for the background writer.
enum Job {
    /// A newly claimed msgId and its keep-until time.
    Seen(MsgId, i64),
    /// A claim given up: deleted from the file after everything queued before it.
    Forget(MsgId),
    /// Answered once everything queued before it is in the file.
    Flush(oneshot::Sender<()>),
}

impl SeenSet {
    /// Loads the msgIds the file still remembers at `now_ms` and starts the batch writer,
    /// which runs until the set is dropped.
    pub fn open(
        conn: Arc<Mutex<Connection>>,
        replay: Replay,
        now_ms: i64,
    ) -> Result<Self, StoreError> {
        let to_file = super::spawn_writer(
            "qunguan-seen-msgids",
            conn.clone(),
            BATCH,
            FLUSH_EVERY,
            write_batch,
        )?;
        let set = SeenSet {
            buckets: Mutex::new(VecDeque::new()),
            hasher: RandomState::new(),
            retention_ms: replay.retention.as_millis().max(BUCKETS as u128) as i64,
            max: replay.max,
            to_file,
        };
        set.load(&conn, now_ms)?;
        Ok(set)
    }

    /// The keyed hash `msg_id` is remembered by.
    fn key(&self, msg_id: &MsgId) -> u64 {
        self.hasher.hash_one(msg_id.as_str())
    }

    /// Reads the msgIds the file still remembers, a page at a time, up to the ceiling.
    fn load(&self, conn: &Mutex<Connection>, now_ms: i64) -> Result<(), StoreError> {
        let mut after = String::new();
        let mut loaded = 0;
        loop {
            let page = {
                let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
                remembered(&conn, now_ms, &after, LOAD_PAGE)?
            };
            let mut buckets = self.buckets.lock().expect("seen msgIds lock poisoned");
            for (msg_id, keep_until_ms) in &page {
                if loaded == self.max {
                    tracing::warn!(
                        max = self.max,
                        "the store remembers more msgIds than QUNGUAN_MAX_REMEMBERED_MSGIDS; the rest are not loaded"
                    );
                    return Ok(());
                }
                let seen_at = keep_until_ms.saturating_sub(self.retention_ms);
                let key = self.key(msg_id);
                self.bucket_for(&mut buckets, seen_at).insert(key);
                loaded += 1;
            }
            match page.last() {
                Some((last, _)) if page.len() == LOAD_PAGE => after = last.as_str().to_owned(),
                _ => return Ok(()),
            }
        }
    }

    /// [`Claim::New`] the first time `msg_id` is seen within the retention time; atomic,
    /// so of two concurrent deliveries exactly one gets it.
    pub fn claim(&self, msg_id: &MsgId, now_ms: i64) -> Claim {
        let key = self.key(msg_id);
        {
            let mut buckets = self.buckets.lock().expect("seen msgIds lock poisoned");
            self.expire(&mut buckets, now_ms);
            if buckets.iter().any(|(_, keys)| keys.contains(&key)) {
                return Claim::Seen;
            }
            if remembered_now(&buckets) >= self.max {
                return Claim::Full;
            }
            self.bucket_for(&mut buckets, now_ms).insert(key);
        }
        // The writer stops only when this set is dropped, so sending cannot fail.
        let _ = self
            .to_file
            .send(Job::Seen(msg_id.clone(), now_ms + self.retention_ms));
        Claim::New
    }

    /// Gives up the claim of `msg_id`, in memory and (in order with the writes) in the
    /// file, so it is new again.
    pub fn release(&self, msg_id: &MsgId) {
        let key = self.key(msg_id);
        let mut buckets = self.buckets.lock().expect("seen msgIds lock poisoned");
        for (_, keys) in buckets.iter_mut() {
            keys.remove(&key);
        }
        let _ = self.to_file.send(Job::Forget(msg_id.clone()));
    }

    fn bucket_len(&self) -> i64 {
        self.retention_ms / BUCKETS
    }

    /// The bucket a msgId first seen at `seen_ms` belongs to, created if needed.
    fn bucket_for<'a>(&self, buckets: &'a mut Buckets, seen_ms: i64) -> &'a mut HashSet<u64> {
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
    fn expire(&self, buckets: &mut Buckets, now_ms: i64) {
        while buckets
            .back()
            .is_some_and(|(start, _)| start + self.bucket_len() + self.retention_ms <= now_ms)
        {
            buckets.pop_back();
        }
    }

    /// Forgets expired msgIds in memory; returns how many are still remembered.
    pub fn forget_expired(&self, now_ms: i64) -> usize {
        let mut buckets = self.buckets.lock().expect("seen msgIds lock poisoned");
        self.expire(&mut buckets, now_ms);
        remembered_now(&buckets)
    }

    /// Waits until every msgId claimed so far is in the file.
    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.to_file.send(Job::Flush(done)).is_ok() {
            let _ = flushed.await;
        }
    }
}

/// How many msgIds the buckets hold.
fn remembered_now(buckets: &Buckets) -> usize {
    buckets.iter().map(|(_, keys)| keys.len()).sum()
}

/// One batch of the writer thread's, which writes whatever queued up since its last
/// write, at most every [`FLUSH_EVERY`], until the set (the only sender) is dropped.
fn write_batch(conn: &mut Connection, jobs: Vec<Job>) {
    let mut seen = Vec::new();
    let mut waiting = Vec::new();
    for job in jobs {
        match job {
            Job::Seen(msg_id, keep_until_ms) => seen.push((msg_id, keep_until_ms)),
            Job::Forget(msg_id) => {
                write(conn, &mut seen);
                let deleted = conn.execute(sql::RELEASE_MESSAGE.sqlite(), [msg_id.as_str()]);
                if let Err(e) = deleted {
                    tracing::error!(error = %e, "cannot forget a given-up msgId in the file");
                }
            }
            Job::Flush(done) => waiting.push(done),
        }
    }
    write(conn, &mut seen);
    for done in waiting {
        let _ = done.send(());
    }
}

/// Writes the msgIds gathered so far, and empties `seen`.
fn write(conn: &mut Connection, seen: &mut Vec<(MsgId, i64)>) {
    if seen.is_empty() {
        return;
    }
    if let Err(e) = remember(conn, seen) {
        tracing::error!(error = %e, count = seen.len(), "cannot record msgIds; they are deduplicated in memory only");
    }
    seen.clear();
}

/// Records msgIds as seen until their keep-until times, in one transaction.
fn remember(conn: &mut Connection, seen: &[(MsgId, i64)]) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO seen_messages (msg_id, keep_until_ms) VALUES (?1, ?2)
             ON CONFLICT (msg_id) DO UPDATE SET keep_until_ms = excluded.keep_until_ms",
        )?;
        for (msg_id, keep_until_ms) in seen {
            insert.execute(params![msg_id.as_str(), keep_until_ms])?;
        }
    }
    tx.commit()
}

/// One page of the msgIds still remembered at `now_ms`: at most `limit`, in msgId order,
/// after `after` (keyset pages over the primary key: each page is one index range scan).
fn remembered(
    conn: &Connection,
    now_ms: i64,
    after: &str,
    limit: usize,
) -> Result<Vec<(MsgId, i64)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT msg_id, keep_until_ms FROM seen_messages
         WHERE msg_id > ?1 AND keep_until_ms > ?2 ORDER BY msg_id LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![after, now_ms, limit as i64], |row| {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn msg(n: u32) -> MsgId {
        MsgId::parse(&format!("msg{n}")).unwrap()
    }

    fn migrated(path: Option<&std::path::Path>) -> Arc<Mutex<Connection>> {
        let mut conn = match path {
            Some(path) => Connection::open(path),
            None => Connection::open_in_memory(),
        }
        .unwrap();
        super::super::prepare(&mut conn).unwrap();
        Arc::new(Mutex::new(conn))
    }

    fn set(conn: &Arc<Mutex<Connection>>, now_ms: i64, max: usize) -> SeenSet {
        let replay = Replay {
            retention: HOUR,
            max,
        };
        SeenSet::open(conn.clone(), replay, now_ms).unwrap()
    }

    #[tokio::test]
    async fn a_msg_id_is_claimed_once_until_it_expires() {
        let d = set(&migrated(None), 0, usize::MAX);
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
        let path = dir.path().join("q.db");
        let d = set(&migrated(Some(&path)), 0, usize::MAX);
        for n in 0..10_000 {
            assert_eq!(d.claim(&msg(n), 0), Claim::New);
        }
        d.flush().await;
        let d = set(&migrated(Some(&path)), 60_000, usize::MAX);
        assert_eq!(d.claim(&msg(9_999), 60_000), Claim::Seen);
        assert_eq!(d.claim(&msg(0), 60_000), Claim::Seen);
        assert_eq!(d.claim(&msg(10_000), 60_000), Claim::New);
    }

    #[tokio::test]
    async fn a_full_set_refuses_new_msg_ids_until_old_ones_expire() {
        let d = set(&migrated(None), 0, 3);
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
        let conn = migrated(None);
        let seen: Vec<_> = (0..25_000).map(|n| (msg(n), 3_600_000)).collect();
        remember(&mut conn.lock().unwrap(), &seen).unwrap();
        let d = set(&conn, 0, usize::MAX);
        assert_eq!(d.forget_expired(0), 25_000, "every page was read");
        let capped = set(&conn, 0, 12_345);
        assert_eq!(capped.forget_expired(0), 12_345);
    }

    #[tokio::test]
    async fn concurrent_claims_of_one_msg_id_have_one_winner() {
        let d = set(&migrated(None), 0, usize::MAX);
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| usize::from(d.claim(&msg(7), 5) == Claim::New)))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(winners, 1);
    }

    #[test]
    fn remembered_msg_ids_are_kept_until_they_expire() {
        let conn = migrated(None);
        let mut c = conn.lock().unwrap();
        let (m1, m2) = (msg(1), msg(2));
        remember(&mut c, &[(m1.clone(), 100), (m2.clone(), 200)]).unwrap();
        remember(&mut c, &[(m1.clone(), 300)]).unwrap();
        let kept = remembered(&c, 150, "", 10).unwrap();
        assert_eq!(kept, vec![(m1.clone(), 300), (m2.clone(), 200)]);
        let first = remembered(&c, 150, "", 1).unwrap();
        assert_eq!(first, vec![(m1.clone(), 300)]);
        let next = remembered(&c, 150, m1.as_str(), 1).unwrap();
        assert_eq!(next, vec![(m2, 200)]);
    }
}
