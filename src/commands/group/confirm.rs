//! `/confirm <code>`: runs a pending `/kick` or `/transfer-owner`, only for its requester,
//! in the same group, before it expires, once. The run is audited as the command it ran.

use super::pending::{Action, run as run_action};
use crate::{
    clock::now_ms,
    commands::{
        Access, Answer, AuditAs, Binding, Command, CommandError, Context, Scope, Spec, lookup,
        one_arg,
    },
    i18n::{fill, text},
    ids::ChatId,
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
    binding: Binding::Used,
    audited: true,
    parse: |args| {
        // Full-width digits from a Chinese keyboard are the same code.
        let code = fold(one_arg(args, "<code>")?);
        Ok(Command::in_group(code, |ctx, chat, code| {
            Box::pin(run(ctx, chat, code))
        }))
    },
};

async fn run(ctx: &Context<'_>, chat: &ChatId, code: String) -> Result<Answer, CommandError> {
    let gt = ctx.config.lang.group_texts();
    let requester = ctx.admin()?.staff_id;
    let shown = text(&code);
    if ctx.dry_run {
        // A preview of the command is `/kick … --dry-run`; this one would only burn it.
        return Ok(Answer::previewed(fill(gt.confirm_preview, &[shown])));
    }
    let taken = ctx
        .store
        .take_confirmation(&ctx.msg.conversation, &code, requester, now_ms())
        .await?;
    let pending = match taken {
        ConfirmTake::Taken(pending) => pending,
        ConfirmTake::Unknown => return Ok(Answer::refused(fill(gt.confirm_unknown, &[shown]))),
        ConfirmTake::Used => return Ok(Answer::refused(fill(gt.confirm_used, &[shown]))),
        ConfirmTake::Expired => return Ok(Answer::refused(fill(gt.confirm_expired, &[shown]))),
        ConfirmTake::NotRequester => {
            return Ok(Answer::refused(fill(gt.confirm_not_requester, &[shown])));
        }
    };
    // From here on, whatever happens is filed as the command it ran.
    let audit_as = AuditAs {
        command: lookup(&pending.command).map_or(SPEC.name, |spec| spec.name),
        args: pending.args.clone(),
    };
    let answer = match serde_json::from_str::<Action>(&pending.action) {
        Err(_) => Err(CommandError::Internal(
            "a stored confirmation does not decode",
        )),
        Ok(_) if &pending.chat != chat => Ok(Answer::refused(gt.confirm_other_group)),
        Ok(action) => run_action(ctx, &pending.chat, &action).await,
    };
    let answer = answer.unwrap_or_else(|e| Answer::failed(audit_as.command, &e, ctx.texts));
    Ok(answer.audited_as(audit_as))
}
