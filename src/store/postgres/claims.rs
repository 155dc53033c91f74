//! msgId claims in groups: the claims that arrive while one statement is running go
//! together in the next, one `INSERT … SELECT unnest(…) ON CONFLICT` and one commit for
//! all of them. Each claim is as atomic and as durable as alone; a busy replica pays one
//! round trip and one WAL flush per group instead of per message.

use std::collections::HashSet;

use deadpool_postgres::Pool;
use tokio::sync::{mpsc, oneshot};

use crate::{ids::MsgId, store::StoreError};

/// The most claims in one statement.
const GROUP: usize = 1024;

type Answer = oneshot::Sender<Result<bool, String>>;

/// The claim queue and its one writer task.
pub struct Claims {
    queue: mpsc::UnboundedSender<(MsgId, i64, Answer)>,
    retention_ms: i64,
}

impl Claims {
    /// Starts the writer; a claim holds for `retention_ms`.
    pub fn start(pool: Pool, retention_ms: i64) -> Self {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(write(pool, retention_ms, waiting));
        Self {
            queue,
            retention_ms,
        }
    }

    /// Queues the claim of `msg_id` at `now_ms` for the retention; [`answer`] says whether
    /// it claimed it (no claim existed that was still unexpired then). The answer comes
    /// however long the caller waits, or stops waiting.
    pub fn queue(&self, msg_id: &MsgId, now_ms: i64) -> Result<Answered, StoreError> {
        let keep_until_ms = now_ms + self.retention_ms;
        let (answer, answered) = oneshot::channel();
        self.queue
            .send((msg_id.clone(), keep_until_ms, answer))
            .map_err(|_| writer_stopped())?;
        Ok(answered)
    }
}

/// A queued claim's answer, to wait for.
pub type Answered = oneshot::Receiver<Result<bool, String>>;

/// `true` if the queued claim claimed its msgId.
pub async fn answer(answered: Answered) -> Result<bool, StoreError> {
    read(answered.await)
}

/// What the claim writer answered.
pub fn read(
    received: Result<Result<bool, String>, oneshot::error::RecvError>,
) -> Result<bool, StoreError> {
    received
        .map_err(|_| writer_stopped())?
        .map_err(|e| StoreError::Backend(e.into()))
}

fn writer_stopped() -> StoreError {
    StoreError::Task("the claim writer stopped".into())
}

async fn write(
    pool: Pool,
    retention_ms: i64,
    mut waiting: mpsc::UnboundedReceiver<(MsgId, i64, Answer)>,
) {
    let mut group = Vec::with_capacity(GROUP);
    while waiting.recv_many(&mut group, GROUP).await > 0 {
        // A msgId twice in one group (two deliveries at once): the first one claims.
        let mut seen = HashSet::new();
        let (mut ids, mut until, mut first) = (Vec::new(), Vec::new(), Vec::new());
        for (msg_id, keep_until_ms, _) in &group {
            let new = seen.insert(msg_id.as_str());
            first.push(new);
            if new {
                ids.push(msg_id.as_str().to_owned());
                until.push(*keep_until_ms);
            }
        }
        let result = claim_all(&pool, &ids, &until, retention_ms).await;
        for ((msg_id, _, answer), first) in group.drain(..).zip(first) {
            let _ = answer.send(match &result {
                Ok(won) => Ok(first && won.contains(msg_id.as_str())),
                Err(e) => Err(e.clone()),
            });
        }
    }
}

/// The msgIds of `ids` this statement claimed. A stored claim is replaced only if it had
/// expired when the new one was made (its keep-until less the retention).
async fn claim_all(
    pool: &Pool,
    ids: &[String],
    until: &[i64],
    retention_ms: i64,
) -> Result<HashSet<String>, String> {
    let failed = |e: tokio_postgres::Error| crate::telemetry::causes(&e);
    let client = pool.get().await.map_err(|e| e.to_string())?;
    // Prepared once per connection: each group is then one round trip.
    let insert = client
        .prepare_cached(
            "INSERT INTO seen_messages (msg_id, keep_until_ms)
             SELECT * FROM unnest($1::text[], $2::bigint[])
             ON CONFLICT (msg_id) DO UPDATE SET keep_until_ms = excluded.keep_until_ms
             WHERE seen_messages.keep_until_ms <= excluded.keep_until_ms - $3
             RETURNING msg_id",
        )
        .await
        .map_err(failed)?;
    let rows = client
        .query(&insert, &[&ids, &until, &retention_ms])
        .await
        .map_err(failed)?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
