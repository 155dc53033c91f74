//! What a command is: its [`Spec`] (every rule about it, as data) and, once its arguments
//! parse, a [`Command`] (its run with those arguments); and the small helpers parsers
//! share ([`no_args`], [`one_arg`], [`optional_arg`], [`parse_with`]).

use std::{future::Future, pin::Pin};

use super::{Answer, CommandError, Context};
use crate::{
    i18n::{Lang, fill, md},
    ids::ChatId,
    incoming::Mention,
    message::{self, Unreadable},
};

/// Who may run a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Anyone,
    /// Listed in `QUNGUAN_ADMINS`, the group's owner, or a trusted org admin.
    Admin,
}

/// Where a command works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Anywhere,
    GroupOnly,
}

/// Whether a command uses the group's bound chatid. A run made with
/// [`Command::in_group`] needs it: without it, it is not run and the member is told how to
/// bind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Not looked up (unless the run needs it).
    Unused,
    /// Looked up and given to the command if there is one ([`Context::binding`]).
    Used,
}

/// A command's definition: every rule about it, next to its name.
pub struct Spec {
    /// English name, typed after `/`.
    pub name: &'static str,
    /// Chinese alias, typed after `/` too.
    pub alias: &'static str,
    /// Arguments as shown in usage, e.g. `<chatid>`; empty for none.
    pub args: &'static str,
    /// One line, `[zh, en]`.
    pub summary: [&'static str; 2],
    pub access: Access,
    pub scope: Scope,
    pub binding: Binding,
    /// Whether the command changes something (in DingTalk or in qunguan's bindings): every
    /// run is then written to the audit trail, and it takes `--dry-run`.
    pub audited: bool,
    /// Checks the arguments and makes the run; nothing else is looked at first.
    pub parse: fn(&Args<'_>) -> Result<Command, UsageError>,
}

impl Spec {
    /// `/name args`.
    pub fn usage(&self) -> String {
        if self.args.is_empty() {
            format!("/{}", self.name)
        } else {
            format!("/{} {}", self.name, self.args)
        }
    }
}

/// What a parser sees: the words after the command name, the reply language (for the
/// reasons in usage errors) and who was @mentioned (for arguments that take members).
pub struct Args<'a> {
    pub words: &'a [String],
    pub lang: Lang,
    pub mentions: &'a [Mention],
}

/// Wrong arguments; answered with the command's usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageError {
    /// A required argument, by its usage name.
    Missing(&'static str),
    Extra(String),
    Invalid {
        arg: &'static str,
        value: String,
        why: String,
    },
}

/// The future a run returns.
pub type Running<'a> = Pin<Box<dyn Future<Output = Result<Answer, CommandError>> + Send + 'a>>;

type Anywhere = Box<dyn for<'a> FnOnce(&'a Context<'a>) -> Running<'a> + Send>;
type InGroup = Box<dyn for<'a> FnOnce(&'a Context<'a>, &'a ChatId) -> Running<'a> + Send>;

enum Run {
    Anywhere(Anywhere),
    InGroup(InGroup),
}

/// A parsed command, ready to run: its run function with the arguments it parsed.
pub struct Command {
    run: Run,
    deferred_usage: Option<String>,
    audit_as: Option<super::AuditAs>,
}

