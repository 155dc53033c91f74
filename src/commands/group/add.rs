//! `/add <staffId>…`: adds people to the group, at most 40 per command (DingTalk's limit
//! per call; more is refused before any call). People already in the group are skipped.

use async_trait::async_trait;

use super::{
    members::{member_list, not_members, people, targets},
    settings::fresh,
};
use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    },
    dingtalk::GroupUpdate,
    i18n::{fill, md, text},
    ids::StaffId,
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
    binding: Binding::Required,
    audited: true,
    parse,
};

struct Add {
    people: Vec<StaffId>,
}

fn parse(args: &Args<'_>) -> Result<Box<dyn Command>, UsageError> {
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
    Ok(Box::new(Add { people }))
}

#[async_trait]
impl Command for Add {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        let gt = ctx.app.config.lang.group_texts();
        let (info, options) = match fresh(ctx).await? {
            Ok(current) => current,
            Err(refusal) => return Ok(refusal),
        };
        let Some(members) = member_list(&info) else {
            return Ok(Answer::refused(gt.unknown_members));
        };
        let new: Vec<StaffId> = not_members(members, &self.people)
            .into_iter()
            .cloned()
            .collect();
        let already: Vec<&StaffId> = self.people.iter().filter(|p| !new.contains(p)).collect();
        if new.is_empty() {
            let text = fill(gt.add_nothing, &[md(&people(already))]);
            return Ok(Answer::unchanged(ctx.dry_run, text));
        }
        if members.len() + new.len() > MAX_MEMBERS {
            let (now, more) = (members.len().to_string(), new.len().to_string());
            return Ok(Answer::refused(fill(
                gt.add_full,
                &[text(&now), text(&more)],
            )));
        }
        let mut text = if ctx.dry_run {
            fill(gt.add_preview, &[md(&people(&new))])
        } else {
            fill(gt.add_done, &[md(&people(&new))])
        };
        if !already.is_empty() {
            text.push(' ');
            text.push_str(&fill(gt.add_already, &[md(&people(already))]));
        }
        if ctx.dry_run {
            return Ok(Answer::previewed(text));
        }
        let update = GroupUpdate::new(ctx.chat(), options).add_members(&new);
        let request_id = ctx.app.dingtalk.update_group(&update).await?;
        Ok(Answer::done(text).with_request_id(request_id))
    }

    fn rewrites_group(&self) -> bool {
        true
    }
}
