//! `/set <setting> <value>`: one of the five other switches (searchable, validation,
//! history, mention-all, management). Without arguments, or with a wrong one, it shows
//! the usage with the group's current values.

use async_trait::async_trait;

use super::settings::{change, fresh};
use crate::group::{Setting, in_words};
use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    },
    i18n::{GroupTexts, Lang, fill, md, text},
};

pub static SPEC: Spec = Spec {
    name: "set",
    alias: "设置",
    args: "<setting> <value>",
    summary: [
        "修改群设置：searchable、validation、history（on/off，开/关），mention-all、management（everyone/owner，所有人/群主）",
        "Change a group setting: searchable, validation, history (on/off), mention-all, management (everyone/owner)",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Required,
    audited: true,
    parse,
};

/// What `/set` was asked; anything but a valid pair is shown with the current values.
enum Set {
    Change(Setting, i64),
    /// Why the arguments do not make a change (`None`: there were none).
    Usage(Option<Problem>),
}

enum Problem {
    NeedsBoth,
    UnknownSetting(String),
    BadValue(Setting, String),
    Extra(String),
}

fn parse(args: &Args<'_>) -> Result<Box<dyn Command>, UsageError> {
    let set = match args.words {
        [] => Set::Usage(None),
        [_] => Set::Usage(Some(Problem::NeedsBoth)),
        [name, value, rest @ ..] => match Setting::find(name) {
            None => Set::Usage(Some(Problem::UnknownSetting(name.clone()))),
            Some(setting) => match (setting.parse_value(value), rest.first()) {
                (None, _) => Set::Usage(Some(Problem::BadValue(setting, value.clone()))),
                (Some(_), Some(extra)) => Set::Usage(Some(Problem::Extra(extra.clone()))),
                (Some(v), None) => Set::Change(setting, v),
            },
        },
    };
    Ok(Box::new(set))
}

impl Problem {
    fn text(&self, gt: &GroupTexts) -> String {
        match self {
            Problem::NeedsBoth => gt.set_needs_both.to_owned(),
            Problem::UnknownSetting(name) => fill(gt.set_unknown_setting, &[text(name)]),
            Problem::BadValue(setting, value) => {
                fill(gt.set_bad_value, &[md(setting.names()[0]), text(value)])
            }
            Problem::Extra(extra) => fill(gt.set_extra, &[text(extra)]),
        }
    }
}

#[async_trait]
impl Command for Set {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        match *self {
            Set::Change(setting, value) => change(ctx, setting, value).await,
            Set::Usage(problem) => usage(ctx, problem).await,
        }
    }

    fn rewrites_group(&self) -> bool {
        matches!(self, Set::Change(..))
    }

    fn deferred_usage(&self, lang: Lang) -> Option<String> {
        match self {
            Set::Change(..) => None,
            Set::Usage(problem) => Some(
                problem
                    .as_ref()
                    .unwrap_or(&Problem::NeedsBoth)
                    .text(lang.group_texts()),
            ),
        }
    }
}

/// The problem, the usage and every setting's current value (read from chat/get).
async fn usage(ctx: &Context<'_>, problem: Option<Problem>) -> Result<Answer, CommandError> {
    let (t, gt) = (ctx.texts, ctx.app.config.lang.group_texts());
    let info = match fresh(ctx).await? {
        Ok((info, _)) => info,
        Err(refusal) => return Ok(refusal),
    };
    let mut out = match &problem {
        None => String::new(),
        Some(problem) => format!("{}\n\n", problem.text(gt)),
    };
    out.push_str(&fill(t.help_usage, &[md(&SPEC.usage())]));
    out.push_str("\n\n");
    out.push_str(gt.set_current);
    for setting in Setting::SETTABLE {
        let now = in_words(setting.current(&info), setting.words(), t);
        let row = fill(
            gt.set_row,
            &[
                md(setting.names()[0]),
                md(setting.label(t)),
                md(&now),
                md(setting.values()),
            ],
        );
        out.push('\n');
        out.push_str(&row);
    }
    Ok(match problem {
        None => Answer::done(out),
        Some(_) => Answer::refused(out),
    })
}
