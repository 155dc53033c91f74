//! One change at a time per group: a change reads the group's six switches and sends all
//! six back, so two running at once would each undo the other's. A [`Turn`] holds both
//! layers that keep them apart: a mutex per group in this process, then the store's lock
//! on the group, which holds other replicas off (PostgreSQL; an SQLite store is one
//! process's own and holds nothing).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
};

use tokio::sync::OwnedMutexGuard;

use crate::{
    ids::OpenConversationId,
    store::{GroupLock, Store, StoreError},
};

/// Dead entries are swept when the map reaches this size.
const SWEEP_AT: usize = 4096;

/// This process's turns; locks of groups nobody is changing are dropped as the map grows.
#[derive(Default)]
pub struct Turns {
    locks: Mutex<HashMap<OpenConversationId, Weak<tokio::sync::Mutex<()>>>>,
}

/// A group's turn: no other change to the group runs, here or on another replica, until
/// it is released (or dropped, when a change is cancelled).
#[must_use = "the turn is held until released or dropped"]
pub struct Turn {
    everywhere: GroupLock,
    _here: OwnedMutexGuard<()>,
}

impl Turns {
    /// Waits for `group`'s turn: first in this process (so waiting here costs no database
    /// connection), then across replicas.
    pub async fn take(
        &self,
        store: &dyn Store,
        group: &OpenConversationId,
    ) -> Result<Turn, StoreError> {
        let here = self.here(group).lock_owned().await;
        let everywhere = store.lock_group(group).await?;
        Ok(Turn {
            everywhere,
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

impl Turn {
    /// Ends the turn: the other replicas' first, then this process's.
    pub async fn release(self) {
        self.everywhere.release().await;
    }
}
