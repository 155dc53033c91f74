//! Persistence behind one small interface: group bindings (cid → chatid), seen msgIds,
//! the audit trail of changing commands, the commands waiting for `/confirm`, schedules
//! and their leased runs, and a lease per group's changes (across replicas and
//! processes). Commands talk to `dyn Store`, each call within a deadline ([`Bounded`]).
//! The default is embedded SQLite ([`SqliteStore`]); [`PostgresStore`] is shared by
//! replicas.
//!
//! The two backends are kept in step by construction: one list of migrations per backend
//! as files, checked against each other ([`migrations`]); the statements they share
//! written once ([`sql`]); every row read into a record by the same code ([`rows`]); and
//! one contract test run against both (`tests/api/store_contract.rs`).

mod bounded;
pub mod migrations;
mod postgres;
mod rows;
mod schedule;
mod sql;
mod sqlite;

use std::time::Duration;

use async_trait::async_trait;

pub use bounded::{Bounded, InTime, LateClaim};
pub use postgres::PostgresStore;
pub use schedule::{NewSchedule, RunTakeover, Running, Schedule, ScheduleClaim};
pub use sqlite::SqliteStore;

use crate::{
    config::{Config, Database},
    ids::{ChatId, MsgId, OpenConversationId, StaffId},
};

/// How long msgIds are remembered beyond the signature window: a captured (timestamp,
/// sign) pair is accepted until `timestamp + window`, and its genuine delivery arrived at
/// about `timestamp`; the margin covers clock skew and slow deliveries.
const REPLAY_MARGIN: Duration = Duration::from_secs(300);

/// What the replay defence remembers: each msgId for `retention`, and (where msgIds are
/// held in memory) at most `max` at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replay {
    pub retention: Duration,
    pub max: usize,
}

impl Replay {
    /// As the settings say: the signature window plus a margin, and
    /// `QUNGUAN_MAX_REMEMBERED_MSGIDS`.
    pub fn of(config: &Config) -> Self {
        Self {
            retention: config.signature_window + REPLAY_MARGIN,
            max: config.max_remembered_msg_ids,
        }
    }
}

impl Default for Replay {
    /// As the default settings give: an hour's window plus the margin, two million msgIds.
    fn default() -> Self {
        Self {
            retention: Duration::from_secs(3600) + REPLAY_MARGIN,
            max: 2_000_000,
        }
    }
}

/// Opens (and migrates) the database `QUNGUAN_DATABASE_URL` names.
pub async fn open(
    database: &Database,
    replay: Replay,
) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    Ok(match database {
        Database::Postgres(url) => std::sync::Arc::new(PostgresStore::open(url, replay).await?),
        sqlite => std::sync::Arc::new(SqliteStore::open(sqlite, replay)?),
    })
}

/// What claiming a msgId found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// First seen within the retention time: run it.
    New,
    /// Seen before: acknowledge, do not run.
    Seen,
    /// New, but no more msgIds can be remembered now: neither run nor remembered.
    Full,
}

/// The error a backend reports, kept with its cause chain.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// A failed store operation, whatever the backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated; `what` names it (a path, or a URL
    /// without its password).
    #[error("cannot open the database {what}: {source}")]
    Open {
        what: String,
        #[source]
        source: BackendError,
    },
    #[error("database error: {0}")]
    Backend(#[source] BackendError),
    #[error("database task stopped: {0}")]
    Task(String),
    /// A stored row an answer depends on does not read (an id that no longer parses);
    /// names the table, never the value.
    #[error("a stored row cannot be read: {0}")]
    Corrupt(String),
    /// The call did not finish within `QUNGUAN_STORE_TIMEOUT_SECS`.
    #[error("the database did not answer within {} s", .0.as_secs_f32())]
    Timeout(Duration),
    /// The database's schema is newer than this build knows.
    #[error(transparent)]
    TooNew(#[from] migrations::TooNew),
}

/// What `/bind` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindOutcome {
    /// The group had no binding; now it has.
    Bound,
    /// This exact pair was already bound.
    AlreadyBound,
    /// The group was bound to another chatid, which this binding replaced.
    Replaced { previous: ChatId },
    /// The chatid is bound to another group; nothing changed.
    ChatTaken { by: OpenConversationId },
}

/// The audit trail's `source` of a change made in the DingTalk client (a group event).
pub const DINGTALK_SOURCE: &str = "dingtalk";

