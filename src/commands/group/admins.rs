//! `/admin add|remove <@member|staffId>…`: group admins, through subAdministrators by
//! openConversationId, so it works in a group that is not bound too.

use async_trait::async_trait;

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
    binding: Binding::Optional,
    audited: true,
    parse,
};

struct Admins {
    add: bool,
    people: Vec<StaffId>,
}

fn parse(args: &Args<'_>) -> Result<Box<dyn Command>, UsageError> {
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
    Ok(Box::new(Admins {
        add,
        people: targets(args, rest)?,
    }))
}

#[async_trait]
impl Command for Admins {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        let gt = ctx.app.config.lang.group_texts();
        let action = if self.add { "add" } else { "remove" };
        ctx.audit_as(SPEC.name, format!("{action} {}", listed(&self.people)));
        let who = people(&self.people);
        let (preview, done) = if self.add {
            (gt.admin_add_preview, gt.admin_added)
        } else {
            (gt.admin_remove_preview, gt.admin_removed)
        };
        if ctx.dry_run {
            return Ok(Answer::previewed(fill(preview, &[md(&who)])));
        }
        let request_id = ctx
            .app
            .dingtalk
            .set_sub_admins(&ctx.msg.conversation, &self.people, self.add)
            .await?;
        Ok(Answer::done(fill(done, &[md(&who)])).with_request_id(request_id))
    }
}
