//! How handling a message ended ([`Outcome`], [`Executed`]), and what follows from it.

use super::AuditAs;
use crate::{
    i18n::{Lang, Texts},
    reply::Reply,
};

/// How handling a message ended. It decides the reply's title, the metric label and the
/// audit trail's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
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
    pub(super) fn title(self, t: &Texts) -> &'static str {
        match self {
            Outcome::Done | Outcome::Empty | Outcome::Ignored => t.title_reply,
            Outcome::DryRun => t.title_preview,
            Outcome::Pending => t.title_pending,
            Outcome::Refused | Outcome::Usage | Outcome::Unknown => t.title_refused,
            Outcome::Failed | Outcome::Timeout => t.title_error,
        }
    }
}

/// A command's reply plus what metrics, logs and the audit trail need.
#[derive(Debug)]
pub struct Executed {
    pub reply: Reply,
    /// The command's name, or `none`/`unknown` when no command was recognised.
    pub command: &'static str,
    pub outcome: Outcome,
    /// For failures: DingTalk's errcode, `timeout` or `internal`.
    pub errcode: Option<String>,
    /// DingTalk's request id for the change or the failure.
    pub request_id: Option<String>,
    /// The command and arguments the audit trail names, when not the ones typed.
    pub audit_as: Option<AuditAs>,
}

/// Whether a reply titled `title` (in either language) says nothing was done, for whoever
/// only sees the reply, as the group does.
pub fn is_failure_title(title: &str) -> bool {
    [Lang::Zh, Lang::En].iter().any(|lang| {
        Outcome::ALL
            .iter()
            .any(|o| o.is_failure() && o.title(lang.texts()) == title)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_and_error_titles_read_as_failures_in_both_languages() {
        assert!(is_failure_title(Lang::Zh.texts().title_refused));
        assert!(is_failure_title(Lang::En.texts().title_error));
        assert!(!is_failure_title(Lang::Zh.texts().title_reply));
        assert!(!is_failure_title(Lang::En.texts().title_reply));
    }
}
