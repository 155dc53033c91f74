//! The PostgreSQL store, for several replicas sharing one database. Nothing is cached:
//! every read goes to the database, so what one replica wrote is what the next reads. A
//! msgId claim is one `INSERT … ON CONFLICT DO NOTHING`, a confirmation is taken with one
//! `UPDATE … WHERE used_at_ms IS NULL … RETURNING`: atomic whichever replica asks.

mod claims;
mod group_lock;
mod queries;
mod schedules;
mod schema;

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::config::SslMode;

use super::{BackendError, StoreError};
use crate::config::PostgresUrl;

/// Connections per replica.
const POOL_SIZE: usize = 16;
/// How long getting a connection may take (connect or wait for a free one).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// PostgreSQL-backed [`super::Store`].
pub struct PostgresStore {
    pool: Pool,
    claims: claims::Claims,
    locks: group_lock::Locks,
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

impl PostgresStore {
    /// Connects, migrates (or refuses a schema newer than this build), and returns the
    /// store. Errors name the URL without its password.
    pub async fn open(url: &PostgresUrl) -> Result<Self, StoreError> {
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
        let claims = claims::Claims::start(pool.clone());
        let locks = group_lock::Locks::default();
        let store = Self {
            pool,
            claims,
            locks,
        };
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
impl super::Store for PostgresStore {
    fn shared(&self) -> bool {
        true
    }

    async fn claim_message(
        &self,
        msg_id: &crate::ids::MsgId,
        keep_until_ms: i64,
    ) -> Result<bool, StoreError> {
        self.claims.claim(msg_id, keep_until_ms).await
    }

    async fn remember_messages(&self, seen: &[(crate::ids::MsgId, i64)]) -> Result<(), StoreError> {
        queries::remember(&mut **self.client().await?, seen).await
    }

    async fn remembered_messages(
        &self,
        now_ms: i64,
        after: Option<crate::ids::MsgId>,
        limit: usize,
    ) -> Result<Vec<(crate::ids::MsgId, i64)>, StoreError> {
        queries::remembered(&**self.client().await?, now_ms, after, limit).await
    }

    async fn forget_messages(&self, now_ms: i64) -> Result<u64, StoreError> {
        queries::forget(&**self.client().await?, now_ms).await
    }

    async fn binding(
        &self,
        group: &crate::ids::OpenConversationId,
    ) -> Result<Option<crate::ids::ChatId>, StoreError> {
        queries::binding(&**self.client().await?, group).await
    }

    async fn bind(
        &self,
        group: &crate::ids::OpenConversationId,
        chat: &crate::ids::ChatId,
        now_ms: i64,
    ) -> Result<super::BindOutcome, StoreError> {
        queries::bind(&mut **self.client().await?, group, chat, now_ms).await
    }

    async fn unbind(
        &self,
        group: &crate::ids::OpenConversationId,
    ) -> Result<Option<crate::ids::ChatId>, StoreError> {
        queries::unbind(&**self.client().await?, group).await
    }

    async fn record_audit(&self, record: &super::AuditRecord) -> Result<(), StoreError> {
        queries::record_audit(&**self.client().await?, record).await
    }

    async fn recent_audit(
        &self,
        group: &crate::ids::OpenConversationId,
        limit: usize,
    ) -> Result<Vec<super::AuditRecord>, StoreError> {
        queries::recent_audit(&**self.client().await?, group, limit).await
    }

    async fn save_confirmation(&self, pending: &super::Confirmation) -> Result<bool, StoreError> {
        queries::save_confirmation(&**self.client().await?, pending).await
    }

    async fn take_confirmation(
        &self,
        group: &crate::ids::OpenConversationId,
        code: &str,
        requester: &crate::ids::StaffId,
        now_ms: i64,
    ) -> Result<super::ConfirmTake, StoreError> {
        queries::take_confirmation(&**self.client().await?, group, code, requester, now_ms).await
    }

    async fn lock_group(
        &self,
        group: &crate::ids::OpenConversationId,
    ) -> Result<super::GroupLock, StoreError> {
        self.locks.lock(&self.pool, group).await
    }

    async fn bindings(
        &self,
    ) -> Result<Vec<(crate::ids::OpenConversationId, crate::ids::ChatId)>, StoreError> {
        schedules::bindings(&**self.client().await?).await
    }

    async fn add_schedule(&self, schedule: &super::NewSchedule) -> Result<i64, StoreError> {
        schedules::add(&**self.client().await?, schedule).await
    }

    async fn schedules(
        &self,
        group: &crate::ids::OpenConversationId,
    ) -> Result<Vec<super::Schedule>, StoreError> {
        schedules::of_group(&**self.client().await?, group).await
    }

    async fn remove_schedule(
        &self,
        group: &crate::ids::OpenConversationId,
        id: i64,
    ) -> Result<bool, StoreError> {
        schedules::remove(&**self.client().await?, group, id).await
    }

    async fn due_schedules(
        &self,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<super::Schedule>, StoreError> {
        schedules::due(&**self.client().await?, now_ms, limit).await
    }

    async fn claim_schedule(&self, claim: &super::ScheduleClaim) -> Result<bool, StoreError> {
        schedules::claim(&**self.client().await?, claim).await
    }

    async fn finish_schedule(&self, id: i64, outcome: &str) -> Result<(), StoreError> {
        schedules::finish(&**self.client().await?, id, outcome).await
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.client().await?.simple_query("SELECT 1").await?;
        Ok(())
    }
}
