//! `/kick <@member|staffId>…`: removes members after the requester's `/confirm`. The
//! owner is refused outright, and so is anyone chat/get does not list as a member.

use super::{
    members::{TARGET, listed, targets},
    pending::{Action, kick_refusal, request},
};
use crate::{
    commands::{Access, Answer, Binding, Command, CommandError, Context, Scope, Spec},
    i18n::{fill, md, text},
    ids::{ChatId, StaffId},
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
    binding: Binding::Used,
    audited: true,
    parse: |args| {
        let targets = targets(args, args.words)?;
        let audited = listed(&targets);
        let command = Command::in_group(targets, |ctx, chat, targets| {
            Box::pin(run(ctx, chat, targets))
        });
        Ok(command.audited_as(SPEC.name, audited))
    },
};

const TARGET_ARGS: &str = "<@member|staffId>…";
const _: () = assert!(TARGET.len() + "…".len() == TARGET_ARGS.len());

async fn run(
    ctx: &Context<'_>,
    chat: &ChatId,
    targets: Vec<StaffId>,
) -> Result<Answer, CommandError> {
    let gt = ctx.config.lang.group_texts();
    let info = ctx.dingtalk.chat_info_fresh(chat).await?;
    if let Some(refusal) = kick_refusal(&info, &targets, gt) {
        return Ok(Answer::refused(refusal));
    }
    let who = ctx.people(&targets).await;
    if ctx.dry_run {
        return Ok(Answer::previewed(fill(gt.kick_preview, &[md(&who)])));
    }
    let action = Action::Kick {
        members: targets.iter().map(|t| t.as_str().to_owned()).collect(),
    };
    let (code, secs) = request(ctx, chat, SPEC.name, &action).await?;
    let text = fill(
        gt.kick_pending,
        &[md(&who), text(&secs.to_string()), text(&code)],
    );
    Ok(Answer::pending(text))
}
