//! `/nick <@member|staffId> <nickname>`: a member's nickname in this group
//! (updategroupnick). The nickname is kept as typed.

use async_trait::async_trait;

use super::members::{TARGET, is_mention_word, one_target, people};
use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    },
    i18n::{fill, md, text},
    ids::StaffId,
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
    binding: Binding::Required,
    audited: true,
    parse,
};

struct Nick {
    member: StaffId,
    nick: String,
}

/// With an @mention, the member is the mentioned one and the words (past a leading
/// `@name`) are the nickname; otherwise the first word is a staff id.
fn parse(args: &Args<'_>) -> Result<Box<dyn Command>, UsageError> {
    let words = args.words;
    let (member, nick_words) = match (args.mentions.is_empty(), words.first()) {
        (false, Some(first)) if is_mention_word(first) => {
            (one_target(args, &words[..1])?, &words[1..])
        }
        (false, _) => (one_target(args, &[])?, words),
        (true, Some(_)) => (one_target(args, &words[..1])?, &words[1..]),
        (true, None) => return Err(UsageError::Missing(TARGET)),
    };
    let nick = nick_words.join(" ");
    if nick.is_empty() {
        return Err(UsageError::Missing("<nickname>"));
    }
    if nick.chars().any(char::is_control) {
        return Err(UsageError::Invalid {
            arg: "<nickname>",
            value: nick.clone(),
            why: args.lang.group_texts().nick_control.to_owned(),
        });
    }
    Ok(Box::new(Nick { member, nick }))
}

#[async_trait]
impl Command for Nick {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        let gt = ctx.app.config.lang.group_texts();
        let typed =
            crate::commands::journal::quoted(&[self.member.as_str().to_owned(), self.nick.clone()]);
        ctx.audit_as(SPEC.name, typed);
        let who = people([&self.member]);
        let args = [md(&who), text(&self.nick)];
        if ctx.dry_run {
            return Ok(Answer::previewed(fill(gt.nick_preview, &args)));
        }
        let request_id = ctx
            .app
            .dingtalk
            .set_group_nick(ctx.chat(), &self.member, &self.nick)
            .await?;
        Ok(Answer::done(fill(gt.nick_done, &args)).with_request_id(request_id))
    }
}
