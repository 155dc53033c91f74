//! Applying the migrations. Replicas starting together take an advisory lock, so one
//! applies them; a database migrated by a newer qunguan is refused, not used.

use tokio_postgres::Client;

use crate::store::{StoreError, migrations};

/// Arbitrary, fixed: the advisory lock key of qunguan's migrations.
const MIGRATION_LOCK: i64 = 0x7175_6e67_7561_6e00;

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
    let pending = migrations::pending(migrations::POSTGRES, found.unwrap_or(0))?;
    for migration in pending {
        tx.batch_execute(migration.sql).await?;
    }
    let version = migrations::POSTGRES.len() as i64;
    if found.is_none() {
        tx.execute(
            "INSERT INTO qunguan_schema (version) VALUES ($1)",
            &[&version],
        )
        .await?;
    } else if !pending.is_empty() {
        tx.execute("UPDATE qunguan_schema SET version = $1", &[&version])
            .await?;
    }
    Ok(tx.commit().await?)
}
