//! `/bind <chatid>`: bind this group (its openConversationId) to its legacy chatid.
//!
//! DingTalk has no cid → chatid API, only chatid → cid. So an admin supplies the chatid,
//! and it is bound only if DingTalk converts it to this very group's cid.

use super::{Access, Answer, Binding, Command, CommandError, Context, Scope, Spec, parse_with};
use crate::{
    dingtalk::ErrorKind,
    i18n::{fill, text},
    ids::{ChatId, IdError},
    message::fold,
    store::BindOutcome,
};

pub static SPEC: Spec = Spec {
    name: "bind",
    alias: "绑定",
    args: "<chatid>",
    summary: [
        "把本群绑定到它的 chatid（chat 开头）",
        "Bind this group to its chatid (starts with chat)",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    // Optional: an already bound pair is reported without calling DingTalk, and the owner
    // of a bound group counts as an admin.
    binding: Binding::Used,
    audited: true,
    parse: |args| {
        let t = args.lang.texts();
        let chat = parse_with(args, "<chatid>", |raw| {
            ChatId::parse(&fold(raw)).map_err(|e| {
                match e {
                    IdError::CidGivenForChatId => t.chatid_is_cid,
                    _ => t.chatid_shape,
                }
                .to_owned()
            })
        })?;
        Ok(Command::new(chat, |ctx, chat| Box::pin(run(ctx, chat))))
    },
};

async fn run(ctx: &Context<'_>, new: ChatId) -> Result<Answer, CommandError> {
    let t = ctx.texts;
    let chat = new.as_str();
    if ctx.binding == Some(&new) {
        return Ok(Answer::done(fill(t.bind_already, &[text(chat)])));
    }
    let here = &ctx.msg.conversation;
    let converted = match ctx.dingtalk.open_conversation_id(&new).await {
        Ok(cid) => cid,
        Err(e) if matches!(e.kind, ErrorKind::Rejected | ErrorKind::InvalidChatId) => {
            tracing::warn!(chatid = chat, error = %e, "chatid conversion refused");
            return Ok(Answer::refused(fill(t.bind_unknown_chat, &[text(chat)])));
        }
        Err(e) => return Err(e.into()),
    };
    if &converted != here {
        return Ok(Answer::refused(fill(
            t.bind_mismatch,
            &[text(chat), text(converted.as_str()), text(here.as_str())],
        )));
    }
    if ctx.dry_run {
        let text = fill(t.bind_preview, &[text(here.as_str()), text(chat)]);
        return Ok(Answer::previewed(text));
    }
    let now = crate::clock::now_ms();
    Ok(match ctx.store.bind(here, &new, now).await? {
        BindOutcome::Bound => Answer::done(fill(t.bind_done, &[text(here.as_str()), text(chat)])),
        BindOutcome::AlreadyBound => Answer::done(fill(t.bind_already, &[text(chat)])),
        BindOutcome::Replaced { previous } => Answer::done(fill(
            t.bind_replaced,
            &[text(chat), text(previous.as_str())],
        )),
        BindOutcome::ChatTaken { .. } => Answer::refused(fill(t.bind_taken, &[text(chat)])),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::{
        commands::{Args, UsageError},
        i18n::Lang,
    };

    fn parse_words(words: &[&str]) -> Result<Command, UsageError> {
        let words: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        (SPEC.parse)(&Args {
            words: &words,
            lang: Lang::En,
            mentions: &[],
        })
    }

    #[test]
    fn arguments_are_checked_before_anything_runs() {
        assert_eq!(
            parse_words(&[]).err(),
            Some(UsageError::Missing("<chatid>"))
        );
        assert_eq!(
            parse_words(&["chat1", "chat2"]).err(),
            Some(UsageError::Extra("chat2".into()))
        );
        match parse_words(&["cidABC=="]).err() {
            Some(UsageError::Invalid { why, .. }) => {
                assert!(why.contains("openConversationId"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        assert!(parse_words(&["chat9f"]).is_ok());
    }
}
