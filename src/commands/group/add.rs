//! `/add <staffId>…`: adds people to the group, at most 40 per command (DingTalk's limit
//! per call; more is refused before any call). People already in the group are skipped.

use super::members::{member_list, not_members, people, targets};
use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    },
    group::{Edit, Patch},
    i18n::{fill, md, text},
    ids::{ChatId, StaffId},
};

/// DingTalk adds at most this many members per group/update.
pub const MAX_ADD: usize = 40;
/// A group holds at most this many members.
pub const MAX_MEMBERS: usize = 1000;

pub static SPEC: Spec = Spec {
    name: "add",
    alias: "拉人",
    args: "<staffId>…",
    summary: [
        "把人拉进本群（一次最多 40 人）",
        "Add people to the group (at most 40 at a time)",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: true,
    parse: |args| {
        let people = newcomers(args)?;
        Ok(Command::in_group(people, |ctx, chat, people| {
            Box::pin(run(ctx, chat, people))
        }))
    },
};

fn newcomers(args: &Args<'_>) -> Result<Vec<StaffId>, UsageError> {
    let people = targets(args, args.words).map_err(|e| match e {
        UsageError::Missing(_) => UsageError::Missing("<staffId>"),
        other => other,
    })?;
    if people.len() > MAX_ADD {
        return Err(UsageError::Invalid {
            arg: "<staffId>…",
            value: format!("{} …", people[0].as_str()),
            why: fill(
                args.lang.group_texts().too_many_members,
                &[text(&people.len().to_string())],
            ),
        });
    }
    Ok(people)
}

async fn run(
    ctx: &Context<'_>,
    chat: &ChatId,
    wanted: Vec<StaffId>,
) -> Result<Answer, CommandError> {
    let gt = ctx.config.lang.group_texts();
    ctx.change_group(chat, |info| {
        let Some(members) = member_list(info) else {
            return Edit::Keep(Answer::refused(gt.unknown_members));
        };
        let new: Vec<StaffId> = not_members(members, &wanted).into_iter().cloned().collect();
        let already: Vec<&StaffId> = wanted.iter().filter(|p| !new.contains(p)).collect();
        if new.is_empty() {
            let text = fill(gt.add_nothing, &[md(&people(already))]);
            return Edit::Keep(Answer::unchanged(ctx.dry_run, text));
        }
        if members.len() + new.len() > MAX_MEMBERS {
            let (now, more) = (members.len().to_string(), new.len().to_string());
            return Edit::Keep(Answer::refused(fill(
                gt.add_full,
                &[text(&now), text(&more)],
            )));
        }
        let template = if ctx.dry_run {
            gt.add_preview
        } else {
            gt.add_done
        };
        let mut text = fill(template, &[md(&people(&new))]);
        if !already.is_empty() {
            text.push(' ');
            text.push_str(&fill(gt.add_already, &[md(&people(already))]));
        }
        let answer = if ctx.dry_run {
            Answer::previewed(text)
        } else {
            Answer::done(text)
        };
        let patch = Patch {
            add: new,
            ..Patch::default()
        };
        Edit::Send(answer, patch)
    })
    .await
}
