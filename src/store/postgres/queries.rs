//! The PostgreSQL store's SQL, one function per store operation.

use tokio_postgres::{Client, Row, error::SqlState};

use crate::{
    ids::{ChatId, MsgId, OpenConversationId, StaffId},
    store::{
        AuditRecord, BindOutcome, ConfirmTake, Confirmation, KEEP_ENDED_CONFIRMATIONS_MS,
        StoreError,
    },
};

pub async fn remember(client: &mut Client, seen: &[(MsgId, i64)]) -> Result<(), StoreError> {
    let tx = client.transaction().await?;
    let insert = tx
        .prepare(
            "INSERT INTO seen_messages (msg_id, keep_until_ms) VALUES ($1, $2)
             ON CONFLICT (msg_id) DO UPDATE SET keep_until_ms = excluded.keep_until_ms",
        )
        .await?;
    for (msg_id, keep_until_ms) in seen {
        tx.execute(&insert, &[&msg_id.as_str(), keep_until_ms])
            .await?;
    }
    Ok(tx.commit().await?)
}

pub async fn remembered(
    client: &Client,
    now_ms: i64,
    after: Option<MsgId>,
    limit: usize,
) -> Result<Vec<(MsgId, i64)>, StoreError> {
    let after = after.as_ref().map_or("", MsgId::as_str).to_owned();
    let rows = client
        .query(
            "SELECT msg_id, keep_until_ms FROM seen_messages
             WHERE msg_id > $1 AND keep_until_ms > $2 ORDER BY msg_id LIMIT $3",
            &[&after, &now_ms, &(limit as i64)],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((MsgId::parse(r.get(0)).ok()?, r.get(1))))
        .collect())
}

pub async fn forget(client: &Client, now_ms: i64) -> Result<u64, StoreError> {
    Ok(client
        .execute(
            "DELETE FROM seen_messages WHERE keep_until_ms <= $1",
            &[&now_ms],
        )
        .await?)
}

pub async fn binding(
    client: &Client,
    group: &OpenConversationId,
) -> Result<Option<ChatId>, StoreError> {
    let row = client
        .query_opt(
            "SELECT chat_id FROM bindings WHERE conversation_id = $1",
            &[&group.as_str()],
        )
        .await?;
    Ok(row.and_then(|r| ChatId::parse(r.get(0)).ok()))
}

/// One transaction. Two groups binding one chatid at the same moment both find it free;
/// the UNIQUE constraint on chat_id lets one commit, and the other runs again and reads
/// that binding, so it answers `ChatTaken`, never an error.
pub async fn bind(
    client: &mut Client,
    group: &OpenConversationId,
    chat: &ChatId,
    now_ms: i64,
) -> Result<BindOutcome, StoreError> {
    const ATTEMPTS: usize = 3;
    let mut attempt = 1;
    loop {
        match bind_once(client, group, chat, now_ms).await {
            Err(e) if attempt < ATTEMPTS && e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                attempt += 1
            }
            other => return Ok(other?),
        }
    }
}

async fn bind_once(
    client: &mut Client,
    group: &OpenConversationId,
    chat: &ChatId,
    now_ms: i64,
) -> Result<BindOutcome, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let holder = tx
        .query_opt(
            "SELECT conversation_id FROM bindings WHERE chat_id = $1 FOR UPDATE",
            &[&chat.as_str()],
        )
        .await?;
    if let Some(holder) = holder {
        let holder: String = holder.get(0);
        return Ok(if holder == group.as_str() {
            BindOutcome::AlreadyBound
        } else {
            match OpenConversationId::parse(&holder) {
                Ok(by) => BindOutcome::ChatTaken { by },
                Err(_) => BindOutcome::AlreadyBound,
            }
        });
    }
    let previous = tx
        .query_opt(
            "SELECT chat_id FROM bindings WHERE conversation_id = $1 FOR UPDATE",
            &[&group.as_str()],
        )
        .await?
        .and_then(|r| ChatId::parse(r.get(0)).ok());
    tx.execute(
        "INSERT INTO bindings (conversation_id, chat_id, bound_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (conversation_id) DO UPDATE SET chat_id = excluded.chat_id,
         bound_at_ms = excluded.bound_at_ms",
        &[&group.as_str(), &chat.as_str(), &now_ms],
    )
    .await?;
    tx.commit().await?;
    Ok(match previous {
        Some(previous) => BindOutcome::Replaced { previous },
        None => BindOutcome::Bound,
    })
}

