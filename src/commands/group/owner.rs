//! `/transfer-owner <@member|staffId>`: a current member becomes the owner, after the
//! requester's `/confirm`.

use super::{
    members::{TARGET, listed, one_target},
    pending::{Action, request, transfer_refusal},
};
use crate::{
    commands::{Access, Answer, Binding, Command, CommandError, Context, Scope, Spec},
    i18n::{fill, md, text},
    ids::{ChatId, StaffId},
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
    binding: Binding::Used,
    audited: true,
    parse: |args| {
        let target = one_target(args, args.words)?;
        let audited = listed(std::slice::from_ref(&target));
        let command =
            Command::in_group(target, |ctx, chat, target| Box::pin(run(ctx, chat, target)));
        Ok(command.audited_as(SPEC.name, audited))
    },
};

async fn run(ctx: &Context<'_>, chat: &ChatId, target: StaffId) -> Result<Answer, CommandError> {
    let (t, gt) = (ctx.texts, ctx.config.lang.group_texts());
    let info = ctx.dingtalk.chat_info_fresh(chat).await?;
    if let Some(refusal) = transfer_refusal(&info, &target, gt) {
        return Ok(Answer::refused(refusal));
    }
    let owner = async {
        match info.owner.as_deref().map(StaffId::parse) {
            Some(Ok(owner)) => ctx.people(&[owner]).await,
            Some(Err(_)) | None => t.info_missing.to_owned(),
        }
    };
    let (owner, new) = tokio::join!(owner, ctx.people(std::slice::from_ref(&target)));
    if ctx.dry_run {
        return Ok(Answer::previewed(fill(
            gt.owner_preview,
            &[md(&owner), md(&new)],
        )));
    }
    let action = Action::TransferOwner {
        owner: target.as_str().to_owned(),
    };
    let (code, secs) = request(ctx, chat, SPEC.name, &action).await?;
    let text = fill(
        gt.owner_pending,
        &[md(&owner), md(&new), text(&secs.to_string()), text(&code)],
    );
    Ok(Answer::pending(text))
}