/// One run of a changing command, kept so every change made through qunguan can be traced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub at_ms: i64,
    pub msg_id: MsgId,
    pub conversation: OpenConversationId,
    /// The group's binding when the command ran.
    pub chat: Option<ChatId>,
    pub sender_staff_id: Option<StaffId>,
    pub sender_nick: String,
    pub command: String,
    /// The arguments as typed (quoted where they contain spaces).
    pub args: String,
    /// done, refused or failed.
    pub outcome: String,
    /// For failures: DingTalk's errcode, or `timeout`/`internal`.
    pub errcode: Option<String>,
    /// DingTalk's request id for the change (or for the failure), when it gave one.
    pub request_id: Option<String>,
    pub duration_ms: i64,
    /// What ran it when no member typed it: `schedule #3`, `policy groups.toml`.
    pub source: Option<String>,
}

/// A command that waits for its requester's `/confirm <code>` in the same group. It lives
/// in the store, so the confirmation may reach any replica and survives a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    pub group: OpenConversationId,
    pub code: String,
    pub requester: StaffId,
    /// The group's chatid when it was requested.
    pub chat: ChatId,
    /// The canonical command name (`kick`, `transfer-owner`).
    pub command: String,
    /// The arguments as typed, for the audit trail.
    pub args: String,
    /// What to do, as the command wrote it (JSON).
    pub action: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
}

/// How long a confirmation is kept after it expired (used or not), so a reused code is
/// answered "already used" or "expired" rather than "unknown"; every backend drops older
/// ones when it saves a new one.
pub const KEEP_ENDED_CONFIRMATIONS_MS: i64 = 24 * 60 * 60 * 1000;

/// The message a group's newcomers are greeted with (`/welcome`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Welcome {
    /// As the admin typed it; `{name}` stands for the newcomers' names.
    pub text: String,
    pub set_by: StaffId,
    pub set_at_ms: i64,
}

/// Whether a group's welcome may go out now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WelcomeTurn {
    /// Yes, this text: the turn is taken (no other replica sends one within the window).
    Send(String),
    /// One went out within the window; the next may go at this time (epoch ms).
    WaitUntil(i64),
    /// The group has no welcome.
    Off,
}

/// What `/confirm <code>` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmTake {
    /// The command, now marked used: nobody can confirm it again.
    Taken(Confirmation),
    /// No such code in this group.
    Unknown,
    /// Already confirmed once.
    Used,
    /// Its time ran out.
    Expired,
    /// Somebody else asked for it; it stays pending for them.
    NotRequester,
}

/// Where qunguan keeps state across restarts.
#[async_trait]
pub trait Store: Send + Sync {
    /// The replay defence: claims `msg_id` at `now_ms` for the [`Replay`] retention the
    /// store was opened with, atomically among everyone using the store, so of any number
    /// of deliveries (on either transport, to any replica) exactly one gets [`Claim::New`].
    /// SQLite decides in memory (its one process is the only writer) and persists in
    /// batches; PostgreSQL claims in the database.
    async fn claim_message(&self, msg_id: &MsgId, now_ms: i64) -> Result<Claim, StoreError>;

    /// [`Store::claim_message`], for a transport, decided within `deadline`: a claim still
    /// under way then is handed back running ([`InTime::Late`]), so the message runs if it
    /// lands rather than being lost to a redelivery taken for a repeat. A store that
    /// decides at once (SQLite, in memory) has no deadline to miss.
    async fn claim_in_time(&self, msg_id: &MsgId, now_ms: i64, _deadline: Duration) -> InTime {
        InTime::Now(self.claim_message(msg_id, now_ms).await)
    }

    /// Gives up a claim [`Store::claim_message`] made, whose work could not be done, so a
    /// redelivery is new again.
    async fn release_message(&self, msg_id: &MsgId) -> Result<(), StoreError>;

    /// Drops msgIds whose retention has passed; returns how many were deleted.
    async fn forget_messages(&self, now_ms: i64) -> Result<u64, StoreError>;

    /// How many msgIds are held in memory now, where the store holds them there (for the
    /// metric); `None` where they live in the database only.
    fn messages_in_memory(&self) -> Option<usize> {
        None
    }

    /// Waits until every claim made so far is durable (at shutdown).
    async fn flush_messages(&self) {}

    /// The chatid bound to a group, if any.
    async fn binding(&self, group: &OpenConversationId) -> Result<Option<ChatId>, StoreError>;

    /// Binds a group to a chatid, atomically refusing a chatid bound to another group.
    async fn bind(
        &self,
        group: &OpenConversationId,
        chat: &ChatId,
        now_ms: i64,
    ) -> Result<BindOutcome, StoreError>;

    /// Removes a group's binding; returns the chatid it had.
    async fn unbind(&self, group: &OpenConversationId) -> Result<Option<ChatId>, StoreError>;

