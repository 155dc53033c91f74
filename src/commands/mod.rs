//! The commands: one registry drives parsing, permissions, binding checks and help.
//!
//! Each command lives in its own file and exports a [`Spec`]: its name and alias, usage,
//! summary, who may run it, where, whether it needs the group's chatid, and a parser that
//! turns its arguments into a runnable [`Command`]. Adding a command is a new file and one
//! line in [`REGISTRY`]. [`dispatch`] applies the rules in order; commands only do their
//! own work and return an [`Answer`] ([`running`]); [`refusals`] words what did not run.
//! The group-administration commands live in `group/`.
//!
//! The registry stays a table of `Spec`s with boxed commands rather than one closed enum
//! (mini-redis's shape): with twenty-odd commands, an enum would need a variant, a parse
//! arm and a run arm per command in three places, while a `Spec` keeps a command's name,
//! alias, rules, help and parser together in its own file, and `/help`, "did you mean"
//! and the permission checks read the same table.

mod audit;
mod bind;
mod contact;
mod contact_changes;
mod contact_update;
mod contact_view;
pub mod dispatch;
mod friending;
mod group;
mod help;
mod info;
pub mod journal;
mod labels;
pub mod outcome;
pub mod permission;
pub mod refusals;
mod running;
mod schedule;
mod unbind;
mod whoami;

use crate::{i18n::Lang, incoming::Mention};

pub use running::{Answer, AnswerKind, AuditAs, Command, CommandError, Context, split_dry_run};
pub use schedule::rule::{Rule, format_local};

/// Every command, in the order `/help` lists them.
pub static REGISTRY: &[&Spec] = &[
    &help::SPEC,
    &whoami::SPEC,
    &info::SPEC,
    &friending::LOCK,
    &friending::UNLOCK,
    &group::mute::MUTE,
    &group::mute::UNMUTE,
    &group::rename::SPEC,
    &group::set::SPEC,
    &group::kick::SPEC,
    &group::add::SPEC,
    &group::owner::SPEC,
    &group::admins::SPEC,
    &group::nick::SPEC,
    &group::invite_link::SPEC,
    &group::confirm::SPEC,
    &schedule::SPEC,
    &bind::SPEC,
    &unbind::SPEC,
    &contact::SPEC,
    &contact_update::SPEC,
    &labels::SPEC,
    &audit::SPEC,
];

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

/// Whether a command uses the group's bound chatid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// Never looked up.
    Unused,
    /// Looked up and passed along if present.
    Optional,
    /// Without it the command is not run and the member is told how to bind.
    Required,
}

/// Turns a command's arguments into something runnable, or says what is wrong.
pub type Parser = fn(&Args<'_>) -> Result<Box<dyn Command>, UsageError>;

/// What a parser sees: the words after the command name, the reply language (for the
/// reasons in usage errors) and who was @mentioned (for arguments that take members).
pub struct Args<'a> {
    pub words: &'a [String],
    pub lang: Lang,
    pub mentions: &'a [Mention],
}

/// A command's definition.
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
    /// Turns the arguments into a runnable command.
    pub parse: Parser,
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

/// Finds a command by name or alias (names are matched case-insensitively by the caller,
/// which lower-cases them).
pub fn lookup(name: &str) -> Option<&'static Spec> {
    REGISTRY
        .iter()
        .copied()
        .find(|spec| spec.name == name || spec.alias == name)
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

/// Checks that there are no arguments.
pub fn no_args(args: &Args<'_>) -> Result<(), UsageError> {
    match args.words.first() {
        Some(extra) => Err(UsageError::Extra(extra.clone())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_and_aliases_are_unique_and_lowercase() {
        let mut seen = HashSet::new();
        for spec in REGISTRY {
            assert_eq!(spec.name, spec.name.to_lowercase());
            assert!(seen.insert(spec.name), "duplicate {}", spec.name);
            assert!(seen.insert(spec.alias), "duplicate {}", spec.alias);
            assert!(!spec.summary[0].is_empty() && !spec.summary[1].is_empty());
        }
    }

    #[test]
    fn exactly_the_changing_commands_are_audited() {
        let audited: Vec<&str> = REGISTRY
            .iter()
            .filter(|s| s.audited)
            .map(|s| s.name)
            .collect();
        assert_eq!(
            audited,
            [
                "lock-friending",
                "unlock-friending",
                "mute-all",
                "unmute-all",
                "rename",
                "set",
                "kick",
                "add",
                "transfer-owner",
                "admin",
                "nick",
                "confirm",
                "schedule",
                "bind",
                "unbind",
                "contact-update"
            ]
        );
    }

    #[test]
    fn lookup_finds_names_and_aliases() {
        assert_eq!(lookup("info").unwrap().name, "info");
        assert_eq!(lookup("群信息").unwrap().name, "info");
        assert_eq!(lookup("禁止加好友").unwrap().name, "lock-friending");
        assert!(lookup("nope").is_none());
    }

    #[test]
    fn changing_commands_are_admin_only_and_group_only() {
        for name in ["lock-friending", "unlock-friending", "bind", "unbind"] {
            let spec = lookup(name).unwrap();
            assert_eq!(
                (spec.access, spec.scope),
                (Access::Admin, Scope::GroupOnly),
                "{name}"
            );
        }
        for name in ["help", "whoami"] {
            assert_eq!(lookup(name).unwrap().scope, Scope::Anywhere);
        }
    }

    mod properties {
        use super::*;
        use crate::incoming::Mention;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn no_command_parser_panics_on_any_arguments(
                words in proptest::collection::vec(any::<String>(), 0..6),
                tricky in proptest::collection::vec("[a-z0-9=,@＠＝，、\"-]{0,12}", 0..6),
            ) {
                let mentions = [Mention { dingtalk_id: "$:x".into(), staff_id: None }];
                for words in [&words, &tricky] {
                    for spec in REGISTRY {
                        for lang in [Lang::Zh, Lang::En] {
                            let _ = (spec.parse)(&Args { words, lang, mentions: &mentions });
                        }
                    }
                }
            }
        }
    }
}
