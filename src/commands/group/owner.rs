//! `/transfer-owner <@member|staffId>`: a current member becomes the owner, after the
//! requester's `/confirm`.

use async_trait::async_trait;

use super::{
    members::{TARGET, listed, one_target, people},
    pending::{Action, request, transfer_refusal},
};
use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    },
    i18n::{fill, md, text},
    ids::StaffId,
};

pub static SPEC: Spec = Spec {
    name: "transfer-owner",
    alias: "转让群主",
    args: TARGET,
    summary: [
        "把群主转给一位群成员（需要 /confirm 确认）",
        "Make a member the group's owner (after a /confirm)",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Required,
    audited: true,
    parse,
};

struct TransferOwner {
    target: StaffId,
}

fn parse(args: &Args<'_>) -> Result<Box<dyn Command>, UsageError> {
    Ok(Box::new(TransferOwner {
        target: one_target(args, args.words)?,
    }))
}

#[async_trait]
impl Command for TransferOwner {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        let (t, gt) = (ctx.texts, ctx.app.config.lang.group_texts());
        ctx.audit_as(SPEC.name, listed(std::slice::from_ref(&self.target)));
        let info = ctx.app.dingtalk.chat_info_fresh(ctx.chat()).await?;
        if let Some(refusal) = transfer_refusal(&info, &self.target, gt) {
            return Ok(Answer::refused(refusal));
        }
        let owner = info.owner.as_deref().map_or_else(
            || t.info_missing.to_owned(),
            |o| crate::markdown::code(o, crate::markdown::ECHO_LIMIT),
        );
        let new = people([&self.target]);
        if ctx.dry_run {
            return Ok(Answer::previewed(fill(
                gt.owner_preview,
                &[md(&owner), md(&new)],
            )));
        }
        let action = Action::TransferOwner {
            owner: self.target.as_str().to_owned(),
        };
        let (code, secs) = request(ctx, SPEC.name, &action).await?;
        let text = fill(
            gt.owner_pending,
            &[md(&owner), md(&new), text(&secs.to_string()), text(&code)],
        );
        Ok(Answer::pending(text))
    }
}
