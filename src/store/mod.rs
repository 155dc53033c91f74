//! Persistence behind one small interface: group bindings (cid → chatid), seen msgIds,
//! the audit trail of changing commands, the commands waiting for `/confirm`, schedules
//! and their claims, and (for several replicas) a lock per group's changes. Commands talk
//! to `dyn Store`. The default is embedded SQLite ([`SqliteStore`]); [`PostgresStore`] is
//! shared by replicas.

mod group_lock;
mod postgres;
mod schedule;
mod sqlite;

use async_trait::async_trait;

pub use group_lock::{GroupLock, Held};
pub use postgres::PostgresStore;
pub use schedule::{NewSchedule, Schedule, ScheduleClaim};
pub use sqlite::SqliteStore;

use crate::ids::{ChatId, MsgId, OpenConversationId, StaffId};

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
    /// Whether other replicas use this store too. Then a msgId is claimed in the store
    /// ([`Store::claim_message`]) and nothing is cached.
    fn shared(&self) -> bool {
        false
    }

    /// Claims a msgId until `keep_until_ms`, atomically among replicas: `true` if this
    /// call claimed it, `false` if another had (and it has not expired). A store used by
    /// one process leaves claims to [`crate::dedupe`] and says `true`.
    async fn claim_message(
        &self,
        _msg_id: &MsgId,
        _keep_until_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(true)
    }

    /// Records msgIds as seen until their keep-until time (epoch ms). Deciding whether a
    /// msgId is new happens in memory ([`crate::dedupe`]); this makes it survive restarts.
    async fn remember_messages(&self, seen: &[(MsgId, i64)]) -> Result<(), StoreError>;

    /// One page of the msgIds still remembered at `now_ms`, with their keep-until times:
    /// at most `limit`, in msgId order, after `after`. Start-up reads them page by page, so
    /// no more than one page is in memory besides the dedupe set itself.
    async fn remembered_messages(
        &self,
        now_ms: i64,
        after: Option<MsgId>,
        limit: usize,
    ) -> Result<Vec<(MsgId, i64)>, StoreError>;

    /// Drops msgIds whose keep-until time has passed; returns how many.
    async fn forget_messages(&self, now_ms: i64) -> Result<u64, StoreError>;

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

    /// Appends an audit record.
    async fn record_audit(&self, record: &AuditRecord) -> Result<(), StoreError>;

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

    /// Holds other replicas' changes to `group` off until the lock is released (or
    /// dropped). A store one process uses alone holds nothing: the process's own locks
    /// suffice.
    async fn lock_group(&self, _group: &OpenConversationId) -> Result<GroupLock, StoreError> {
        Ok(GroupLock::none())
    }

    /// Every binding, in chatid order (`groups = "all"` in a policy file).
    async fn bindings(&self) -> Result<Vec<(OpenConversationId, ChatId)>, StoreError>;

    /// Saves a schedule and returns its id.
    async fn add_schedule(&self, schedule: &NewSchedule) -> Result<i64, StoreError>;

    /// A group's schedules, oldest first.
    async fn schedules(&self, group: &OpenConversationId) -> Result<Vec<Schedule>, StoreError>;

    /// Removes schedule `id` of `group` (a schedule of another group is not found).
    async fn remove_schedule(
        &self,
        group: &OpenConversationId,
        id: i64,
    ) -> Result<bool, StoreError>;

    /// At most `limit` schedules whose next run is at or before `now_ms`, earliest first.
    async fn due_schedules(&self, now_ms: i64, limit: usize) -> Result<Vec<Schedule>, StoreError>;

    /// Claims one run: moves the schedule from `due_ms` to `next_ms`, only if its next run
    /// is still `due_ms`. `true` if this call claimed it; exactly one caller does.
    async fn claim_schedule(&self, claim: &ScheduleClaim) -> Result<bool, StoreError>;

    /// Records how a claimed run ended.
    async fn finish_schedule(&self, id: i64, outcome: &str) -> Result<(), StoreError>;

    /// Whether the store can be used now (for `/readyz`).
    async fn check(&self) -> Result<(), StoreError>;
}
