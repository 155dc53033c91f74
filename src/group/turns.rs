//! One change at a time per group: a change reads the group's six switches and sends all
//! six back, so two running at once would each undo the other's. A [`Turn`] holds both
//! layers that keep them apart: a mutex per group in this process, then the group's lease
//! in the store, which holds off other replicas and other processes on the same database
//! (`policy apply` beside `serve`, on SQLite as on PostgreSQL).
//!
//! A lease is a row, taken and given back by short statements: a change waiting for its
//! group holds no database connection, so only changes to the same group wait for each
//! other. The holder renews it while the change runs; one whose process died runs out
//! after [`LEASE`].

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use tokio::{sync::OwnedMutexGuard, task::JoinHandle};

use crate::{
    clock::now_ms,
    ids::OpenConversationId,
    store::{Store, StoreError},
};

/// Dead entries are swept when the map reaches this size.
const SWEEP_AT: usize = 4096;

/// How long a lease holds without being renewed: how long a group waits for a holder that
/// died mid-change.
pub const LEASE: Duration = Duration::from_secs(30);

/// A live holder renews its lease this often.
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// The first and the longest pause between two tries for a lease another process holds.
const FIRST_PAUSE: Duration = Duration::from_millis(20);
const LONGEST_PAUSE: Duration = Duration::from_millis(250);

/// This process's turns; locks of groups nobody is changing are dropped as the map grows.
pub struct Turns {
    store: Arc<dyn Store>,
    locks: Mutex<HashMap<OpenConversationId, Weak<tokio::sync::Mutex<()>>>>,
}

/// A group's turn: no other change to the group runs, here or in another process, until
/// it is released (or dropped, when a change is cancelled).
#[must_use = "the turn is held until released or dropped"]
pub struct Turn {
    lease: Option<Lease>,
    _here: OwnedMutexGuard<()>,
}

/// The store's lease on a group, and the task that renews it.
struct Lease {
    store: Arc<dyn Store>,
    group: OpenConversationId,
    holder: String,
    renewing: JoinHandle<()>,
}

impl Turns {
    /// The turns of changes made through `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            locks: Mutex::default(),
        }
    }

    /// Waits for `group`'s turn: first in this process (so waiting here costs nothing of
    /// the database), then for its lease in the store.
    pub async fn take(&self, group: &OpenConversationId) -> Result<Turn, StoreError> {
        let here = self.here(group).lock_owned().await;
        let holder = format!("{}-{:016x}", std::process::id(), fastrand::u64(..));
        let mut pause = FIRST_PAUSE;
        loop {
            let now = now_ms();
            let until = now + LEASE.as_millis() as i64;
            if self.store.lease_group(group, &holder, now, until).await? {
                break;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
        let renewing = tokio::spawn(renew(self.store.clone(), group.clone(), holder.clone()));
        Ok(Turn {
            lease: Some(Lease {
                store: self.store.clone(),
                group: group.clone(),
                holder,
                renewing,
            }),
            _here: here,
        })
    }

    fn here(&self, group: &OpenConversationId) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().expect("group turns poisoned");
        if let Some(lock) = locks.get(group).and_then(Weak::upgrade) {
            return lock;
        }
        if locks.len() >= SWEEP_AT {
            locks.retain(|_, weak| weak.strong_count() > 0);
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        locks.insert(group.clone(), Arc::downgrade(&lock));
        lock
    }
}

/// Renews the lease until aborted; a renewal that fails is tried again at the next.
async fn renew(store: Arc<dyn Store>, group: OpenConversationId, holder: String) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let now = now_ms();
        match store
            .lease_group(&group, &holder, now, now + LEASE.as_millis() as i64)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(cid = %group, "a group's lease ran out during a change; another change may run beside it");
            }
            Err(e) => tracing::warn!(cid = %group, error = %e, "cannot renew a group's lease"),
        }
    }
}

impl Lease {
    async fn end(self) {
        self.renewing.abort();
        if let Err(e) = self.store.end_group_lease(&self.group, &self.holder).await {
            tracing::warn!(cid = %self.group, error = %e, "cannot give a group's lease back; it runs out by itself");
        }
    }
}

impl Turn {
    /// Ends the turn: the store's lease first, then this process's.
    pub async fn release(mut self) {
        if let Some(lease) = self.lease.take() {
            lease.end().await;
        }
    }
}

impl Drop for Turn {
    /// A cancelled change gives its lease back in the background.
    fn drop(&mut self) {
        if let Some(lease) = self.lease.take() {
            lease.renewing.abort();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(lease.end());
            }
        }
    }
}
