//! Changes to one group, one at a time across replicas: a change reads the group's six
//! settings and sends all six back, so two replicas changing one group at once would each
//! undo the other's. Within a process [`crate::app::GroupLocks`] already serialises them;
//! a shared store adds a lock in the database.

use std::{future::Future, pin::Pin};

/// A held lock on a group's changes; [`GroupLock::release`] it when the change is done.
/// Dropped without release (a cancelled command), the backend frees it anyway.
#[must_use = "the lock is held until released or dropped"]
pub struct GroupLock(Option<Box<dyn Held>>);

/// A backend's held lock.
pub trait Held: Send {
    fn release(self: Box<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

impl GroupLock {
    /// A lock that holds nothing (a store one process uses alone).
    pub fn none() -> Self {
        Self(None)
    }

    pub fn held(lock: Box<dyn Held>) -> Self {
        Self(Some(lock))
    }

    pub async fn release(mut self) {
        if let Some(held) = self.0.take() {
            held.release().await;
        }
    }
}
