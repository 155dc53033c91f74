//! The schedules table's SQL, and the list of bindings.

use tokio_postgres::{Client, Row};

use crate::{
    ids::{ChatId, OpenConversationId, StaffId},
    store::{NewSchedule, Schedule, ScheduleClaim, StoreError},
};

const COLUMNS: &str = "id, conversation_id, creator, creator_nick, rule, command, created_at_ms,
     next_run_ms, last_run_ms, last_outcome";

pub async fn bindings(client: &Client) -> Result<Vec<(OpenConversationId, ChatId)>, StoreError> {
    let rows = client
        .query(
            "SELECT conversation_id, chat_id FROM bindings ORDER BY chat_id",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((
                OpenConversationId::parse(r.get(0)).ok()?,
                ChatId::parse(r.get(1)).ok()?,
            ))
        })
        .collect())
}

pub async fn add(client: &Client, s: &NewSchedule) -> Result<i64, StoreError> {
    let row = client
        .query_one(
            "INSERT INTO schedules (conversation_id, creator, creator_nick, rule, command,
             created_at_ms, next_run_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            &[
                &s.group.as_str(),
                &s.creator.as_str(),
                &s.creator_nick,
                &s.rule,
                &s.command,
                &s.created_at_ms,
                &s.next_run_ms,
            ],
        )
        .await?;
    Ok(row.get(0))
}

pub async fn of_group(
    client: &Client,
    group: &OpenConversationId,
) -> Result<Vec<Schedule>, StoreError> {
    let rows = client
        .query(
            &format!("SELECT {COLUMNS} FROM schedules WHERE conversation_id = $1 ORDER BY id"),
            &[&group.as_str()],
        )
        .await?;
    Ok(rows.iter().filter_map(schedule).collect())
}

pub async fn remove(
    client: &Client,
    group: &OpenConversationId,
    id: i64,
) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "DELETE FROM schedules WHERE id = $1 AND conversation_id = $2",
            &[&id, &group.as_str()],
        )
        .await?;
    Ok(n == 1)
}

pub async fn due(client: &Client, now_ms: i64, limit: usize) -> Result<Vec<Schedule>, StoreError> {
    let rows = client
        .query(
            &format!(
                "SELECT {COLUMNS} FROM schedules WHERE next_run_ms <= $1
                 ORDER BY next_run_ms LIMIT $2"
            ),
            &[&now_ms, &(limit as i64)],
        )
        .await?;
    Ok(rows.iter().filter_map(schedule).collect())
}

/// One UPDATE of one row: PostgreSQL locks the row, so of two replicas claiming the same
/// run the second re-reads it, finds the next run moved on, and updates nothing.
pub async fn claim(client: &Client, c: &ScheduleClaim) -> Result<bool, StoreError> {
    let n = client
        .execute(
            "UPDATE schedules SET next_run_ms = $1, last_run_ms = $2, last_outcome = NULL
             WHERE id = $3 AND next_run_ms = $4",
            &[&c.next_ms, &c.now_ms, &c.id, &c.due_ms],
        )
        .await?;
    Ok(n == 1)
}

pub async fn finish(client: &Client, id: i64, outcome: &str) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE schedules SET last_outcome = $1 WHERE id = $2",
            &[&outcome, &id],
        )
        .await?;
    Ok(())
}

fn schedule(r: &Row) -> Option<Schedule> {
    Some(Schedule {
        id: r.get(0),
        group: OpenConversationId::parse(r.get(1)).ok()?,
        creator: StaffId::parse(r.get(2)).ok()?,
        creator_nick: r.get(3),
        rule: r.get(4),
        command: r.get(5),
        created_at_ms: r.get(6),
        next_run_ms: r.get(7),
        last_run_ms: r.get(8),
        last_outcome: r.get(9),
    })
}
