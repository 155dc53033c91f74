//! The audit table's SQL.

use rusqlite::{Connection, params};

use crate::{
    ids::{ChatId, MsgId, OpenConversationId, StaffId},
    store::AuditRecord,
};

pub(super) fn insert(conn: &mut Connection, r: &AuditRecord) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (at_ms, msg_id, conversation_id, chat_id, sender_staff_id,
         sender_nick, command, args, outcome, errcode, request_id, duration_ms, source)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        r.at_ms,
        r.msg_id.as_str(),
        r.conversation.as_str(),
        r.chat.as_ref().map(ChatId::as_str),
        r.sender_staff_id.as_ref().map(StaffId::as_str),
        r.sender_nick,
        r.command,
        r.args,
        r.outcome,
        r.errcode,
        r.request_id,
        r.duration_ms,
        r.source,
    ])?;
    Ok(())
}

pub(super) fn recent(
    conn: &mut Connection,
    group: &OpenConversationId,
    limit: usize,
) -> rusqlite::Result<Vec<AuditRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT at_ms, msg_id, conversation_id, chat_id, sender_staff_id, sender_nick,
         command, args, outcome, errcode, request_id, duration_ms, source
         FROM audit WHERE conversation_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![group.as_str(), limit as i64], row)?;
    rows.filter_map(|row| row.transpose()).collect()
}

/// Reads one audit row; a row whose ids no longer parse is skipped (`None`).
fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<AuditRecord>> {
    let text = |i: usize| row.get::<_, String>(i);
    let optional = |i: usize| row.get::<_, Option<String>>(i);
    let (Ok(msg_id), Ok(conversation)) = (
        MsgId::parse(&text(1)?),
        OpenConversationId::parse(&text(2)?),
    ) else {
        return Ok(None);
    };
    Ok(Some(AuditRecord {
        at_ms: row.get(0)?,
        msg_id,
        conversation,
        chat: optional(3)?.and_then(|s| ChatId::parse(&s).ok()),
        sender_staff_id: optional(4)?.and_then(|s| StaffId::parse(&s).ok()),
        sender_nick: text(5)?,
        command: text(6)?,
        args: text(7)?,
        outcome: text(8)?,
        errcode: optional(9)?,
        request_id: optional(10)?,
        duration_ms: row.get(11)?,
        source: optional(12)?,
    }))
}