impl Command {
    /// A run that needs no chatid (`run(ctx, args)`).
    pub fn new<A: Send + 'static>(
        args: A,
        run: for<'a> fn(&'a Context<'a>, A) -> Running<'a>,
    ) -> Self {
        Self::of(Run::Anywhere(Box::new(move |ctx| run(ctx, args))))
    }

    /// A run that needs the group's chatid (`run(ctx, chat, args)`).
    pub fn in_group<A: Send + 'static>(
        args: A,
        run: for<'a> fn(&'a Context<'a>, &'a ChatId, A) -> Running<'a>,
    ) -> Self {
        Self::of(Run::InGroup(Box::new(move |ctx, chat| {
            run(ctx, chat, args)
        })))
    }

    fn of(run: Run) -> Self {
        Self {
            run,
            deferred_usage: None,
            audit_as: None,
        }
    }

    /// Files every run of this command in the audit trail as `command` with `args`,
    /// whatever its outcome (a failure included), instead of the words typed.
    pub fn audited_as(mut self, command: &'static str, args: String) -> Self {
        self.audit_as = Some(super::AuditAs { command, args });
        self
    }

    /// Marks arguments the parser let through so that the run can answer with the group's
    /// current values (`/set` with a wrong setting): `why` they are wrong. A schedule
    /// refuses such a command when it is made.
    pub fn with_deferred_usage(mut self, why: String) -> Self {
        self.deferred_usage = Some(why);
        self
    }

    /// What is wrong with the arguments, if the parser let them through anyway.
    pub fn deferred_usage(&self) -> Option<&str> {
        self.deferred_usage.as_deref()
    }

    /// Whether the run needs the group's chatid.
    pub fn needs_chat(&self) -> bool {
        matches!(self.run, Run::InGroup(_))
    }

    /// What the audit trail files this run under, when not the words typed.
    pub fn take_audit_as(&mut self) -> Option<super::AuditAs> {
        self.audit_as.take()
    }

    /// Runs it; `chat` is the group's chatid, if it is bound.
    pub async fn run(
        self,
        ctx: &Context<'_>,
        chat: Option<&ChatId>,
    ) -> Result<Answer, CommandError> {
        match (self.run, chat) {
            (Run::Anywhere(run), _) => run(ctx).await,
            (Run::InGroup(run), Some(chat)) => run(ctx, chat).await,
            (Run::InGroup(_), None) => Err(CommandError::Internal(
                "a command that needs the chatid was run in an unbound group",
            )),
        }
    }
}

/// Checks that there are no arguments.
pub fn no_args(args: &Args<'_>) -> Result<(), UsageError> {
    match args.words.first() {
        Some(extra) => Err(UsageError::Extra(extra.clone())),
        None => Ok(()),
    }
}

/// At most one argument.
pub fn optional_arg<'a>(args: &Args<'a>) -> Result<Option<&'a String>, UsageError> {
    match args.words {
        [] => Ok(None),
        [one] => Ok(Some(one)),
        [_, extra, ..] => Err(UsageError::Extra(extra.clone())),
    }
}

/// Exactly one argument, named `name` in usage.
pub fn one_arg<'a>(args: &Args<'a>, name: &'static str) -> Result<&'a String, UsageError> {
    optional_arg(args)?.ok_or(UsageError::Missing(name))
}

/// The words as one text that becomes a name people read (a group name, a nickname, a
/// welcome), named `name` in usage (a quoted word keeps its spaces, several are joined by
/// one space): refused when empty, when it holds a control character (`control` says why),
/// when nothing of it can be seen or it holds a bidirectional override
/// ([`message::unreadable`]; `lang` says why), or when longer than `max`'s characters (its
/// text says why, `{0}` standing for the count).
pub fn free_text(
    words: &[String],
    name: &'static str,
    lang: Lang,
    control: &str,
    max: Option<(usize, &str)>,
) -> Result<String, UsageError> {
    let text = words.join(" ");
    if text.is_empty() {
        return Err(UsageError::Missing(name));
    }
    let invalid = |why: String| UsageError::Invalid {
        arg: name,
        value: text.clone(),
        why,
    };
    if text.chars().any(char::is_control) {
        return Err(invalid(control.to_owned()));
    }
    let t = lang.texts();
    match message::unreadable(&text) {
        Some(Unreadable::Invisible) => return Err(invalid(t.text_invisible.to_owned())),
        Some(Unreadable::Reversing) => return Err(invalid(t.text_reversing.to_owned())),
        None => {}
    }
    let chars = text.chars().count();
    if let Some((_, too_long)) = max.filter(|(max, _)| chars > *max) {
        return Err(invalid(fill(too_long, &[md(&chars.to_string())])));
    }
    Ok(text)
}

/// Exactly one argument, named `name` in usage, read by `parse`; what `parse` refuses is
/// invalid for the reason it gives.
pub fn parse_with<T>(
    args: &Args<'_>,
    name: &'static str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, UsageError> {
    let raw = one_arg(args, name)?;
    parse(raw).map_err(|why| UsageError::Invalid {
        arg: name,
        value: raw.clone(),
        why,
    })
}
