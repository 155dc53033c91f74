//! Stored rows into records, written once for both backends, so a row reads the same
//! whichever database holds it.
//!
//! A row whose ids no longer parse (a corrupt row: written by hand, or by a bug) is read
//! the same way everywhere: in a list it is left out and logged; where an answer would
//! have to rest on it (a chatid held by an unreadable group) the operation fails with
//! [`StoreError::Corrupt`], naming the table, and changes nothing.

use super::{
    AuditRecord, BindOutcome, Confirmation, Running, Schedule, StoreError, Welcome, WelcomeTurn,
};
use crate::ids::{ChatId, MsgId, OpenConversationId, StaffId};

/// A row of either backend, by column index.
pub trait Row {
    fn text(&self, i: usize) -> Result<String, StoreError>;
    fn maybe_text(&self, i: usize) -> Result<Option<String>, StoreError>;
    fn int(&self, i: usize) -> Result<i64, StoreError>;
    fn maybe_int(&self, i: usize) -> Result<Option<i64>, StoreError>;
}

impl Row for rusqlite::Row<'_> {
    fn text(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.get(i)?)
    }
    fn maybe_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.get(i)?)
    }
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.get(i)?)
    }
    fn maybe_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.get(i)?)
    }
}

impl Row for tokio_postgres::Row {
    fn text(&self, i: usize) -> Result<String, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn maybe_text(&self, i: usize) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn int(&self, i: usize) -> Result<i64, StoreError> {
        Ok(self.try_get(i)?)
    }
    fn maybe_int(&self, i: usize) -> Result<Option<i64>, StoreError> {
        Ok(self.try_get(i)?)
    }
}

/// Logs a row left out of a list.
fn left_out(table: &'static str) {
    tracing::warn!(
        table,
        "a stored row has an id that does not parse; it is left out"
    );
}

/// A list's rows that read, the others left out (and logged).
pub fn readable<T>(
    rows: impl IntoIterator<Item = Result<Option<T>, StoreError>>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    for row in rows {
        if let Some(record) = row? {
            out.push(record);
        }
    }
    Ok(out)
}

/// A binding, from `SELECT conversation_id, chat_id`; `None` if either does not parse.
pub fn binding(row: &impl Row) -> Result<Option<(OpenConversationId, ChatId)>, StoreError> {
    let (cid, chat) = (row.text(0)?, row.text(1)?);
    match (OpenConversationId::parse(&cid), ChatId::parse(&chat)) {
        (Ok(cid), Ok(chat)) => Ok(Some((cid, chat))),
        _ => {
            left_out("bindings");
            Ok(None)
        }
    }
}

/// A group's chatid, from `SELECT chat_id`; `None` (unbound) if it does not parse, so a
/// `/bind` can replace it.
pub fn chat_id(row: &impl Row) -> Result<Option<ChatId>, StoreError> {
    match ChatId::parse(&row.text(0)?) {
        Ok(chat) => Ok(Some(chat)),
        Err(_) => {
            left_out("bindings");
            Ok(None)
        }
    }
}

/// What binding `group` to a chatid comes to, from who holds that chatid now (`holder`, a
/// conversation id as stored): `None` when nobody does, so bind it.
pub fn bind_refusal(
    group: &OpenConversationId,
    holder: Option<String>,
) -> Result<Option<BindOutcome>, StoreError> {
    let Some(holder) = holder else {
        return Ok(None);
    };
    if holder == group.as_str() {
        return Ok(Some(BindOutcome::AlreadyBound));
    }
    match OpenConversationId::parse(&holder) {
        Ok(by) => Ok(Some(BindOutcome::ChatTaken { by })),
        Err(_) => Err(StoreError::Corrupt(
            "bindings: the chatid is bound to a conversation id that does not parse".into(),
        )),
    }
}

/// The outcome of a binding that was written, from the group's chatid before it.
pub fn bound(previous: Option<ChatId>) -> BindOutcome {
    match previous {
        Some(previous) => BindOutcome::Replaced { previous },
        None => BindOutcome::Bound,
    }
}

