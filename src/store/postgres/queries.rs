//! Each store operation on PostgreSQL: the shared statements ([`crate::store::sql`]), their
//! rows read by [`crate::store::rows`].

use deadpool_postgres::{Client, GenericClient};
use tokio_postgres::{Statement, error::SqlState};

use crate::{
    ids::{ChatId, MsgId, OpenConversationId, StaffId},
    store::{
        AuditRecord, BindOutcome, ConfirmTake, Confirmation, KEEP_ENDED_CONFIRMATIONS_MS,
        NewSchedule, RunTakeover, Schedule, ScheduleClaim, StoreError, Welcome, WelcomeTurn, rows,
        sql::{self, Sql},
    },
};

type Result<T> = std::result::Result<T, StoreError>;

/// `statement` as this connection prepared it: once per connection, then from its cache.
async fn prep(client: &impl GenericClient, statement: &Sql) -> Result<Statement> {
    Ok(client.prepare_cached(statement.postgres()).await?)
}

/// [`sql::BINDING_HOLDER`] and [`sql::BINDING`], locking the rows they read.
static BINDING_HOLDER_FOR_UPDATE: Sql =
    Sql::new("SELECT conversation_id FROM bindings WHERE chat_id = ?1 FOR UPDATE");
static BINDING_FOR_UPDATE: Sql =
    Sql::new("SELECT chat_id FROM bindings WHERE conversation_id = ?1 FOR UPDATE");

pub async fn check(client: &Client) -> Result<()> {
    client.simple_query(sql::CHECK.postgres()).await?;
    Ok(())
}

pub async fn forget_messages(client: &Client, now_ms: i64) -> Result<u64> {
    Ok(client
        .execute(&prep(client, &sql::FORGET_MESSAGES).await?, &[&now_ms])
        .await?)
}

pub async fn release_message(client: &Client, msg_id: &MsgId) -> Result<()> {
    client
        .execute(
            &prep(client, &sql::RELEASE_MESSAGE).await?,
            &[&msg_id.as_str()],
        )
        .await?;
    Ok(())
}

/// Drops everything of a dissolved group but its audit trail, in one transaction.
pub async fn forget_group(client: &mut Client, group: &OpenConversationId) -> Result<()> {
    let tx = client.transaction().await?;
    for statement in sql::FORGET_GROUP {
        tx.execute(&prep(&tx, statement).await?, &[&group.as_str()])
            .await?;
    }
    Ok(tx.commit().await?)
}

pub async fn welcome(client: &Client, group: &OpenConversationId) -> Result<Option<Welcome>> {
    match client
        .query_opt(&prep(client, &sql::WELCOME).await?, &[&group.as_str()])
        .await?
    {
        Some(row) => rows::welcome(&row),
        None => Ok(None),
    }
}

pub async fn set_welcome(client: &Client, group: &OpenConversationId, w: &Welcome) -> Result<()> {
    client
        .execute(
            &prep(client, &sql::SET_WELCOME).await?,
            &[&group.as_str(), &w.text, &w.set_by.as_str(), &w.set_at_ms],
        )
        .await?;
    Ok(())
}

