//! Each store operation on SQLite: the shared statements ([`crate::store::sql`]) run under
//! the connection lock, their rows read by [`crate::store::rows`].

use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    ids::{ChatId, OpenConversationId, StaffId},
    store::{
        AuditRecord, BindOutcome, ConfirmTake, Confirmation, KEEP_ENDED_CONFIRMATIONS_MS,
        NewSchedule, RunTakeover, Schedule, ScheduleClaim, StoreError, Welcome, WelcomeTurn, rows,
        sql,
    },
};

type Result<T> = std::result::Result<T, StoreError>;

pub(super) fn check(conn: &mut Connection) -> Result<()> {
    conn.query_row(sql::CHECK.sqlite(), [], |_| Ok(()))?;
    Ok(())
}

/// Drops everything of a dissolved group but its audit trail, in one transaction.
pub(super) fn forget_group(conn: &mut Connection, group: &OpenConversationId) -> Result<()> {
    let tx = conn.transaction()?;
    for statement in sql::FORGET_GROUP {
        tx.execute(statement.sqlite(), [group.as_str()])?;
    }
    tx.commit()?;
    Ok(())
}

pub(super) fn welcome(
    conn: &mut Connection,
    group: &OpenConversationId,
) -> Result<Option<Welcome>> {
    let mut stmt = conn.prepare_cached(sql::WELCOME.sqlite())?;
    let mut found = stmt.query([group.as_str()])?;
    match found.next()? {
        Some(row) => rows::welcome(row),
        None => Ok(None),
    }
}

pub(super) fn set_welcome(
    conn: &mut Connection,
    group: &OpenConversationId,
    w: &Welcome,
) -> Result<()> {
    conn.prepare_cached(sql::SET_WELCOME.sqlite())?
        .execute(params![
            group.as_str(),
            w.text,
            w.set_by.as_str(),
            w.set_at_ms
        ])?;
    Ok(())
}

