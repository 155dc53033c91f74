//! The commands: one registry drives parsing, permissions, binding checks and help.
//!
//! A command is one file: its [`Spec`] (name, alias, usage, summary, who may run it, where,
//! whether it needs the group's chatid, whether it changes something, and its parser) and
//! its `run`, an async function of a [`Context`] and what the parser made of the
//! arguments. Adding a command is that file and one line in [`REGISTRY`]; its texts can
//! live in the same file (the `catalog!` of [`crate::i18n`]). [`dispatch`] applies the
//! rules in order, so a command only does its own work and returns an [`Answer`].
//! Administering the group itself lives in `group/`, through [`crate::group`]'s one write
//! path.
//!
//! The registry is a table of `Spec`s rather than one closed enum (mini-redis's shape):
//! with twenty-odd commands an enum would need a variant, a parse arm and a run arm per
//! command in three places, while a `Spec` keeps each command's rules, help and parser
//! together in its own file, and `/help`, "did you mean" and the checks read the same
//! table.

mod answer;
mod audit;
mod bind;
mod contact;
mod contact_changes;
mod contact_update;
mod contact_view;
mod context;
pub mod dispatch;
mod friending;
mod group;
mod help;
mod info;
pub mod journal;
mod labels;
pub mod permission;
pub mod refusals;
mod schedule;
mod spec;
mod unbind;
mod welcome;
mod whoami;

pub use answer::{Answer, AuditAs, CommandError, Outcome};
pub use context::Context;
pub use schedule::rule::{Rule, format_local};
pub use spec::{
    Access, Args, Binding, Command, Running, Scope, Spec, UsageError, free_text, no_args, one_arg,
    optional_arg, parse_with,
};

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
    &welcome::SPEC,
    &schedule::SPEC,
    &bind::SPEC,
    &unbind::SPEC,
    &contact::SPEC,
    &contact_update::SPEC,
    &labels::SPEC,
    &audit::SPEC,
];

/// Finds a command by name or alias (names are matched case-insensitively by the caller,
/// which lower-cases them).
pub fn lookup(name: &str) -> Option<&'static Spec> {
    REGISTRY
        .iter()
        .copied()
        .find(|spec| spec.name == name || spec.alias == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
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
                "welcome",
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

    /// A line of arguments each command accepts.
    fn example(name: &str) -> &'static [&'static str] {
        match name {
            "rename" => &["新名字"],
            "set" => &["history", "on"],
            "kick" | "add" | "transfer-owner" => &["u1"],
            "admin" => &["add", "u1"],
            "nick" => &["u1", "小王"],
            "confirm" => &["123456"],
            "schedule" => &["daily", "22:00", "/mute-all"],
            "bind" => &["chat1"],
            "contact" => &["u1"],
            "contact-update" => &["u1", "title=x"],
            "audit" => &["5"],
            _ => &[],
        }
    }

    #[test]
    fn every_commands_example_parses() {
        for spec in REGISTRY {
            let words: Vec<String> = example(spec.name).iter().map(|w| w.to_string()).collect();
            let args = Args {
                words: &words,
                lang: Lang::En,
                mentions: &[],
            };
            if let Err(e) = (spec.parse)(&args) {
                panic!("{}: the example does not parse: {e:?}", spec.name);
            }
        }
    }

    #[test]
    fn the_commands_that_act_as_their_admin_are_for_admins_only() {
        // Their runs read `Context::admin`, which dispatch fills for admins' commands.
        for name in ["kick", "transfer-owner", "confirm", "welcome", "schedule"] {
            assert_eq!(lookup(name).unwrap().access, Access::Admin, "{name}");
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