    /// Forgets a dissolved group: its binding, schedules, pending confirmations and
    /// welcome, in one transaction. Its audit trail stays.
    async fn forget_group(&self, group: &OpenConversationId) -> Result<(), StoreError>;

    /// The group's welcome, if it has one.
    async fn welcome(&self, group: &OpenConversationId) -> Result<Option<Welcome>, StoreError>;

    /// Sets (or replaces) the group's welcome.
    async fn set_welcome(
        &self,
        group: &OpenConversationId,
        welcome: &Welcome,
    ) -> Result<(), StoreError>;

    /// Removes the group's welcome; `false` if it had none.
    async fn remove_welcome(&self, group: &OpenConversationId) -> Result<bool, StoreError>;

    /// Takes the group's turn to send its welcome at `now_ms`, unless one went out within
    /// `window_ms` (here or on another replica).
    async fn claim_welcome(
        &self,
        group: &OpenConversationId,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<WelcomeTurn, StoreError>;

    /// Appends an audit record.
    async fn record_audit(&self, record: AuditRecord) -> Result<(), StoreError>;

    /// The newest `limit` audit records of a group, newest first.
    async fn recent_audit(
        &self,
        group: &OpenConversationId,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError>;

    /// Saves a pending command; `false` (and nothing saved) if its code is already in use
    /// in the group. Confirmations that ended long ago are dropped on the way.
    async fn save_confirmation(&self, pending: &Confirmation) -> Result<bool, StoreError>;

    /// Takes the pending command `code` of `group` for `requester` at `now_ms`: marks it
    /// used and returns it, atomically, so two confirmations cannot both run it.
    async fn take_confirmation(
        &self,
        group: &OpenConversationId,
        code: &str,
        requester: &StaffId,
        now_ms: i64,
    ) -> Result<ConfirmTake, StoreError>;

    /// Takes (or renews) `group`'s change lease for `holder` until `until_ms`, unless
    /// another holder's lease runs past `now_ms`; `true` if `holder` holds it now. One
    /// change at a time per group, across replicas and processes (`policy apply` beside
    /// `serve`); a holder that dies leaves a lease that runs out.
    async fn lease_group(
        &self,
        group: &OpenConversationId,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError>;

    /// Ends `holder`'s lease on `group` (a lease another holder took since is kept).
    async fn end_group_lease(
        &self,
        group: &OpenConversationId,
        holder: &str,
    ) -> Result<(), StoreError>;

    /// Every binding, in chatid order (`groups = "all"` in a policy file).
    async fn bindings(&self) -> Result<Vec<(OpenConversationId, ChatId)>, StoreError>;

    /// Saves a schedule and returns its id; `None` (nothing saved) when its group already
    /// has `at_most` schedules. However many replicas add at once, a group never has more.
    async fn add_schedule(
        &self,
        schedule: &NewSchedule,
        at_most: usize,
    ) -> Result<Option<i64>, StoreError>;

    /// A group's schedules, oldest first.
    async fn schedules(&self, group: &OpenConversationId) -> Result<Vec<Schedule>, StoreError>;

    /// Removes schedule `id` of `group` (a schedule of another group is not found).
    async fn remove_schedule(
        &self,
        group: &OpenConversationId,
        id: i64,
    ) -> Result<bool, StoreError>;

    /// At most `limit` schedules whose next run is at or before `now_ms`, or whose
    /// unfinished run's lease ran out by then, earliest first.
    async fn due_schedules(&self, now_ms: i64, limit: usize) -> Result<Vec<Schedule>, StoreError>;

    /// Claims one run: moves the schedule from `due_ms` to `next_ms` and marks the run
    /// started, held until `until_ms`, only if its next run is still `due_ms` and no run of
    /// it is unfinished. `true` if this call claimed it; exactly one caller does.
    async fn claim_schedule(&self, claim: &ScheduleClaim) -> Result<bool, StoreError>;

    /// Takes over an unfinished run whose lease ran out; `true` for exactly one caller.
    async fn retake_schedule_run(&self, takeover: &RunTakeover) -> Result<bool, StoreError>;

    /// Holds the unfinished run `due_ms` of schedule `id` `by_ms` longer.
    async fn renew_schedule_run(&self, id: i64, due_ms: i64, by_ms: i64) -> Result<(), StoreError>;

    /// Records how run `due_ms` of schedule `id` ended, and that it is finished; a run
    /// finished already (or taken over and finished by another) records nothing.
    async fn finish_schedule(&self, id: i64, due_ms: i64, outcome: &str) -> Result<(), StoreError>;

    /// Whether the store can be used now (for `/readyz`).
    async fn check(&self) -> Result<(), StoreError>;
}