pub async fn lease_group(
    client: &Client,
    group: &OpenConversationId,
    holder: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<bool> {
    let statement = prep(client, &sql::LEASE_GROUP).await?;
    let n = client
        .execute(&statement, &[&group.as_str(), &holder, &now_ms, &until_ms])
        .await?;
    Ok(n == 1)
}

pub async fn end_group_lease(
    client: &Client,
    group: &OpenConversationId,
    holder: &str,
) -> Result<()> {
    let statement = prep(client, &sql::END_GROUP_LEASE).await?;
    client
        .execute(&statement, &[&group.as_str(), &holder])
        .await?;
    Ok(())
}

pub async fn remove_welcome(client: &Client, group: &OpenConversationId) -> Result<bool> {
    let n = client
        .execute(
            &prep(client, &sql::REMOVE_WELCOME).await?,
            &[&group.as_str()],
        )
        .await?;
    Ok(n == 1)
}

/// One statement takes the turn (PostgreSQL locks the row, so of two replicas one takes
/// it); only if it took nothing is the row read again to say why.
pub async fn claim_welcome(
    client: &Client,
    group: &OpenConversationId,
    now_ms: i64,
    window_ms: i64,
) -> Result<WelcomeTurn> {
    let since = now_ms - window_ms;
    if let Some(row) = client
        .query_opt(
            &prep(client, &sql::CLAIM_WELCOME).await?,
            &[&group.as_str(), &now_ms, &since],
        )
        .await?
    {
        return Ok(WelcomeTurn::Send(row.try_get(0)?));
    }
    let last = client
        .query_opt(&prep(client, &sql::LAST_WELCOME).await?, &[&group.as_str()])
        .await?;
    rows::welcome_wait(last.as_ref(), window_ms)
}

pub async fn binding(client: &Client, group: &OpenConversationId) -> Result<Option<ChatId>> {
    let row = client
        .query_opt(&prep(client, &sql::BINDING).await?, &[&group.as_str()])
        .await?;
    match row {
        Some(row) => rows::chat_id(&row),
        None => Ok(None),
    }
}

pub async fn bindings(client: &Client) -> Result<Vec<(OpenConversationId, ChatId)>> {
    let found = client
        .query(&prep(client, &sql::BINDINGS).await?, &[])
        .await?;
    rows::readable(found.iter().map(rows::binding))
}

/// One transaction. Two groups binding one chatid at the same moment both find it free;
/// the UNIQUE constraint on chat_id lets one commit, and the other runs again and reads
/// that binding, so it answers `ChatTaken`, never an error.
pub async fn bind(
    client: &mut Client,
    group: &OpenConversationId,
    chat: &ChatId,
    now_ms: i64,
) -> Result<BindOutcome> {
    const ATTEMPTS: usize = 3;
    let mut attempt = 1;
    loop {
        match bind_once(client, group, chat, now_ms).await {
            Err(StoreError::Backend(e))
                if attempt < ATTEMPTS
                    && e.downcast_ref::<tokio_postgres::Error>()
                        .and_then(tokio_postgres::Error::code)
                        == Some(&SqlState::UNIQUE_VIOLATION) =>
            {
                attempt += 1
            }
            other => return other,
        }
    }
}

async fn bind_once(
    client: &mut Client,
    group: &OpenConversationId,
    chat: &ChatId,
    now_ms: i64,
) -> Result<BindOutcome> {
    let tx = client.transaction().await?;
    let holder = tx
        .query_opt(
            &prep(&tx, &BINDING_HOLDER_FOR_UPDATE).await?,
            &[&chat.as_str()],
        )
        .await?
        .map(|row| row.try_get::<_, String>(0))
        .transpose()?;
    if let Some(refusal) = rows::bind_refusal(group, holder)? {
        return Ok(refusal);
    }
    let previous = match tx
        .query_opt(&prep(&tx, &BINDING_FOR_UPDATE).await?, &[&group.as_str()])
        .await?
    {
        Some(row) => rows::chat_id(&row)?,
        None => None,
    };
    tx.execute(
        &prep(&tx, &sql::BIND).await?,
        &[&group.as_str(), &chat.as_str(), &now_ms],
    )
    .await?;
    tx.commit().await?;
    Ok(rows::bound(previous))
}

pub async fn unbind(client: &Client, group: &OpenConversationId) -> Result<Option<ChatId>> {
    match client
        .query_opt(&prep(client, &sql::UNBIND).await?, &[&group.as_str()])
        .await?
    {
        Some(row) => rows::chat_id(&row),
        None => Ok(None),
    }
}

pub async fn record_audit(client: &Client, r: &AuditRecord) -> Result<()> {
    client
        .execute(
            &prep(client, &sql::RECORD_AUDIT).await?,
            &[
                &r.at_ms,
                &r.msg_id.as_str(),
                &r.conversation.as_str(),
                &r.chat.as_ref().map(ChatId::as_str),
                &r.sender_staff_id.as_ref().map(StaffId::as_str),
                &r.sender_nick,
                &r.command,
                &r.args,
                &r.outcome,
                &r.errcode,
                &r.request_id,
                &r.duration_ms,
                &r.source,
            ],
        )
        .await?;
    Ok(())
}

pub async fn recent_audit(
    client: &Client,
    group: &OpenConversationId,
    limit: usize,
) -> Result<Vec<AuditRecord>> {
    let found = client
        .query(
            &prep(client, &sql::RECENT_AUDIT).await?,
            &[&group.as_str(), &(limit as i64)],
        )
        .await?;
    rows::readable(found.iter().map(rows::audit))
}

pub async fn save_confirmation(client: &Client, c: &Confirmation) -> Result<bool> {
    client
        .execute(
            &prep(client, &sql::DROP_ENDED_CONFIRMATIONS).await?,
            &[&(c.created_at_ms - KEEP_ENDED_CONFIRMATIONS_MS)],
        )
        .await?;
    let inserted = client
        .execute(
            &prep(client, &sql::SAVE_CONFIRMATION).await?,
            &[
                &c.group.as_str(),
                &c.code,
                &c.requester.as_str(),
                &c.chat.as_str(),
                &c.command,
                &c.args,
                &c.action,
                &c.created_at_ms,
                &c.expires_at_ms,
            ],
        )
        .await?;
    Ok(inserted == 1)
}

/// One statement takes the confirmation; only if none was taken is the row read again to
/// say why. In one transaction, so a confirmation that does not read is not used up.
pub async fn take_confirmation(
    client: &mut Client,
    group: &OpenConversationId,
    code: &str,
    requester: &StaffId,
    now_ms: i64,
) -> Result<ConfirmTake> {
    let tx = client.transaction().await?;
    let taken = tx
        .query_opt(
            &prep(&tx, &sql::TAKE_CONFIRMATION).await?,
            &[&group.as_str(), &code, &requester.as_str(), &now_ms],
        )
        .await?;
    let answer = match taken {
        Some(row) => ConfirmTake::Taken(rows::taken(&row, group, code, requester)?),
        None => match tx
            .query_opt(
                &prep(&tx, &sql::CONFIRMATION_STATE).await?,
                &[&group.as_str(), &code],
            )
            .await?
        {
            Some(row) => rows::not_taken(&row, now_ms)?,
            None => ConfirmTake::Unknown,
        },
    };
    tx.commit().await?;
    Ok(answer)
}

/// The advisory lock a group's new schedules are counted and saved under: qunguan's
/// two-key form (apart from the migrations' one-key lock), the second key 32 bits of the
/// cid's SHA-256 (two groups sharing one only take turns needlessly).
fn schedules_lock(group: &OpenConversationId) -> (i32, i32) {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(group.as_str().as_bytes());
    (
        0x7168,
        i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]),
    )
}

