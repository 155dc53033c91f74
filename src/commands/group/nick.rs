//! `/nick <@member|staffId> <nickname>`: a member's nickname in this group
//! (updategroupnick). The nickname is kept as typed.

use super::members::{TARGET, is_mention_word, one_target, people};
use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
        free_text, journal::quoted,
    },
    i18n::{fill, md, text},
    ids::{ChatId, StaffId},
};

pub static SPEC: Spec = Spec {
    name: "nick",
    alias: "群昵称",
    args: "<@member|staffId> <nickname>",
    summary: [
        "修改成员在本群的昵称",
        "Set a member's nickname in this group",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: true,
    parse,
};

/// With an @mention, the member is the mentioned one and the words (past a leading
/// `@name`) are the nickname; otherwise the first word is a staff id.
fn parse(args: &Args<'_>) -> Result<Command, UsageError> {
    let words = args.words;
    let (member, nick_words) = match (args.mentions.is_empty(), words.first()) {
        (false, Some(first)) if is_mention_word(first) => {
            (one_target(args, &words[..1])?, &words[1..])
        }
        (false, _) => (one_target(args, &[])?, words),
        (true, Some(_)) => (one_target(args, &words[..1])?, &words[1..]),
        (true, None) => return Err(UsageError::Missing(TARGET)),
    };
    let control = args.lang.group_texts().nick_control;
    let nick = free_text(nick_words, "<nickname>", args.lang, control, None)?;
    let audited = quoted(&[member.as_str().to_owned(), nick.clone()]);
    let command = Command::in_group((member, nick), |ctx, chat, (member, nick)| {
        Box::pin(run(ctx, chat, member, nick))
    });
    Ok(command.audited_as(SPEC.name, audited))
}

async fn run(
    ctx: &Context<'_>,
    chat: &ChatId,
    member: StaffId,
    nick: String,
) -> Result<Answer, CommandError> {
    let gt = ctx.config.lang.group_texts();
    let who = people([&member]);
    let args = [md(&who), text(&nick)];
    if ctx.dry_run {
        return Ok(Answer::previewed(fill(gt.nick_preview, &args)));
    }
    let request_id = ctx.dingtalk.set_group_nick(chat, &member, &nick).await?;
    Ok(Answer::done(fill(gt.nick_done, &args)).with_request_id(request_id))
}
