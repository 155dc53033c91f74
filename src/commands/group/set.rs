//! `/set <setting> <value>`: one of the five other switches (searchable, validation,
//! history, mention-all, management). Without arguments, or with a wrong one, it shows
//! the usage with the group's current values. [`change`] is the change of one switch,
//! which `/mute-all` and `/unmute-all` make too.

use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    },
    group::{Edit, Patch, Setting, in_words},
    i18n::{GroupTexts, fill, md, text},
    ids::ChatId,
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
    binding: Binding::Used,
    audited: true,
    parse,
};

/// Why the arguments do not make a change.
enum Problem {
    NeedsBoth,
    UnknownSetting(String),
    BadValue(Setting, String),
    Extra(String),
}

/// A valid pair is a change; anything else (no arguments included) shows the usage with
/// the current values, and is marked wrong for a schedule.
fn parse(args: &Args<'_>) -> Result<Command, UsageError> {
    let problem = match args.words {
        [] => None,
        [_] => Some(Problem::NeedsBoth),
        [name, value, rest @ ..] => match Setting::find(name) {
            None => Some(Problem::UnknownSetting(name.clone())),
            Some(setting) => match (setting.parse_value(value), rest.first()) {
                (None, _) => Some(Problem::BadValue(setting, value.clone())),
                (Some(_), Some(extra)) => Some(Problem::Extra(extra.clone())),
                (Some(value), None) => {
                    return Ok(Command::in_group((setting, value), |ctx, chat, (s, v)| {
                        Box::pin(change(ctx, chat, s, v))
                    }));
                }
            },
        },
    };
    let gt = args.lang.group_texts();
    let why = problem.as_ref().unwrap_or(&Problem::NeedsBoth).text(gt);
    let command = Command::in_group(problem, |ctx, chat, problem| {
        Box::pin(usage(ctx, chat, problem))
    });
    Ok(command.with_deferred_usage(why))
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

/// Sets one switch to `value`, leaving the other five as they are; says what changed.
pub async fn change(
    ctx: &Context<'_>,
    chat: &ChatId,
    setting: Setting,
    value: i64,
) -> Result<Answer, CommandError> {
    let (t, gt) = (ctx.texts, ctx.config.lang.group_texts());
    ctx.change_group(chat, |info| {
        let label = md(setting.label(t));
        let before = in_words(setting.current(info), setting.words(), t);
        let after = in_words(Some(value), setting.words(), t);
        if setting.current(info) == Some(value) {
            let text = fill(gt.setting_unchanged, &[label, md(&after)]);
            return Edit::Keep(Answer::unchanged(ctx.dry_run, text));
        }
        let answer = if ctx.dry_run {
            Answer::previewed(fill(gt.setting_preview, &[label, md(&before), md(&after)]))
        } else {
            Answer::done(fill(gt.setting_changed, &[label, md(&before), md(&after)]))
        };
        Edit::Send(answer, Patch::switch(setting, value))
    })
    .await
}

/// The problem, the usage and every setting's current value (read from chat/get).
async fn usage(
    ctx: &Context<'_>,
    chat: &ChatId,
    problem: Option<Problem>,
) -> Result<Answer, CommandError> {
    let (t, gt) = (ctx.texts, ctx.config.lang.group_texts());
    let info = ctx.dingtalk.chat_info_fresh(chat).await?;
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