/// Under the group's schedule lock: without it, two replicas' statements could each count
/// before the other's insert commits (READ COMMITTED reads what was committed when each
/// statement began), and a group would have one too many.
pub async fn add_schedule(
    client: &mut Client,
    s: &NewSchedule,
    at_most: usize,
) -> Result<Option<i64>> {
    let tx = client.transaction().await?;
    let (namespace, key) = schedules_lock(&s.group);
    tx.execute("SELECT pg_advisory_xact_lock($1, $2)", &[&namespace, &key])
        .await?;
    let row = tx
        .query_opt(
            &prep(&tx, &sql::ADD_SCHEDULE).await?,
            &[
                &s.group.as_str(),
                &s.creator.as_str(),
                &s.creator_nick,
                &s.rule,
                &s.command,
                &s.created_at_ms,
                &s.next_run_ms,
                &(at_most as i64),
            ],
        )
        .await?;
    tx.commit().await?;
    Ok(row.map(|row| row.try_get(0)).transpose()?)
}

pub async fn schedules(client: &Client, group: &OpenConversationId) -> Result<Vec<Schedule>> {
    let found = client
        .query(
            &prep(client, &sql::GROUP_SCHEDULES).await?,
            &[&group.as_str()],
        )
        .await?;
    rows::readable(found.iter().map(rows::schedule))
}

pub async fn remove_schedule(client: &Client, group: &OpenConversationId, id: i64) -> Result<bool> {
    let n = client
        .execute(
            &prep(client, &sql::REMOVE_SCHEDULE).await?,
            &[&id, &group.as_str()],
        )
        .await?;
    Ok(n == 1)
}

pub async fn due_schedules(client: &Client, now_ms: i64, limit: usize) -> Result<Vec<Schedule>> {
    let found = client
        .query(
            &prep(client, &sql::DUE_SCHEDULES).await?,
            &[&now_ms, &(limit as i64)],
        )
        .await?;
    rows::readable(found.iter().map(rows::schedule))
}

/// One UPDATE of one row: PostgreSQL locks the row, so of two replicas claiming the same
/// run the second re-reads it, finds the next run moved on, and updates nothing.
pub async fn claim_schedule(client: &Client, c: &ScheduleClaim) -> Result<bool> {
    let n = client
        .execute(
            &prep(client, &sql::CLAIM_SCHEDULE).await?,
            &[&c.next_ms, &c.now_ms, &c.id, &c.due_ms, &c.until_ms],
        )
        .await?;
    Ok(n == 1)
}

pub async fn retake_schedule_run(client: &Client, t: &RunTakeover) -> Result<bool> {
    let n = client
        .execute(
            &prep(client, &sql::RETAKE_SCHEDULE_RUN).await?,
            &[&t.id, &t.due_ms, &t.now_ms, &t.until_ms],
        )
        .await?;
    Ok(n == 1)
}

pub async fn renew_schedule_run(client: &Client, id: i64, due_ms: i64, by_ms: i64) -> Result<()> {
    let statement = prep(client, &sql::RENEW_SCHEDULE_RUN).await?;
    client.execute(&statement, &[&id, &due_ms, &by_ms]).await?;
    Ok(())
}

pub async fn finish_schedule(client: &Client, id: i64, due_ms: i64, outcome: &str) -> Result<()> {
    client
        .execute(
            &prep(client, &sql::FINISH_SCHEDULE).await?,
            &[&outcome, &id, &due_ms],
        )
        .await?;
    Ok(())
}