pub(super) fn lease_group(
    conn: &mut Connection,
    group: &OpenConversationId,
    holder: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<bool> {
    let n = conn
        .prepare_cached(sql::LEASE_GROUP.sqlite())?
        .execute(params![group.as_str(), holder, now_ms, until_ms])?;
    Ok(n == 1)
}

pub(super) fn end_group_lease(
    conn: &mut Connection,
    group: &OpenConversationId,
    holder: &str,
) -> Result<()> {
    conn.prepare_cached(sql::END_GROUP_LEASE.sqlite())?
        .execute(params![group.as_str(), holder])?;
    Ok(())
}

pub(super) fn remove_welcome(conn: &mut Connection, group: &OpenConversationId) -> Result<bool> {
    Ok(conn.execute(sql::REMOVE_WELCOME.sqlite(), [group.as_str()])? == 1)
}

/// The turn is taken by one statement; only if it took nothing is the row read again to
/// say why.
pub(super) fn claim_welcome(
    conn: &mut Connection,
    group: &OpenConversationId,
    now_ms: i64,
    window_ms: i64,
) -> Result<WelcomeTurn> {
    let tx = conn.transaction()?;
    let turn = {
        let mut claim = tx.prepare_cached(sql::CLAIM_WELCOME.sqlite())?;
        let mut claimed = claim.query(params![group.as_str(), now_ms, now_ms - window_ms])?;
        match claimed.next()? {
            Some(row) => WelcomeTurn::Send(row.get(0)?),
            None => {
                let mut last = tx.prepare_cached(sql::LAST_WELCOME.sqlite())?;
                let mut found = last.query([group.as_str()])?;
                rows::welcome_wait(found.next()?, window_ms)?
            }
        }
    };
    tx.commit()?;
    Ok(turn)
}

pub(super) fn forget_messages(conn: &mut Connection, now_ms: i64) -> Result<u64> {
    Ok(conn.execute(sql::FORGET_MESSAGES.sqlite(), [now_ms])? as u64)
}

pub(super) fn all_bindings(conn: &Connection) -> Result<Vec<(OpenConversationId, ChatId)>> {
    read_list(conn, sql::BINDINGS.sqlite(), [], |row| rows::binding(row))
}

/// One transaction: who holds the chatid, then the group's own chatid, then the write.
pub(super) fn bind(
    conn: &mut Connection,
    group: &OpenConversationId,
    chat: &ChatId,
    now_ms: i64,
) -> Result<BindOutcome> {
    let tx = conn.transaction()?;
    let holder: Option<String> = tx
        .query_row(sql::BINDING_HOLDER.sqlite(), [chat.as_str()], |row| {
            row.get(0)
        })
        .optional()?;
    if let Some(refusal) = rows::bind_refusal(group, holder)? {
        return Ok(refusal);
    }
    let previous = {
        let mut stmt = tx.prepare_cached(sql::BINDING.sqlite())?;
        let mut found = stmt.query([group.as_str()])?;
        match found.next()? {
            Some(row) => rows::chat_id(row)?,
            None => None,
        }
    };
    tx.execute(
        sql::BIND.sqlite(),
        params![group.as_str(), chat.as_str(), now_ms],
    )?;
    tx.commit()?;
    Ok(rows::bound(previous))
}

pub(super) fn unbind(conn: &mut Connection, group: &OpenConversationId) -> Result<Option<ChatId>> {
    let mut stmt = conn.prepare_cached(sql::UNBIND.sqlite())?;
    let mut removed = stmt.query([group.as_str()])?;
    match removed.next()? {
        Some(row) => rows::chat_id(row),
        None => Ok(None),
    }
}

pub(super) fn record_audit(conn: &Connection, r: &AuditRecord) -> Result<()> {
    conn.prepare_cached(sql::RECORD_AUDIT.sqlite())?
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

pub(super) fn recent_audit(
    conn: &mut Connection,
    group: &OpenConversationId,
    limit: usize,
) -> Result<Vec<AuditRecord>> {
    let params = params![group.as_str(), limit as i64];
    read_list(conn, sql::RECENT_AUDIT.sqlite(), params, |row| {
        rows::audit(row)
    })
}

/// Confirmations that ended long ago go first, in the same transaction.
pub(super) fn save_confirmation(conn: &mut Connection, c: &Confirmation) -> Result<bool> {
    let tx = conn.transaction()?;
    tx.prepare_cached(sql::DROP_ENDED_CONFIRMATIONS.sqlite())?
        .execute([c.created_at_ms - KEEP_ENDED_CONFIRMATIONS_MS])?;
    let inserted = tx
        .prepare_cached(sql::SAVE_CONFIRMATION.sqlite())?
        .execute(params![
            c.group.as_str(),
            c.code,
            c.requester.as_str(),
            c.chat.as_str(),
            c.command,
            c.args,
            c.action,
            c.created_at_ms,
            c.expires_at_ms,
        ])?;
    tx.commit()?;
    Ok(inserted == 1)
}

/// The statement that takes it, and only if it took nothing the row read again to say
/// why; in one transaction, so a confirmation that does not read is not used up.
pub(super) fn take_confirmation(
    conn: &mut Connection,
    group: &OpenConversationId,
    code: &str,
    requester: &StaffId,
    now_ms: i64,
) -> Result<ConfirmTake> {
    let tx = conn.transaction()?;
    let answer = {
        let mut take = tx.prepare_cached(sql::TAKE_CONFIRMATION.sqlite())?;
        let mut taken = take.query(params![group.as_str(), code, requester.as_str(), now_ms])?;
        match taken.next()? {
            Some(row) => ConfirmTake::Taken(rows::taken(row, group, code, requester)?),
            None => {
                let mut state = tx.prepare_cached(sql::CONFIRMATION_STATE.sqlite())?;
                let mut found = state.query(params![group.as_str(), code])?;
                match found.next()? {
                    Some(row) => rows::not_taken(row, now_ms)?,
                    None => ConfirmTake::Unknown,
                }
            }
        }
    };
    tx.commit()?;
    Ok(answer)
}

pub(super) fn add_schedule(
    conn: &mut Connection,
    s: &NewSchedule,
    at_most: usize,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(sql::ADD_SCHEDULE.sqlite())?
        .query_row(
            params![
                s.group.as_str(),
                s.creator.as_str(),
                s.creator_nick,
                s.rule,
                s.command,
                s.created_at_ms,
                s.next_run_ms,
                at_most as i64
            ],
            |row| row.get(0),
        )
        .optional()?)
}

pub(super) fn schedules(
    conn: &mut Connection,
    group: &OpenConversationId,
) -> Result<Vec<Schedule>> {
    let params = params![group.as_str()];
    read_list(conn, sql::GROUP_SCHEDULES.sqlite(), params, |row| {
        rows::schedule(row)
    })
}

pub(super) fn due_schedules(
    conn: &mut Connection,
    now_ms: i64,
    limit: usize,
) -> Result<Vec<Schedule>> {
    let params = params![now_ms, limit as i64];
    read_list(conn, sql::DUE_SCHEDULES.sqlite(), params, |row| {
        rows::schedule(row)
    })
}

/// Every row `sql` finds, as `decode` reads it; a row that does not read is left out
/// (and logged by `decode`).
fn read_list<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    decode: impl Fn(&rusqlite::Row<'_>) -> Result<Option<T>>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut found = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = found.next()? {
        out.extend(decode(row)?);
    }
    Ok(out)
}

