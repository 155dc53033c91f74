//! `/bind <chatid>`: bind this group (its openConversationId) to its legacy chatid.
//!
//! DingTalk has no cid → chatid API, only chatid → cid. So an admin supplies the chatid,
//! and it is bound only if DingTalk converts it to this very group's cid.

use async_trait::async_trait;

use super::{Access, Answer, Binding, Command, CommandError, Context, Scope, Spec, UsageError};
use crate::{dingtalk::ErrorKind, i18n::fill, ids::ChatId, store::BindOutcome};

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
    binding: Binding::Optional,
    parse,
};

struct Bind {
    chat: ChatId,
}

fn parse(args: &[String]) -> Result<Box<dyn Command>, UsageError> {
    let raw = args.first().ok_or(UsageError::Missing("<chatid>"))?;
    if let Some(extra) = args.get(1) {
        return Err(UsageError::Extra(extra.clone()));
    }
    let chat = ChatId::parse(raw).map_err(|e| UsageError::Invalid {
        arg: "<chatid>",
        value: raw.clone(),
        why: e.to_string(),
    })?;
    Ok(Box::new(Bind { chat }))
}

#[async_trait]
impl Command for Bind {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        let t = ctx.texts;
        let chat = self.chat.as_str();
        if ctx.binding.as_ref() == Some(&self.chat) {
            return Ok(Answer::Done(fill(t.bind_already, &[chat])));
        }
        let here = &ctx.msg.conversation;
        let converted = match ctx.app.dingtalk.open_conversation_id(&self.chat).await {
            Ok(cid) => cid,
            Err(e) if matches!(e.kind, ErrorKind::Rejected | ErrorKind::InvalidChatId) => {
                tracing::warn!(chatid = chat, error = %e, "chatid conversion refused");
                return Ok(Answer::Refused(fill(t.bind_unknown_chat, &[chat])));
            }
            Err(e) => return Err(e.into()),
        };
        if &converted != here {
            return Ok(Answer::Refused(fill(
                t.bind_mismatch,
                &[chat, converted.as_str(), here.as_str()],
            )));
        }
        let now = crate::app::now_ms();
        Ok(match ctx.app.store.bind(here, &self.chat, now).await? {
            BindOutcome::Bound => Answer::Done(fill(t.bind_done, &[here.as_str(), chat])),
            BindOutcome::AlreadyBound => Answer::Done(fill(t.bind_already, &[chat])),
            BindOutcome::Replaced { previous } => {
                Answer::Done(fill(t.bind_replaced, &[chat, previous.as_str()]))
            }
            BindOutcome::ChatTaken { .. } => Answer::Refused(fill(t.bind_taken, &[chat])),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_before_anything_runs() {
        assert_eq!(parse(&[]).err(), Some(UsageError::Missing("<chatid>")));
        assert_eq!(
            parse(&["chat1".into(), "chat2".into()]).err(),
            Some(UsageError::Extra("chat2".into()))
        );
        match parse(&["cidABC==".into()]).err() {
            Some(UsageError::Invalid { why, .. }) => {
                assert!(why.contains("openConversationId"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["chat9f".into()]).is_ok());
    }
}
