//! The statements both backends run, written once in SQLite's `?N` placeholders; the
//! PostgreSQL store runs the same text with `$N`. Only what one database can do and the
//! other cannot stays in its backend (PostgreSQL's `FOR UPDATE` and the grouped msgId
//! claim; SQLite's msgId pages read at start-up).

use std::sync::OnceLock;

/// One statement.
pub struct Sql {
    text: &'static str,
    postgres: OnceLock<String>,
}

impl Sql {
    pub(super) const fn new(text: &'static str) -> Self {
        Self {
            text,
            postgres: OnceLock::new(),
        }
    }

    /// As SQLite takes it (`?1`, `?2`, …).
    pub fn sqlite(&self) -> &'static str {
        self.text
    }

    /// As PostgreSQL takes it (`$1`, `$2`, …); none of the statements has a `?` of its own.
    pub fn postgres(&self) -> &str {
        self.postgres.get_or_init(|| self.text.replace('?', "$"))
    }
}

pub static CHECK: Sql = Sql::new("SELECT 1");

pub static BINDING: Sql = Sql::new("SELECT chat_id FROM bindings WHERE conversation_id = ?1");
pub static BINDINGS: Sql =
    Sql::new("SELECT conversation_id, chat_id FROM bindings ORDER BY chat_id");
pub static BINDING_HOLDER: Sql =
    Sql::new("SELECT conversation_id FROM bindings WHERE chat_id = ?1");
pub static BIND: Sql = Sql::new(
    "INSERT INTO bindings (conversation_id, chat_id, bound_at_ms) VALUES (?1, ?2, ?3)
     ON CONFLICT (conversation_id) DO UPDATE SET chat_id = excluded.chat_id,
     bound_at_ms = excluded.bound_at_ms",
);
pub static UNBIND: Sql =
    Sql::new("DELETE FROM bindings WHERE conversation_id = ?1 RETURNING chat_id");

pub static FORGET_MESSAGES: Sql = Sql::new("DELETE FROM seen_messages WHERE keep_until_ms <= ?1");
pub static RELEASE_MESSAGE: Sql = Sql::new("DELETE FROM seen_messages WHERE msg_id = ?1");

pub static RECORD_AUDIT: Sql = Sql::new(
    "INSERT INTO audit (at_ms, msg_id, conversation_id, chat_id, sender_staff_id,
     sender_nick, command, args, outcome, errcode, request_id, duration_ms, source)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
);
pub static RECENT_AUDIT: Sql = Sql::new(
    "SELECT at_ms, msg_id, conversation_id, chat_id, sender_staff_id, sender_nick,
     command, args, outcome, errcode, request_id, duration_ms, source
     FROM audit WHERE conversation_id = ?1 ORDER BY id DESC LIMIT ?2",
);

pub static DROP_ENDED_CONFIRMATIONS: Sql =
    Sql::new("DELETE FROM confirmations WHERE expires_at_ms < ?1");
pub static SAVE_CONFIRMATION: Sql = Sql::new(
    "INSERT INTO confirmations (conversation_id, code, requester, chat_id, command, args,
     action, created_at_ms, expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
     ON CONFLICT (conversation_id, code) DO NOTHING",
);
/// Takes a confirmation in one statement: only its requester, only once, only in time.
pub static TAKE_CONFIRMATION: Sql = Sql::new(
    "UPDATE confirmations SET used_at_ms = ?4
     WHERE conversation_id = ?1 AND code = ?2 AND requester = ?3
       AND used_at_ms IS NULL AND expires_at_ms > ?4
     RETURNING chat_id, command, args, action, created_at_ms, expires_at_ms",
);
/// Why a confirmation was not taken.
pub static CONFIRMATION_STATE: Sql = Sql::new(
    "SELECT requester, expires_at_ms, used_at_ms FROM confirmations
     WHERE conversation_id = ?1 AND code = ?2",
);

/// The columns [`super::rows::schedule`] reads, in its order.
macro_rules! schedule_columns {
    () => {
        "SELECT id, conversation_id, creator, creator_nick, rule, command, created_at_ms,
         next_run_ms, last_run_ms, last_outcome, running_due_ms, running_until_ms
         FROM schedules"
    };
}

/// Saves a schedule only if its group has fewer than `?8`: the count and the insert are one
/// statement (on PostgreSQL, under the group's schedule lock as well).
pub static ADD_SCHEDULE: Sql = Sql::new(
    "INSERT INTO schedules (conversation_id, creator, creator_nick, rule, command,
     created_at_ms, next_run_ms) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7
     WHERE (SELECT count(*) FROM schedules WHERE conversation_id = ?1) < ?8 RETURNING id",
);
pub static GROUP_SCHEDULES: Sql = Sql::new(concat!(
    schedule_columns!(),
    " WHERE conversation_id = ?1 ORDER BY id"
));
pub static REMOVE_SCHEDULE: Sql =
    Sql::new("DELETE FROM schedules WHERE id = ?1 AND conversation_id = ?2");