pub(super) fn remove_schedule(
    conn: &mut Connection,
    group: &OpenConversationId,
    id: i64,
) -> Result<bool> {
    let n = conn.execute(sql::REMOVE_SCHEDULE.sqlite(), params![id, group.as_str()])?;
    Ok(n == 1)
}

pub(super) fn claim_schedule(conn: &mut Connection, c: &ScheduleClaim) -> Result<bool> {
    let n = conn.execute(
        sql::CLAIM_SCHEDULE.sqlite(),
        params![c.next_ms, c.now_ms, c.id, c.due_ms, c.until_ms],
    )?;
    Ok(n == 1)
}

pub(super) fn retake_schedule_run(conn: &mut Connection, t: &RunTakeover) -> Result<bool> {
    let n = conn.execute(
        sql::RETAKE_SCHEDULE_RUN.sqlite(),
        params![t.id, t.due_ms, t.now_ms, t.until_ms],
    )?;
    Ok(n == 1)
}

pub(super) fn renew_schedule_run(
    conn: &mut Connection,
    id: i64,
    due_ms: i64,
    by_ms: i64,
) -> Result<()> {
    conn.execute(sql::RENEW_SCHEDULE_RUN.sqlite(), params![id, due_ms, by_ms])?;
    Ok(())
}

pub(super) fn finish_schedule(
    conn: &mut Connection,
    id: i64,
    due_ms: i64,
    outcome: &str,
) -> Result<()> {
    conn.execute(sql::FINISH_SCHEDULE.sqlite(), params![outcome, id, due_ms])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{
        config::Database,
        ids::{ChatId, OpenConversationId, StaffId},
        store::{ConfirmTake, Confirmation, Replay, SqliteStore, Store},
    };

    fn pending(code: &str, requester: &str, expires_at_ms: i64) -> Confirmation {
        Confirmation {
            group: OpenConversationId::parse("cid1").unwrap(),
            code: code.into(),
            requester: StaffId::parse(requester).unwrap(),
            chat: ChatId::parse("chat1").unwrap(),
            command: "kick".into(),
            args: "u1".into(),
            action: r#"{"do":"kick","members":["u1"]}"#.into(),
            created_at_ms: 1_000,
            expires_at_ms,
        }
    }

    #[tokio::test]
    async fn a_code_is_taken_once_by_its_requester_before_it_expires() {
        let store = SqliteStore::open(&Database::SqliteMemory, Replay::default()).unwrap();
        let group = OpenConversationId::parse("cid1").unwrap();
        let other = OpenConversationId::parse("cid2").unwrap();
        let (alice, bob) = (
            StaffId::parse("alice").unwrap(),
            StaffId::parse("bob").unwrap(),
        );
        assert!(
            store
                .save_confirmation(&pending("111111", "alice", 5_000))
                .await
                .unwrap()
        );
        assert!(
            !store
                .save_confirmation(&pending("111111", "bob", 5_000))
                .await
                .unwrap(),
            "a code in use"
        );
        let take = |g: &OpenConversationId, who: &StaffId, at: i64| {
            let (store, g, who) = (&store, g.clone(), who.clone());
            async move {
                store
                    .take_confirmation(&g, "111111", &who, at)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(take(&other, &alice, 2_000).await, ConfirmTake::Unknown);
        assert_eq!(take(&group, &bob, 2_000).await, ConfirmTake::NotRequester);
        assert!(
            matches!(take(&group, &alice, 2_000).await, ConfirmTake::Taken(c) if c.args == "u1")
        );
        assert_eq!(take(&group, &alice, 2_001).await, ConfirmTake::Used);
        store
            .save_confirmation(&pending("222222", "alice", 5_000))
            .await
            .unwrap();
        let late = store
            .take_confirmation(&group, "222222", &alice, 5_000)
            .await
            .unwrap();
        assert_eq!(late, ConfirmTake::Expired);
    }
}