pub async fn unbind(
    client: &Client,
    group: &OpenConversationId,
) -> Result<Option<ChatId>, StoreError> {
    let row = client
        .query_opt(
            "DELETE FROM bindings WHERE conversation_id = $1 RETURNING chat_id",
            &[&group.as_str()],
        )
        .await?;
    Ok(row.and_then(|r| ChatId::parse(r.get(0)).ok()))
}

pub async fn record_audit(client: &Client, r: &AuditRecord) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO audit (at_ms, msg_id, conversation_id, chat_id, sender_staff_id,
             sender_nick, command, args, outcome, errcode, request_id, duration_ms, source)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
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
) -> Result<Vec<AuditRecord>, StoreError> {
    let rows = client
        .query(
            "SELECT at_ms, msg_id, conversation_id, chat_id, sender_staff_id, sender_nick,
             command, args, outcome, errcode, request_id, duration_ms, source
             FROM audit WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2",
            &[&group.as_str(), &(limit as i64)],
        )
        .await?;
    Ok(rows.iter().filter_map(audit_record).collect())
}

fn audit_record(r: &Row) -> Option<AuditRecord> {
    Some(AuditRecord {
        at_ms: r.get(0),
        msg_id: MsgId::parse(r.get(1)).ok()?,
        conversation: OpenConversationId::parse(r.get(2)).ok()?,
        chat: r
            .get::<_, Option<&str>>(3)
            .and_then(|c| ChatId::parse(c).ok()),
        sender_staff_id: r
            .get::<_, Option<&str>>(4)
            .and_then(|s| StaffId::parse(s).ok()),
        sender_nick: r.get(5),
        command: r.get(6),
        args: r.get(7),
        outcome: r.get(8),
        errcode: r.get(9),
        request_id: r.get(10),
        duration_ms: r.get(11),
        source: r.get(12),
    })
}

pub async fn save_confirmation(client: &Client, c: &Confirmation) -> Result<bool, StoreError> {
    client
        .execute(
            "DELETE FROM confirmations WHERE expires_at_ms < $1",
            &[&(c.created_at_ms - KEEP_ENDED_CONFIRMATIONS_MS)],
        )
        .await?;
    let inserted = client
        .execute(
            "INSERT INTO confirmations (conversation_id, code, requester, chat_id, command, args,
             action, created_at_ms, expires_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (conversation_id, code) DO NOTHING",
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
/// say why.
pub async fn take_confirmation(
    client: &Client,
    group: &OpenConversationId,
    code: &str,
    requester: &StaffId,
    now_ms: i64,
) -> Result<ConfirmTake, StoreError> {
    let taken = client
        .query_opt(
            "UPDATE confirmations SET used_at_ms = $4
             WHERE conversation_id = $1 AND code = $2 AND requester = $3
               AND used_at_ms IS NULL AND expires_at_ms > $4
             RETURNING chat_id, command, args, action, created_at_ms, expires_at_ms",
            &[&group.as_str(), &code, &requester.as_str(), &now_ms],
        )
        .await?;
    if let Some(r) = taken {
        let Ok(chat) = ChatId::parse(r.get(0)) else {
            return Ok(ConfirmTake::Unknown);
        };
        return Ok(ConfirmTake::Taken(Confirmation {
            group: group.clone(),
            code: code.to_owned(),
            requester: requester.clone(),
            chat,
            command: r.get(1),
            args: r.get(2),
            action: r.get(3),
            created_at_ms: r.get(4),
            expires_at_ms: r.get(5),
        }));
    }
    let row = client
        .query_opt(
            "SELECT requester, expires_at_ms, used_at_ms FROM confirmations
             WHERE conversation_id = $1 AND code = $2",
            &[&group.as_str(), &code],
        )
        .await?;
    Ok(match row {
        None => ConfirmTake::Unknown,
        Some(r) if r.get::<_, Option<i64>>(2).is_some() => ConfirmTake::Used,
        Some(r) if r.get::<_, i64>(1) <= now_ms => ConfirmTake::Expired,
        Some(_) => ConfirmTake::NotRequester,
    })
}
