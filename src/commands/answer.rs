//! What handling a message gives back, whoever decided it (the dispatcher's rules or the
//! command itself): one [`Answer`], whose [`Outcome`] decides the reply's title, the
//! metric label and the audit trail's outcome, and which carries how the run is audited.

use crate::{
    dingtalk::DingTalkError,
    i18n::{Texts, fill, md, text},
    reply::Reply,
    store::StoreError,
};

/// How handling a message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did its work (or found nothing to do).
    Done,
    /// A dry run: what would change was said, nothing changed.
    DryRun,
    /// Waiting for `/confirm`: nothing changed yet.
    Pending,
    /// Not allowed here, by this sender, or in an unbound group; or refused by the command.
    Refused,
    /// Wrong arguments.
    Usage,
    /// No such command.
    Unknown,
    /// A mention without text.
    Empty,
    /// A message without text in a 1:1 chat.
    Ignored,
    Failed,
    Timeout,
}

impl Outcome {
    pub const ALL: [Outcome; 10] = [
        Outcome::Done,
        Outcome::DryRun,
        Outcome::Pending,
        Outcome::Refused,
        Outcome::Usage,
        Outcome::Unknown,
        Outcome::Empty,
        Outcome::Ignored,
        Outcome::Failed,
        Outcome::Timeout,
    ];

    /// The metric and log label.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::DryRun => "dry_run",
            Outcome::Pending => "pending",
            Outcome::Refused => "refused",
            Outcome::Usage => "usage",
            Outcome::Unknown => "unknown",
            Outcome::Empty => "empty",
            Outcome::Ignored => "ignored",
            Outcome::Failed => "failed",
            Outcome::Timeout => "timeout",
        }
    }

    /// The audit trail knows five outcomes: done, dry-run, pending (waiting for
    /// `/confirm`), refused (a usage error too) and failed (a timeout too).
    pub fn audited(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::DryRun => "dry-run",
            Outcome::Pending => "pending",
            Outcome::Failed | Outcome::Timeout => "failed",
            _ => "refused",
        }
    }

    /// Whether nothing was done: a refusal or a failure.
    pub fn is_failure(self) -> bool {
        !matches!(
            self,
            Outcome::Done | Outcome::DryRun | Outcome::Pending | Outcome::Empty | Outcome::Ignored
        )
    }

    /// The reply's title, which DingTalk shows in the conversation list.
    pub fn title(self, t: &Texts) -> &'static str {
        match self {
            Outcome::Done | Outcome::Empty | Outcome::Ignored => t.title_reply,
            Outcome::DryRun => t.title_preview,
            Outcome::Pending => t.title_pending,
            Outcome::Refused | Outcome::Usage | Outcome::Unknown => t.title_refused,
            Outcome::Failed | Outcome::Timeout => t.title_error,
        }
    }
}

/// The canonical command and arguments an audit record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAs {
    pub command: &'static str,
    pub args: String,
}

/// What a message gets back: the text, how it ended, and what the audit trail keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub outcome: Outcome,
    pub text: String,
    /// DingTalk's request id for the change (or the failure).
    pub request_id: Option<String>,
    /// For failures: DingTalk's errcode, `timeout` or `internal`.
    pub errcode: Option<String>,
    /// The command and arguments the audit trail files this run under, when not the ones
    /// typed: a `/confirm` is recorded as the `/kick` it ran.
    pub audit_as: Option<AuditAs>,
}

impl Answer {
    pub fn of(outcome: Outcome, text: impl Into<String>) -> Self {
        Self {
            outcome,
            text: text.into(),
            request_id: None,
            errcode: None,
            audit_as: None,
        }
    }

    pub fn done(text: impl Into<String>) -> Self {
        Self::of(Outcome::Done, text)
    }

    pub fn refused(text: impl Into<String>) -> Self {
        Self::of(Outcome::Refused, text)
    }

    pub fn previewed(text: impl Into<String>) -> Self {
        Self::of(Outcome::DryRun, text)
    }

    /// Nothing to change (the group already is as asked): done, or a dry run's answer.
    pub fn unchanged(dry_run: bool, text: impl Into<String>) -> Self {
        if dry_run {
            Self::previewed(text)
        } else {
            Self::done(text)
        }
    }

    pub fn pending(text: impl Into<String>) -> Self {
        Self::of(Outcome::Pending, text)
    }

    /// A run of `command` that could not finish, logged once with its cause: a short,
    /// actionable text (no upstream body), with DingTalk's errcode and request id for the
    /// audit trail.
    pub fn failed(command: &str, e: &CommandError, t: &Texts) -> Self {
        tracing::error!(command, error = %e, "command failed");
        let (errcode, request_id) = match e {
            CommandError::DingTalk(e) => (e.code.clone(), e.request_id.clone()),
            CommandError::Store(_) | CommandError::Internal(_) => ("internal".to_owned(), None),
        };
        Self {
            errcode: Some(errcode),
            request_id,
            ..Self::of(Outcome::Failed, super::refusals::error_text(e, t))
        }
    }

    /// A run that did not finish within the command deadline.
    pub fn timed_out(t: &Texts) -> Self {
        Self {
            errcode: Some("timeout".to_owned()),
            ..Self::of(Outcome::Timeout, t.err_unavailable)
        }
    }

    pub fn with_request_id(self, request_id: Option<String>) -> Self {
        Self { request_id, ..self }
    }

    /// Files this run in the audit trail as `audit_as`.
    pub fn audited_as(self, audit_as: AuditAs) -> Self {
        Self {
            audit_as: Some(audit_as),
            ..self
        }
    }

    /// The reply to send: titled by the outcome, cut to what a reply may hold.
    pub fn into_reply(self, t: &Texts) -> Reply {
        Reply::new(self.outcome.title(t), self.text).bounded(t.reply_cut)
    }
}

/// The not-bound refusal: `usage` needs the chatid of the group `cid`.
pub fn not_bound(t: &Texts, usage: &str, cid: &str) -> Answer {
    Answer::refused(fill(t.not_bound, &[md(usage), text(cid)]))
}

/// Why a command could not finish; becomes a short reply and an error log.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    DingTalk(#[from] DingTalkError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something qunguan itself got wrong; answered as an internal error.
    #[error("{0}")]
    Internal(&'static str),
}

impl From<crate::group::ChangeError> for CommandError {
    fn from(e: crate::group::ChangeError) -> Self {
        match e {
            crate::group::ChangeError::DingTalk(e) => CommandError::DingTalk(e),
            crate::group::ChangeError::Store(e) => CommandError::Store(e),
        }
    }
}