/// An audit record, from [`super::sql::RECENT_AUDIT`]'s columns.
pub fn audit(row: &impl Row) -> Result<Option<AuditRecord>, StoreError> {
    let (Ok(msg_id), Ok(conversation)) = (
        MsgId::parse(&row.text(1)?),
        OpenConversationId::parse(&row.text(2)?),
    ) else {
        left_out("audit");
        return Ok(None);
    };
    Ok(Some(AuditRecord {
        at_ms: row.int(0)?,
        msg_id,
        conversation,
        chat: row.maybe_text(3)?.and_then(|s| ChatId::parse(&s).ok()),
        sender_staff_id: row.maybe_text(4)?.and_then(|s| StaffId::parse(&s).ok()),
        sender_nick: row.text(5)?,
        command: row.text(6)?,
        args: row.text(7)?,
        outcome: row.text(8)?,
        errcode: row.maybe_text(9)?,
        request_id: row.maybe_text(10)?,
        duration_ms: row.int(11)?,
        source: row.maybe_text(12)?,
    }))
}

/// A schedule, from [`super::sql::GROUP_SCHEDULES`]'s columns.
pub fn schedule(row: &impl Row) -> Result<Option<Schedule>, StoreError> {
    let (Ok(group), Ok(creator)) = (
        OpenConversationId::parse(&row.text(1)?),
        StaffId::parse(&row.text(2)?),
    ) else {
        left_out("schedules");
        return Ok(None);
    };
    Ok(Some(Schedule {
        id: row.int(0)?,
        group,
        creator,
        creator_nick: row.text(3)?,
        rule: row.text(4)?,
        command: row.text(5)?,
        created_at_ms: row.int(6)?,
        next_run_ms: row.maybe_int(7)?,
        last_run_ms: row.maybe_int(8)?,
        last_outcome: row.maybe_text(9)?,
        running: match (row.maybe_int(10)?, row.maybe_int(11)?) {
            (Some(due_ms), Some(until_ms)) => Some(Running { due_ms, until_ms }),
            _ => None,
        },
    }))
}

/// A confirmation just taken, from [`super::sql::TAKE_CONFIRMATION`]'s columns; it was
/// taken for `requester` in `group` with `code`. A chatid that does not parse fails.
pub fn taken(
    row: &impl Row,
    group: &OpenConversationId,
    code: &str,
    requester: &StaffId,
) -> Result<Confirmation, StoreError> {
    let chat = ChatId::parse(&row.text(0)?)
        .map_err(|_| StoreError::Corrupt("confirmations: the chatid does not parse".into()))?;
    Ok(Confirmation {
        group: group.clone(),
        code: code.to_owned(),
        requester: requester.clone(),
        chat,
        command: row.text(1)?,
        args: row.text(2)?,
        action: row.text(3)?,
        created_at_ms: row.int(4)?,
        expires_at_ms: row.int(5)?,
    })
}

/// Why a confirmation was not taken, from [`super::sql::CONFIRMATION_STATE`]'s columns.
pub fn not_taken(row: &impl Row, now_ms: i64) -> Result<super::ConfirmTake, StoreError> {
    use super::ConfirmTake;
    Ok(if row.maybe_int(2)?.is_some() {
        ConfirmTake::Used
    } else if row.int(1)? <= now_ms {
        ConfirmTake::Expired
    } else {
        ConfirmTake::NotRequester
    })
}

/// A welcome, from [`super::sql::WELCOME`]'s columns; `None` if who set it does not parse.
pub fn welcome(row: &impl Row) -> Result<Option<Welcome>, StoreError> {
    let Ok(set_by) = StaffId::parse(&row.text(1)?) else {
        left_out("welcomes");
        return Ok(None);
    };
    Ok(Some(Welcome {
        text: row.text(0)?,
        set_by,
        set_at_ms: row.int(2)?,
    }))
}

/// Why a welcome's turn was not taken, from [`super::sql::LAST_WELCOME`]'s column (no row:
/// the group has none).
pub fn welcome_wait(row: Option<&impl Row>, window_ms: i64) -> Result<WelcomeTurn, StoreError> {
    Ok(match row {
        None => WelcomeTurn::Off,
        Some(row) => WelcomeTurn::WaitUntil(row.maybe_int(0)?.unwrap_or(0) + window_ms),
    })
}
