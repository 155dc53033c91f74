//! The schedules table's SQL.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    ids::{OpenConversationId, StaffId},
    store::{NewSchedule, Schedule, ScheduleClaim},
};

const COLUMNS: &str = "id, conversation_id, creator, creator_nick, rule, command, created_at_ms,
     next_run_ms, last_run_ms, last_outcome";

pub(super) fn add(conn: &mut Connection, s: &NewSchedule) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO schedules (conversation_id, creator, creator_nick, rule, command,
         created_at_ms, next_run_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
    )?
    .query_row(
        params![
            s.group.as_str(),
            s.creator.as_str(),
            s.creator_nick,
            s.rule,
            s.command,
            s.created_at_ms,
            s.next_run_ms
        ],
        |row| row.get(0),
    )
}

pub(super) fn of_group(
    conn: &mut Connection,
    group: &OpenConversationId,
) -> rusqlite::Result<Vec<Schedule>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM schedules WHERE conversation_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([group.as_str()], row)?;
    rows.filter_map(|r| r.transpose()).collect()
}

pub(super) fn remove(
    conn: &mut Connection,
    group: &OpenConversationId,
    id: i64,
) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "DELETE FROM schedules WHERE id = ?1 AND conversation_id = ?2",
        params![id, group.as_str()],
    )?;
    Ok(n == 1)
}

pub(super) fn due(
    conn: &mut Connection,
    now_ms: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Schedule>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM schedules WHERE next_run_ms <= ?1 ORDER BY next_run_ms LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![now_ms, limit as i64], row)?;
    rows.filter_map(|r| r.transpose()).collect()
}

pub(super) fn claim(conn: &mut Connection, c: &ScheduleClaim) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "UPDATE schedules SET next_run_ms = ?1, last_run_ms = ?2, last_outcome = NULL
         WHERE id = ?3 AND next_run_ms = ?4",
        params![c.next_ms, c.now_ms, c.id, c.due_ms],
    )?;
    Ok(n == 1)
}

pub(super) fn finish(conn: &mut Connection, id: i64, outcome: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE schedules SET last_outcome = ?1 WHERE id = ?2",
        params![outcome, id],
    )
    .optional()?;
    Ok(())
}

/// Reads one row; a row whose ids no longer parse is skipped (`None`).
fn row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Schedule>> {
    let (Ok(group), Ok(creator)) = (
        OpenConversationId::parse(&row.get::<_, String>(1)?),
        StaffId::parse(&row.get::<_, String>(2)?),
    ) else {
        return Ok(None);
    };
    Ok(Some(Schedule {
        id: row.get(0)?,
        group,
        creator,
        creator_nick: row.get(3)?,
        rule: row.get(4)?,
        command: row.get(5)?,
        created_at_ms: row.get(6)?,
        next_run_ms: row.get(7)?,
        last_run_ms: row.get(8)?,
        last_outcome: row.get(9)?,
    }))
}
