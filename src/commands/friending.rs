//! `/lock-friending` and `/unlock-friending`: whether members may add each other as friends
//! and chat privately (friendswitch/update, `is_prohibit`). One file for the twin commands;
//! setting the switch is naturally idempotent, so a redelivery is harmless.

use super::{
    Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError, no_args,
};
use crate::{
    i18n::{fill, text},
    ids::ChatId,
};

pub static LOCK: Spec = Spec {
    name: "lock-friending",
    alias: "禁止加好友",
    args: "",
    summary: [
        "禁止群成员互相加好友和私聊",
        "Stop members adding each other as friends or chatting privately",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: true,
    parse: |args| parse(args, true),
};

pub static UNLOCK: Spec = Spec {
    name: "unlock-friending",
    alias: "允许加好友",
    args: "",
    summary: [
        "允许群成员互相加好友和私聊",
        "Let members add each other as friends and chat privately",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: true,
    parse: |args| parse(args, false),
};

fn parse(args: &Args<'_>, prohibit: bool) -> Result<Command, UsageError> {
    no_args(args)?;
    Ok(Command::in_group(prohibit, |ctx, chat, prohibit| {
        Box::pin(run(ctx, chat, prohibit))
    }))
}

async fn run(ctx: &Context<'_>, chat: &ChatId, prohibit: bool) -> Result<Answer, CommandError> {
    let t = ctx.texts;
    let group = ctx.msg.title.as_deref().unwrap_or(chat.as_str());
    if ctx.dry_run {
        let template = if prohibit {
            t.friending_lock_preview
        } else {
            t.friending_unlock_preview
        };
        return Ok(Answer::previewed(fill(template, &[text(group)])));
    }
    let request_id = ctx
        .dingtalk
        .set_friending_prohibited(chat, prohibit)
        .await?;
    let template = if prohibit {
        t.friending_locked
    } else {
        t.friending_unlocked
    };
    Ok(Answer::done(fill(template, &[text(group)])).with_request_id(request_id))
}
