//! What a command gets while it runs ([`Context`]) and what it gives back ([`Answer`] or
//! [`CommandError`]); the dry-run flag every changing command takes.

use async_trait::async_trait;

use crate::{
    app::App, dingtalk::DingTalkError, i18n::Texts, ids::ChatId, incoming::Incoming,
    store::StoreError,
};

/// Everything a command may use while it runs.
pub struct Context<'a> {
    pub app: &'a App,
    pub msg: &'a Incoming,
    /// The group's chatid, when the spec asked for it and the group is bound.
    pub binding: Option<ChatId>,
    pub texts: &'static Texts,
    /// `--dry-run` (or `预览`) was given: say what would change, call nothing but reads.
    pub dry_run: bool,
    /// The command the audit trail files this run under, when it is not the one typed,
    /// whatever the outcome: a `/confirm` is recorded as the `/kick` it ran.
    pub audit_as: std::sync::OnceLock<AuditAs>,
}

impl Context<'_> {
    /// The group's chatid, for commands whose spec requires a binding.
    pub fn chat(&self) -> &ChatId {
        self.binding
            .as_ref()
            .expect("the registry requires a binding")
    }

    /// Files this run in the audit trail as `command` with `args`.
    pub fn audit_as(&self, command: &'static str, args: String) {
        let _ = self.audit_as.set(AuditAs { command, args });
    }
}

/// Words that ask a changing command for a preview instead of a change.
const DRY_RUN: [&str; 3] = ["--dry-run", "预览", "--preview"];

/// The words without the dry-run flag, and whether it was there.
pub fn split_dry_run(words: &[String]) -> (Vec<String>, bool) {
    let is_flag = |w: &String| DRY_RUN.contains(&crate::message::fold(w).to_lowercase().as_str());
    let dry_run = words.iter().any(is_flag);
    (
        words.iter().filter(|w| !is_flag(w)).cloned().collect(),
        dry_run,
    )
}

/// A parsed command, ready to run.
#[async_trait]
pub trait Command: Send {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError>;

    /// What is wrong with arguments the parser let through so that the run can answer
    /// with the group's current values (`/set` with a wrong setting); `None` when they are
    /// right. A schedule refuses such a command when it is created.
    fn deferred_usage(&self, _lang: crate::i18n::Lang) -> Option<String> {
        None
    }

    /// Whether the run reads the group's six settings and sends all six back
    /// (group/update). Such runs take turns within a group, or each would undo the other.
    fn rewrites_group(&self) -> bool {
        false
    }
}

/// How a command's run ended, for the reply's title, the metrics and the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerKind {
    /// It did its work (or found nothing to do).
    Done,
    /// It refused and changed nothing.
    Refused,
    /// A dry run: it says what would change and changed nothing.
    Previewed,
    /// It waits for `/confirm`; nothing changed yet.
    Pending,
}

/// What a command says back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub kind: AnswerKind,
    pub text: String,
    /// DingTalk's request id for the change, kept in the audit trail.
    pub request_id: Option<String>,
}

/// The canonical command and arguments an audit record names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditAs {
    pub command: &'static str,
    pub args: String,
}

impl Answer {
    fn of(kind: AnswerKind, text: impl Into<String>) -> Self {
        Self {
            kind,
            text: text.into(),
            request_id: None,
        }
    }

    pub fn done(text: impl Into<String>) -> Self {
        Self::of(AnswerKind::Done, text)
    }

    pub fn refused(text: impl Into<String>) -> Self {
        Self::of(AnswerKind::Refused, text)
    }

    pub fn previewed(text: impl Into<String>) -> Self {
        Self::of(AnswerKind::Previewed, text)
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
        Self::of(AnswerKind::Pending, text)
    }

    pub fn with_request_id(self, request_id: Option<String>) -> Self {
        Self { request_id, ..self }
    }
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
