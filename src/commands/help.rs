//! `/help [command]`: the command list, or one command's usage, generated from the registry.

use std::sync::LazyLock;

use super::{
    Access, Answer, Args, Binding, Command, CommandError, Context, REGISTRY, Scope, Spec,
    UsageError, lookup, optional_arg, refusals::unknown_command,
};
use crate::{
    i18n::{Lang, Texts, fill, md},
    message::fold,
};

pub static SPEC: Spec = Spec {
    name: "help",
    alias: "帮助",
    args: "[command]",
    summary: [
        "列出所有命令，或显示一个命令的用法",
        "List every command, or show one command's usage",
    ],
    access: Access::Anyone,
    scope: Scope::Anywhere,
    binding: Binding::Unused,
    audited: false,
    parse: |args| {
        let topic = topic(args)?;
        Ok(Command::new(topic, |ctx, topic| Box::pin(run(ctx, topic))))
    },
};

/// The command asked about, if any: its name or alias, without the `/`, folded.
fn topic(args: &Args<'_>) -> Result<Option<String>, UsageError> {
    Ok(optional_arg(args)?.map(|a| fold(a).trim_start_matches('/').to_lowercase()))
}

async fn run(ctx: &Context<'_>, topic: Option<String>) -> Result<Answer, CommandError> {
    let lang = ctx.config.lang;
    Ok(Answer::done(match topic.as_deref() {
        None => LISTS[lang as usize].clone(),
        Some(topic) => match lookup(topic) {
            Some(spec) => detail(spec, lang, ctx.texts),
            None => unknown_command(topic, ctx.texts),
        },
    }))
}

/// The list in each language, rendered once: it depends on constants only, and `/help`
/// is the most frequent command.
static LISTS: LazyLock<[String; 2]> =
    LazyLock::new(|| [Lang::Zh, Lang::En].map(|lang| list(lang, lang.texts())));

/// Every command with its alias, summary and marks.
pub fn list(lang: Lang, t: &Texts) -> String {
    let mut text = format!("{}\n\n", t.help_header);
    for spec in REGISTRY {
        let mut marks = Vec::new();
        if spec.access == Access::Admin {
            marks.push(t.help_admin_mark);
        }
        if spec.scope == Scope::GroupOnly {
            marks.push(t.help_group_mark);
        }
        let marks = if marks.is_empty() {
            String::new()
        } else {
            format!(" ({})", marks.join(", "))
        };
        text.push_str(&format!(
            "- `{}` `/{}`: {}{}\n",
            spec.usage(),
            spec.alias,
            lang.pick(&spec.summary),
            marks
        ));
    }
    text.push('\n');
    text.push_str(t.help_footer);
    text
}

fn detail(spec: &Spec, lang: Lang, t: &Texts) -> String {
    let mut lines = vec![
        format!("**{}**", spec.usage()),
        lang.pick(&spec.summary).to_owned(),
        fill(t.help_usage, &[md(&spec.usage())]),
        fill(t.help_alias, &[md(&format!("/{}", spec.alias))]),
        match spec.access {
            Access::Admin => t.help_who_admin,
            Access::Anyone => t.help_who_anyone,
        }
        .to_owned(),
    ];
    if spec.scope == Scope::GroupOnly {
        lines.push(t.help_where_group.to_owned());
    }
    lines.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_names_every_command_with_its_alias() {
        for lang in [Lang::Zh, Lang::En] {
            let text = list(lang, lang.texts());
            for spec in REGISTRY {
                assert!(
                    text.contains(&format!("`/{}", spec.name)),
                    "{}: {text}",
                    spec.name
                );
                assert!(
                    text.contains(&format!("`/{}`", spec.alias)),
                    "{}: {text}",
                    spec.alias
                );
            }
        }
    }

    #[test]
    fn the_rendered_lists_are_in_lang_order() {
        assert!(LISTS[Lang::Zh as usize].contains("可用命令"));
        assert!(LISTS[Lang::En as usize].contains("commands:"));
    }

    #[test]
    fn detail_shows_usage_and_who() {
        let t = Lang::En.texts();
        let text = detail(lookup("bind").unwrap(), Lang::En, t);
        assert!(
            text.contains("Usage: `/bind <chatid>`") && text.contains("Who: admins"),
            "{text}"
        );
        assert!(
            text.contains("/绑定") && text.contains("groups only"),
            "{text}"
        );
    }

    #[test]
    fn parse_accepts_a_topic_with_or_without_slash() {
        let parse_words = |w: &[&str]| {
            let words: Vec<String> = w.iter().map(|s| s.to_string()).collect();
            topic(&Args {
                words: &words,
                lang: Lang::En,
                mentions: &[],
            })
        };
        assert_eq!(parse_words(&[]), Ok(None));
        assert_eq!(parse_words(&["/Info"]), Ok(Some("info".into())));
        assert_eq!(parse_words(&["a", "b"]), Err(UsageError::Extra("b".into())));
    }
}
