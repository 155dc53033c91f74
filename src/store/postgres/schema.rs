//! Versioned migrations. Replicas starting together take an advisory lock, so one applies
//! them; a database migrated by a newer qunguan is refused, not used.

use tokio_postgres::Client;

use crate::store::StoreError;

/// Arbitrary, fixed: the advisory lock key of qunguan's migrations.
const MIGRATION_LOCK: i64 = 0x7175_6e67_7561_6e00;

/// Schema versions, applied in order; `qunguan_schema.version` records how many ran.
const MIGRATIONS: &[&str] = &[
    // 1: bindings and seen msgIds.
    "CREATE TABLE bindings (
         conversation_id TEXT PRIMARY KEY,
         chat_id TEXT NOT NULL UNIQUE,
         bound_at_ms BIGINT NOT NULL
     );
     CREATE TABLE seen_messages (
         msg_id TEXT PRIMARY KEY,
         keep_until_ms BIGINT NOT NULL
     );
     CREATE INDEX seen_messages_keep_until ON seen_messages (keep_until_ms);",
    // 2: the audit trail.
    "CREATE TABLE audit (
         id BIGSERIAL PRIMARY KEY,
         at_ms BIGINT NOT NULL,
         msg_id TEXT NOT NULL,
         conversation_id TEXT NOT NULL,
         chat_id TEXT,
         sender_staff_id TEXT,
         sender_nick TEXT NOT NULL,
         command TEXT NOT NULL,
         args TEXT NOT NULL,
         outcome TEXT NOT NULL,
         errcode TEXT,
         request_id TEXT,
         duration_ms BIGINT NOT NULL
     );
     CREATE INDEX audit_by_group ON audit (conversation_id, id);",
    // 3: commands waiting for /confirm.
    "CREATE TABLE confirmations (
         conversation_id TEXT NOT NULL,
         code TEXT NOT NULL,
         requester TEXT NOT NULL,
         chat_id TEXT NOT NULL,
         command TEXT NOT NULL,
         args TEXT NOT NULL,
         action TEXT NOT NULL,
         created_at_ms BIGINT NOT NULL,
         expires_at_ms BIGINT NOT NULL,
         used_at_ms BIGINT,
         PRIMARY KEY (conversation_id, code)
     );
     CREATE INDEX confirmations_expiry ON confirmations (expires_at_ms);",
    // 4: where a run came from (a schedule, a policy file), and the schedules.
    "ALTER TABLE audit ADD COLUMN source TEXT;
     CREATE TABLE schedules (
         id BIGSERIAL PRIMARY KEY,
         conversation_id TEXT NOT NULL,
         creator TEXT NOT NULL,
         creator_nick TEXT NOT NULL,
         rule TEXT NOT NULL,
         command TEXT NOT NULL,
         created_at_ms BIGINT NOT NULL,
         next_run_ms BIGINT,
         last_run_ms BIGINT,
         last_outcome TEXT
     );
     CREATE INDEX schedules_by_group ON schedules (conversation_id, id);
     CREATE INDEX schedules_due ON schedules (next_run_ms);",
];

/// Why the schema cannot be used.
#[derive(Debug, thiserror::Error)]
#[error(
    "the database's schema is version {found}, newer than this qunguan knows ({known}); run the newer qunguan or upgrade this one"
)]
pub struct TooNew {
    found: i64,
    known: i64,
}

/// Brings the schema to the newest version this build knows.
pub async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS qunguan_schema (version BIGINT NOT NULL)")
        .await?;
    let found: Option<i64> = tx
        .query_opt("SELECT version FROM qunguan_schema", &[])
        .await?
        .map(|row| row.get(0));
    let known = MIGRATIONS.len() as i64;
    let done = found.unwrap_or(0);
    if done > known {
        return Err(StoreError::Backend(Box::new(TooNew { found: done, known })));
    }
    for sql in &MIGRATIONS[done as usize..] {
        tx.batch_execute(sql).await?;
    }
    if found.is_none() {
        tx.execute(
            "INSERT INTO qunguan_schema (version) VALUES ($1)",
            &[&known],
        )
        .await?;
    } else {
        tx.execute("UPDATE qunguan_schema SET version = $1", &[&known])
            .await?;
    }
    Ok(tx.commit().await?)
}
