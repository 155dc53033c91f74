//! Scheduled commands as the store keeps them. A due run is claimed by moving the
//! schedule's next run forward only if it still names the run being claimed, so however
//! many replicas see it due, one claims it.

use crate::ids::{OpenConversationId, StaffId};

/// A schedule to save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSchedule {
    pub group: OpenConversationId,
    /// Who created it; it runs as them.
    pub creator: StaffId,
    pub creator_nick: String,
    /// When it runs, as the command names it (`daily 22:00`).
    pub rule: String,
    /// The command line it runs (`/mute-all`).
    pub command: String,
    pub created_at_ms: i64,
    pub next_run_ms: i64,
}

/// A saved schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub id: i64,
    pub group: OpenConversationId,
    pub creator: StaffId,
    pub creator_nick: String,
    pub rule: String,
    pub command: String,
    pub created_at_ms: i64,
    /// `None` once a one-off schedule has run (or was skipped).
    pub next_run_ms: Option<i64>,
    pub last_run_ms: Option<i64>,
    /// How the last run ended: `done`, `refused`, `failed`, `skipped`.
    pub last_outcome: Option<String>,
    /// A claimed run that has not finished.
    pub running: Option<Running>,
}

/// A claimed run not finished yet: which, and until when its claimant holds it. A lease
/// that runs out unfinished (its replica died) lets another take the run over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    pub due_ms: i64,
    pub until_ms: i64,
}

/// A claimed run: the schedule as it was due, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleClaim {
    pub id: i64,
    /// The run claimed.
    pub due_ms: i64,
    /// The run after it (`None`: there is none).
    pub next_ms: Option<i64>,
    /// When it was claimed.
    pub now_ms: i64,
    /// Until when the claimant holds the run (renewed while it runs).
    pub until_ms: i64,
}

/// A run whose lease ran out, to be taken over: run `due_ms` of schedule `id`, held from
/// `now_ms` until `until_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunTakeover {
    pub id: i64,
    pub due_ms: i64,
    pub now_ms: i64,
    pub until_ms: i64,
}
