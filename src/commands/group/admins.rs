//! `/admin add|remove <@member|staffId>…`: group admins, through subAdministrators by
//! openConversationId, so it works in a group that is not bound too.

use super::members::{listed, people, targets};
use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    },
    i18n::{fill, md},
    ids::StaffId,
    message::fold,
};

pub static SPEC: Spec = Spec {
    name: "admin",
    alias: "群管理员",
    args: "add|remove <@member|staffId>…",
    summary: [
        "设置或取消群管理员",
        "Make members group admins, or stop them being admins",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: true,
    parse,
};

fn parse(args: &Args<'_>) -> Result<Command, UsageError> {
    let (action, rest) = args
        .words
        .split_first()
        .ok_or(UsageError::Missing("add|remove"))?;
    let add = match fold(action).to_lowercase().as_str() {
        "add" | "添加" | "设置" => true,
        "remove" | "移除" | "取消" => false,
        _ => {
            return Err(UsageError::Invalid {
                arg: "add|remove",
                value: action.clone(),
                why: args.lang.group_texts().admin_action.to_owned(),
            });
        }
    };
    let people = targets(args, rest)?;
    let verb = if add { "add" } else { "remove" };
    let audited = format!("{verb} {}", listed(&people));
    let command = Command::new((add, people), |ctx, (add, people)| {
        Box::pin(run(ctx, add, people))
    });
    Ok(command.audited_as(SPEC.name, audited))
}

async fn run(ctx: &Context<'_>, add: bool, members: Vec<StaffId>) -> Result<Answer, CommandError> {
    let gt = ctx.config.lang.group_texts();
    let who = people(&members);
    let (preview, done) = if add {
        (gt.admin_add_preview, gt.admin_added)
    } else {
        (gt.admin_remove_preview, gt.admin_removed)
    };
    if ctx.dry_run {
        return Ok(Answer::previewed(fill(preview, &[md(&who)])));
    }
    let request_id = ctx
        .dingtalk
        .set_sub_admins(&ctx.msg.conversation, &members, add)
        .await?;
    Ok(Answer::done(fill(done, &[md(&who)])).with_request_id(request_id))
}