pub static DUE_SCHEDULES: Sql = Sql::new(concat!(
    schedule_columns!(),
    " WHERE next_run_ms <= ?1 OR running_until_ms <= ?1 ORDER BY next_run_ms LIMIT ?2"
));
/// Claims one run: the row moves on only if it still names the run being claimed (and no
/// run of it is unfinished), so however many replicas try at once, one moves it; the run
/// is marked started, held until `?5`.
pub static CLAIM_SCHEDULE: Sql = Sql::new(
    "UPDATE schedules SET next_run_ms = ?1, last_run_ms = ?2, last_outcome = NULL,
     running_due_ms = ?4, running_until_ms = ?5
     WHERE id = ?3 AND next_run_ms = ?4 AND running_due_ms IS NULL",
);
/// Takes over run `?2` of schedule `?1` whose lease ran out by `?3`, until `?4`.
pub static RETAKE_SCHEDULE_RUN: Sql = Sql::new(
    "UPDATE schedules SET running_until_ms = ?4
     WHERE id = ?1 AND running_due_ms = ?2 AND running_until_ms <= ?3",
);
/// Holds run `?2` of schedule `?1` `?3` ms longer.
pub static RENEW_SCHEDULE_RUN: Sql = Sql::new(
    "UPDATE schedules SET running_until_ms = running_until_ms + ?3
     WHERE id = ?1 AND running_due_ms = ?2",
);
/// Records how run `?3` of schedule `?2` ended, once.
pub static FINISH_SCHEDULE: Sql = Sql::new(
    "UPDATE schedules SET last_outcome = ?1, running_due_ms = NULL, running_until_ms = NULL
     WHERE id = ?2 AND running_due_ms = ?3",
);

/// Takes or renews a group's lease (`?1` group, `?2` holder, `?3` now, `?4` until): a
/// row of another holder is taken over only once its lease has run out.
pub static LEASE_GROUP: Sql = Sql::new(
    "INSERT INTO group_leases (conversation_id, holder, until_ms) VALUES (?1, ?2, ?4)
     ON CONFLICT (conversation_id) DO UPDATE SET holder = excluded.holder,
     until_ms = excluded.until_ms
     WHERE group_leases.holder = excluded.holder OR group_leases.until_ms <= ?3",
);
pub static END_GROUP_LEASE: Sql =
    Sql::new("DELETE FROM group_leases WHERE conversation_id = ?1 AND holder = ?2");

pub static WELCOME: Sql =
    Sql::new("SELECT text, set_by, set_at_ms FROM welcomes WHERE conversation_id = ?1");
pub static SET_WELCOME: Sql = Sql::new(
    "INSERT INTO welcomes (conversation_id, text, set_by, set_at_ms) VALUES (?1, ?2, ?3, ?4)
     ON CONFLICT (conversation_id) DO UPDATE SET text = excluded.text, set_by = excluded.set_by,
     set_at_ms = excluded.set_at_ms",
);
pub static REMOVE_WELCOME: Sql = Sql::new("DELETE FROM welcomes WHERE conversation_id = ?1");
/// Takes the group's turn to be welcomed: only if no welcome went out since `?3`.
pub static CLAIM_WELCOME: Sql = Sql::new(
    "UPDATE welcomes SET last_sent_ms = ?2
     WHERE conversation_id = ?1 AND (last_sent_ms IS NULL OR last_sent_ms <= ?3)
     RETURNING text",
);
pub static LAST_WELCOME: Sql =
    Sql::new("SELECT last_sent_ms FROM welcomes WHERE conversation_id = ?1");

/// What a dissolved group leaves behind, but its audit trail: each takes the group's id.
pub static FORGET_GROUP: [&Sql; 4] = [
    &FORGET_BINDING,
    &FORGET_SCHEDULES,
    &FORGET_CONFIRMATIONS,
    &REMOVE_WELCOME,
];
static FORGET_BINDING: Sql = Sql::new("DELETE FROM bindings WHERE conversation_id = ?1");
static FORGET_SCHEDULES: Sql = Sql::new("DELETE FROM schedules WHERE conversation_id = ?1");
static FORGET_CONFIRMATIONS: Sql = Sql::new("DELETE FROM confirmations WHERE conversation_id = ?1");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgresql_gets_dollar_placeholders() {
        assert_eq!(
            TAKE_CONFIRMATION.postgres().matches("$4").count(),
            2,
            "{}",
            TAKE_CONFIRMATION.postgres()
        );
        assert!(!RECORD_AUDIT.postgres().contains('?'));
        assert!(RECORD_AUDIT.sqlite().contains("?13"));
    }
}
