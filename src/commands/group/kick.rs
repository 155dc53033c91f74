//! `/kick <@member|staffId>…`: removes members after the requester's `/confirm`. The
//! owner is refused outright, and so is anyone chat/get does not list as a member.

use async_trait::async_trait;

use super::{
    members::{TARGET, listed, people, targets},
    pending::{Action, kick_refusal, request},
};
use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    },
    i18n::{fill, md, text},
    ids::StaffId,
};

pub static SPEC: Spec = Spec {
    name: "kick",
    alias: "移出群",
    args: TARGET_ARGS,
    summary: [
        "把成员移出本群（需要 /confirm 确认）",
        "Remove members from the group (after a /confirm)",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Required,
    audited: true,
    parse,
};

const TARGET_ARGS: &str = "<@member|staffId>…";
const _: () = assert!(TARGET.len() + "…".len() == TARGET_ARGS.len());

struct Kick {
    targets: Vec<StaffId>,
}

fn parse(args: &Args<'_>) -> Result<Box<dyn Command>, UsageError> {
    Ok(Box::new(Kick {
        targets: targets(args, args.words)?,
    }))
}

#[async_trait]
impl Command for Kick {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        let gt = ctx.app.config.lang.group_texts();
        ctx.audit_as(SPEC.name, listed(&self.targets));
        let info = ctx.app.dingtalk.chat_info_fresh(ctx.chat()).await?;
        if let Some(refusal) = kick_refusal(&info, &self.targets, gt) {
            return Ok(Answer::refused(refusal));
        }
        let who = people(&self.targets);
        if ctx.dry_run {
            return Ok(Answer::previewed(fill(gt.kick_preview, &[md(&who)])));
        }
        let action = Action::Kick {
            members: self.targets.iter().map(|t| t.as_str().to_owned()).collect(),
        };
        let (code, secs) = request(ctx, SPEC.name, &action).await?;
        let text = fill(
            gt.kick_pending,
            &[md(&who), text(&secs.to_string()), text(&code)],
        );
        Ok(Answer::pending(text))
    }
}
