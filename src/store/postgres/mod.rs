//! The PostgreSQL store, for several replicas sharing one database. Nothing is cached:
//! every read goes to the database, so what one replica wrote is what the next reads. A
//! msgId claim is an `INSERT … ON CONFLICT` ([`claims`] groups concurrent ones into one
//! statement), a confirmation is taken with one `UPDATE … WHERE used_at_ms IS NULL …
//! RETURNING`: atomic whichever replica asks.

mod claims;
mod queries;
mod schema;

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode;

use super::{
    AuditRecord, BackendError, BindOutcome, Claim, ConfirmTake, Confirmation, InTime, NewSchedule,
    Replay, RunTakeover, Schedule, ScheduleClaim, Store, StoreError, Welcome, WelcomeTurn,
};
use crate::{
    config::PostgresUrl,
    ids::{ChatId, MsgId, OpenConversationId, StaffId},
};

/// Connections per replica.
const POOL_SIZE: usize = 16;
/// How long getting a connection may take (connect or wait for a free one).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// PostgreSQL-backed [`super::Store`].
pub struct PostgresStore {
    pool: Pool,
    claims: claims::Claims,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

/// A claim's answer as the store's.
fn claimed(won: Result<bool, StoreError>) -> Result<Claim, StoreError> {
    Ok(if won? { Claim::New } else { Claim::Seen })
}

impl PostgresStore {
    /// Connects, migrates (or refuses a schema newer than this build), and returns the
    /// store, whose msgId claims hold for `replay`'s retention. Errors name the URL without
    /// its password.
    pub async fn open(url: &PostgresUrl, replay: Replay) -> Result<Self, StoreError> {
        let failed = |source: BackendError| StoreError::Open {
            what: format!("{url} (QUNGUAN_DATABASE_URL)"),
            source,
        };
        let config: tokio_postgres::Config =
            url.expose().parse().map_err(|e| failed(Box::new(e)))?;
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if config.get_ssl_mode() == SslMode::Require {
            // `sslmode=require` here also verifies the certificate.
            let tls = tokio_postgres_rustls::MakeRustlsConnect::new(crate::tls::client_config());
            Manager::from_config(config, tls, manager_config)
        } else {
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| failed(Box::new(e)))?;
        let claims = claims::Claims::start(pool.clone(), replay.retention.as_millis() as i64);
        let store = Self { pool, claims };
        let mut client = store.client().await.map_err(|e| failed(e.into()))?;
        schema::migrate(&mut client)
            .await
            .map_err(|e| failed(e.into()))?;
        Ok(store)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        Ok(self.pool.get().await?)
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn claim_message(&self, msg_id: &MsgId, now_ms: i64) -> Result<Claim, StoreError> {
        claimed(claims::answer(self.claims.queue(msg_id, now_ms)?).await)
    }

    /// The claim is queued for the claim writer, whose answer comes however long it takes:
    /// past `deadline` the wait for it is handed back.
    async fn claim_in_time(&self, msg_id: &MsgId, now_ms: i64, deadline: Duration) -> InTime {
        let mut answered = match self.claims.queue(msg_id, now_ms) {
            Ok(answered) => answered,
            Err(e) => return InTime::Now(Err(e)),
        };
        match tokio::time::timeout(deadline, &mut answered).await {
            Ok(received) => InTime::Now(claimed(claims::read(received))),
            Err(_) => InTime::Late(Box::pin(async { claimed(claims::answer(answered).await) })),
        }
    }

    async fn release_message(&self, msg_id: &MsgId) -> Result<(), StoreError> {
        queries::release_message(&self.client().await?, msg_id).await
    }

    async fn forget_group(&self, group: &OpenConversationId) -> Result<(), StoreError> {
        queries::forget_group(&mut self.client().await?, group).await
    }

    async fn welcome(&self, group: &OpenConversationId) -> Result<Option<Welcome>, StoreError> {
        queries::welcome(&self.client().await?, group).await
    }

    async fn set_welcome(
        &self,
        group: &OpenConversationId,
        welcome: &Welcome,
    ) -> Result<(), StoreError> {
        queries::set_welcome(&self.client().await?, group, welcome).await
    }

    async fn remove_welcome(&self, group: &OpenConversationId) -> Result<bool, StoreError> {
        queries::remove_welcome(&self.client().await?, group).await
    }

    async fn claim_welcome(
        &self,
        group: &OpenConversationId,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<WelcomeTurn, StoreError> {
        queries::claim_welcome(&self.client().await?, group, now_ms, window_ms).await
    }

    async fn forget_messages(&self, now_ms: i64) -> Result<u64, StoreError> {
        queries::forget_messages(&self.client().await?, now_ms).await
    }

    async fn binding(&self, group: &OpenConversationId) -> Result<Option<ChatId>, StoreError> {
        queries::binding(&self.client().await?, group).await
    }

    async fn bind(
        &self,
        group: &OpenConversationId,
        chat: &ChatId,
        now_ms: i64,
    ) -> Result<BindOutcome, StoreError> {
        queries::bind(&mut self.client().await?, group, chat, now_ms).await
    }

    async fn unbind(&self, group: &OpenConversationId) -> Result<Option<ChatId>, StoreError> {
        queries::unbind(&self.client().await?, group).await
    }

    async fn bindings(&self) -> Result<Vec<(OpenConversationId, ChatId)>, StoreError> {
        queries::bindings(&self.client().await?).await
    }

    async fn record_audit(&self, record: AuditRecord) -> Result<(), StoreError> {
        queries::record_audit(&self.client().await?, &record).await
    }

    async fn recent_audit(
        &self,
        group: &OpenConversationId,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        queries::recent_audit(&self.client().await?, group, limit).await
    }

    async fn save_confirmation(&self, pending: &Confirmation) -> Result<bool, StoreError> {
        queries::save_confirmation(&self.client().await?, pending).await
    }

    async fn take_confirmation(
        &self,
        group: &OpenConversationId,
        code: &str,
        requester: &StaffId,
        now_ms: i64,
    ) -> Result<ConfirmTake, StoreError> {
        let mut client = self.client().await?;
        queries::take_confirmation(&mut client, group, code, requester, now_ms).await
    }

    async fn lease_group(
        &self,
        group: &OpenConversationId,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        queries::lease_group(&self.client().await?, group, holder, now_ms, until_ms).await
    }

    async fn end_group_lease(
        &self,
        group: &OpenConversationId,
        holder: &str,
    ) -> Result<(), StoreError> {
        queries::end_group_lease(&self.client().await?, group, holder).await
    }

    async fn add_schedule(
        &self,
        schedule: &NewSchedule,
        at_most: usize,
    ) -> Result<Option<i64>, StoreError> {
        queries::add_schedule(&mut self.client().await?, schedule, at_most).await
    }

    async fn schedules(&self, group: &OpenConversationId) -> Result<Vec<Schedule>, StoreError> {
        queries::schedules(&self.client().await?, group).await
    }

    async fn remove_schedule(
        &self,
        group: &OpenConversationId,
        id: i64,
    ) -> Result<bool, StoreError> {
        queries::remove_schedule(&self.client().await?, group, id).await
    }

    async fn due_schedules(&self, now_ms: i64, limit: usize) -> Result<Vec<Schedule>, StoreError> {
        queries::due_schedules(&self.client().await?, now_ms, limit).await
    }

    async fn claim_schedule(&self, claim: &ScheduleClaim) -> Result<bool, StoreError> {
        queries::claim_schedule(&self.client().await?, claim).await
    }

    async fn retake_schedule_run(&self, takeover: &RunTakeover) -> Result<bool, StoreError> {
        queries::retake_schedule_run(&self.client().await?, takeover).await
    }

    async fn renew_schedule_run(&self, id: i64, due_ms: i64, by_ms: i64) -> Result<(), StoreError> {
        queries::renew_schedule_run(&self.client().await?, id, due_ms, by_ms).await
    }

    async fn finish_schedule(&self, id: i64, due_ms: i64, outcome: &str) -> Result<(), StoreError> {
        queries::finish_schedule(&self.client().await?, id, due_ms, outcome).await
    }

    async fn check(&self) -> Result<(), StoreError> {
        queries::check(&self.client().await?).await
    }
}
