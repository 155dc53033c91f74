//! `/confirm <code>`: runs a pending `/kick` or `/transfer-owner`, only for its requester,
//! in the same group, before it expires, once. The run is audited as the command it ran.

use async_trait::async_trait;

use super::pending::{Action, run};
use crate::{
    clock::now_ms,
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
        lookup,
    },
    i18n::{fill, text},
    message::fold,
    store::ConfirmTake,
};

pub static SPEC: Spec = Spec {
    name: "confirm",
    alias: "确认",
    args: "<code>",
    summary: [
        "确认执行你发起的 /kick 或 /transfer-owner",
        "Go ahead with the /kick or /transfer-owner you asked for",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Required,
    audited: true,
    parse,
};

struct Confirm {
    code: String,
}

fn parse(args: &Args<'_>) -> Result<Box<dyn Command>, UsageError> {
    let code = args.words.first().ok_or(UsageError::Missing("<code>"))?;
    if let Some(extra) = args.words.get(1) {
        return Err(UsageError::Extra(extra.clone()));
    }
    // Full-width digits from a Chinese keyboard are the same code.
    Ok(Box::new(Confirm { code: fold(code) }))
}

#[async_trait]
impl Command for Confirm {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        let gt = ctx.app.config.lang.group_texts();
        let Some(requester) = &ctx.msg.sender.staff_id else {
            return Ok(Answer::refused(gt.confirm_no_staff_id));
        };
        let code = text(&self.code);
        if ctx.dry_run {
            // A preview of the command is `/kick … --dry-run`; this one would only burn it.
            return Ok(Answer::previewed(fill(gt.confirm_preview, &[code])));
        }
        let store = &ctx.app.store;
        let taken = store
            .take_confirmation(&ctx.msg.conversation, &self.code, requester, now_ms())
            .await?;
        let pending = match taken {
            ConfirmTake::Taken(pending) => pending,
            ConfirmTake::Unknown => return Ok(Answer::refused(fill(gt.confirm_unknown, &[code]))),
            ConfirmTake::Used => return Ok(Answer::refused(fill(gt.confirm_used, &[code]))),
            ConfirmTake::Expired => return Ok(Answer::refused(fill(gt.confirm_expired, &[code]))),
            ConfirmTake::NotRequester => {
                return Ok(Answer::refused(fill(gt.confirm_not_requester, &[code])));
            }
        };
        let command = lookup(&pending.command).map_or(SPEC.name, |spec| spec.name);
        ctx.audit_as(command, pending.args.clone());
        let action: Action = serde_json::from_str(&pending.action)
            .map_err(|_| CommandError::Internal("a stored confirmation does not decode"))?;
        if &pending.chat != ctx.chat() {
            return Ok(Answer::refused(gt.confirm_other_group));
        }
        run(ctx, &pending.chat, &action).await
    }

    fn rewrites_group(&self) -> bool {
        true
    }
}
