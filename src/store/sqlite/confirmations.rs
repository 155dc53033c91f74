//! The confirmations table's SQL. Each statement runs in one transaction under the
//! store's connection lock, so a code is taken at most once.

use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    ids::{ChatId, OpenConversationId, StaffId},
    store::{ConfirmTake, Confirmation, KEEP_ENDED_CONFIRMATIONS_MS},
};

pub(super) fn save(conn: &mut Connection, c: &Confirmation) -> rusqlite::Result<bool> {
    let tx = conn.transaction()?;
    tx.prepare_cached("DELETE FROM confirmations WHERE expires_at_ms < ?1")?
        .execute([c.created_at_ms - KEEP_ENDED_CONFIRMATIONS_MS])?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO confirmations (conversation_id, code, requester, chat_id, command, args,
             action, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (conversation_id, code) DO NOTHING",
        )?
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

pub(super) fn take(
    conn: &mut Connection,
    group: &OpenConversationId,
    code: &str,
    requester: &StaffId,
    now_ms: i64,
) -> rusqlite::Result<ConfirmTake> {
    let tx = conn.transaction()?;
    let row = tx
        .prepare_cached(
            "SELECT requester, chat_id, command, args, action, created_at_ms, expires_at_ms,
             used_at_ms FROM confirmations WHERE conversation_id = ?1 AND code = ?2",
        )?
        .query_row(params![group.as_str(), code], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, Option<i64>>(7)?,
            ))
        })
        .optional()?;
    let Some((who, chat, command, args, action, created_at_ms, expires_at_ms, used)) = row else {
        return Ok(ConfirmTake::Unknown);
    };
    let answer = if used.is_some() {
        ConfirmTake::Used
    } else if expires_at_ms <= now_ms {
        ConfirmTake::Expired
    } else if who != requester.as_str() {
        ConfirmTake::NotRequester
    } else {
        let (Ok(requester), Ok(chat)) = (StaffId::parse(&who), ChatId::parse(&chat)) else {
            return Ok(ConfirmTake::Unknown);
        };
        tx.prepare_cached(
            "UPDATE confirmations SET used_at_ms = ?3 WHERE conversation_id = ?1 AND code = ?2",
        )?
        .execute(params![group.as_str(), code, now_ms])?;
        ConfirmTake::Taken(Confirmation {
            group: group.clone(),
            code: code.to_owned(),
            requester,
            chat,
            command,
            args,
            action,
            created_at_ms,
            expires_at_ms,
        })
    };
    tx.commit()?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use crate::{
        config::Database,
        ids::{ChatId, OpenConversationId, StaffId},
        store::{ConfirmTake, Confirmation, SqliteStore, Store},
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
        let store = SqliteStore::open(&Database::SqliteMemory).unwrap();
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
