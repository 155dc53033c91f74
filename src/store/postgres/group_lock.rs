//! A group's changes locked across replicas: a transaction-scoped advisory lock, held on a
//! connection of its own until the change is done. At most [`HELD`] connections hold locks
//! at once, so a burst of changes (a schedule due in a hundred groups at 22:00) waits here
//! rather than taking the whole pool from the callbacks' claims.

use std::{future::Future, pin::Pin, sync::Arc};

use deadpool_postgres::{Object, Pool};
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{
    ids::OpenConversationId,
    store::{GroupLock, Held, StoreError},
};

/// The first key of qunguan's group locks (the two-key form keeps them apart from the
/// migrations' one-key lock).
const NAMESPACE: i32 = 0x7167;

/// The connection holding the lock. Released: the transaction commits and the connection
/// goes back to the pool. Dropped unreleased: the connection is closed instead (never
/// pooled with a transaction open), and PostgreSQL frees the lock with the session.
struct PgHeld {
    client: Option<Object>,
    _slot: OwnedSemaphorePermit,
}

/// Connections of the pool (16) that may hold group locks at once.
pub const HELD: usize = 4;

/// This replica's share of lock connections.
pub struct Locks {
    slots: Arc<Semaphore>,
}

impl Default for Locks {
    fn default() -> Self {
        Self {
            slots: Arc::new(Semaphore::new(HELD)),
        }
    }
}

impl Held for PgHeld {
    fn release(mut self: Box<Self>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let client = self.client.take();
        Box::pin(async move {
            if let Some(client) = client {
                if client.batch_execute("COMMIT").await.is_err() {
                    drop(Object::take(client));
                }
            }
        })
    }
}

impl Drop for PgHeld {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            drop(Object::take(client));
        }
    }
}

impl Locks {
    /// Waits for a lock connection, then for the lock of `group`, and holds it.
    pub async fn lock(
        &self,
        pool: &Pool,
        group: &OpenConversationId,
    ) -> Result<GroupLock, StoreError> {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        let client = pool.get().await?;
        // From here on a failure or a cancellation drops `held`, which closes the connection.
        let mut held = PgHeld {
            client: Some(client),
            _slot: slot,
        };
        let client = held.client.as_mut().expect("just set");
        client.batch_execute("BEGIN").await?;
        client
            .execute(
                "SELECT pg_advisory_xact_lock($1, $2)",
                &[&NAMESPACE, &key(group)],
            )
            .await?;
        Ok(GroupLock::held(Box::new(held)))
    }
}

/// The advisory lock a group's new schedules are counted and saved under (a namespace of
/// its own: a change holding the group's lock does not hold up a new schedule).
pub(super) fn schedules_lock(group: &OpenConversationId) -> (i32, i32) {
    (NAMESPACE + 1, key(group))
}

/// 32 bits of the cid's SHA-256: two groups sharing one only take turns needlessly.
fn key(group: &OpenConversationId) -> i32 {
    let digest = Sha256::digest(group.as_str().as_bytes());
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}
