//! From a verified message to its answer: text → command line → registry rules → command.
//!
//! The rules run in this order, and each refusal is an answer that changed nothing:
//! unknown command → wrong place (1:1 vs group) → wrong arguments → missing binding →
//! not an admin → run; from the binding on, within the command deadline. A changing command's run is written
//! to the audit trail before its answer is returned, so before the reply is sent.

use std::time::Instant;

use tokio::time::timeout_at;

use super::{
    Access, Answer, Args, Binding, Command, CommandError, Context, Outcome, Scope, Spec,
    answer::not_bound,
    journal, lookup,
    permission::{OwnerRead, why_not},
    refusals::{unknown_command, usage_error},
};
use crate::{
    app::App,
    i18n::{Texts, fill, md},
    ids::ChatId,
    incoming::{ConversationKind, Incoming, Mention},
    message::{self, CommandLine, fold, text_of},
};

/// Words that ask a changing command for a preview instead of a change.
const DRY_RUN: [&str; 3] = ["--dry-run", "预览", "--preview"];

/// Runs whatever `msg` asks for; returns the command's name (`none` or `unknown` when no
/// command was recognised) and its answer.
pub async fn execute(app: &App, msg: &Incoming) -> (&'static str, Answer) {
    let t = app.config.lang.texts();
    let Some(text) = text_of(&msg.content) else {
        return ("none", Answer::of(Outcome::Ignored, t.non_text_direct));
    };
    let Some(line) = CommandLine::parse(&text) else {
        return ("none", Answer::of(Outcome::Empty, t.empty_message));
    };
    let Some(spec) = lookup(&line.name) else {
        let text = unknown_command(&line.name, t);
        return ("unknown", Answer::of(Outcome::Unknown, text));
    };
    let started = Instant::now();
    let (words, dry_run) = if spec.audited {
        split_dry_run(&line.args)
    } else {
        (line.args.clone(), false)
    };
    let (answer, chat) = apply(app, msg, spec, &words, dry_run).await;
    if spec.audited {
        journal::record(
            app,
            msg,
            spec.name,
            &line.args,
            chat,
            &answer,
            started.elapsed(),
        )
        .await;
    }
    (spec.name, answer)
}

/// The words without the dry-run flag, and whether it was there.
fn split_dry_run(words: &[String]) -> (Vec<String>, bool) {
    let is_flag = |w: &String| DRY_RUN.contains(&fold(w).to_lowercase().as_str());
    let dry_run = words.iter().any(is_flag);
    (
        words.iter().filter(|w| !is_flag(w)).cloned().collect(),
        dry_run,
    )
}

/// The registry's rules, then the command. Returns its answer, and the group's chatid if
/// it was looked up (for the audit trail).
async fn apply(
    app: &App,
    msg: &Incoming,
    spec: &'static Spec,
    words: &[String],
    dry_run: bool,
) -> (Answer, Option<ChatId>) {
    let t = app.config.lang.texts();
    if spec.scope == Scope::GroupOnly && msg.kind == ConversationKind::Direct {
        let text = fill(t.group_only, &[md(&spec.usage())]);
        return (Answer::refused(text), None);
    }
    let args = Args {
        words,
        lang: app.config.lang,
        mentions: mentions_after_command(msg),
    };
    let mut command = match (spec.parse)(&args) {
        Ok(command) => command,
        Err(e) => return (Answer::of(Outcome::Usage, usage_error(spec, &e, t)), None),
    };
    let audit_as = command.take_audit_as();
    // The deadline covers the binding's lookup, the admin check and the run.
    let deadline = tokio::time::Instant::now() + app.config.command_timeout;
    let needs_chat = command.needs_chat();
    let (answer, chat) = match timeout_at(deadline, binding(app, msg, spec, needs_chat)).await {
        Err(_) => (timed_out(spec, t), None),
        Ok(Err(e)) => (Answer::failed(spec.name, &e, t), None),
        Ok(Ok(chat)) if needs_chat && chat.is_none() => {
            (not_bound(t, &spec.usage(), msg.conversation.as_str()), None)
        }
        Ok(Ok(chat)) => {
            let run = admit_and_run(app, msg, spec, command, chat.as_ref(), dry_run);
            let answer = match timeout_at(deadline, run).await {
                Ok(Ok(answer)) => answer,
                Ok(Err(e)) => Answer::failed(spec.name, &e, t),
                Err(_) => timed_out(spec, t),
            };
            (answer, chat)
        }
    };
    let answer = match audit_as {
        Some(audit_as) if answer.audit_as.is_none() => answer.audited_as(audit_as),
        _ => answer,
    };
    (answer, chat)
}

/// The mentions written after the command name, the command's own: DingTalk lists every
/// mention (the bot's excluded) in the order written, so they are the last of the list. A
/// mention before the command, or one whose `@name` is not in the text, is nobody's target.
fn mentions_after_command(msg: &Incoming) -> &[Mention] {
    let written = message::mentions_after_command(&msg.content).min(msg.mentions.len());
    &msg.mentions[msg.mentions.len() - written..]
}

/// The group's chatid, if the command uses it and the group is bound.
async fn binding(
    app: &App,
    msg: &Incoming,
    spec: &Spec,
    needs_chat: bool,
) -> Result<Option<ChatId>, CommandError> {
    if spec.binding == Binding::Unused && !needs_chat {
        return Ok(None);
    }
    Ok(app.store.binding(&msg.conversation).await?)
}

/// A run past the command deadline, logged.
fn timed_out(spec: &Spec, t: &Texts) -> Answer {
    tracing::error!(command = spec.name, "command timed out");
    Answer::timed_out(t)
}

/// The admin check (for admins' commands), then the command itself.
async fn admit_and_run(
    app: &App,
    msg: &Incoming,
    spec: &Spec,
    command: Command,
    chat: Option<&ChatId>,
    dry_run: bool,
) -> Result<Answer, CommandError> {
    let t = app.config.lang.texts();
    let mut ctx = Context {
        config: &app.config,
        dingtalk: &app.dingtalk,
        store: app.store.as_ref(),
        turns: &app.turns,
        texts: t,
        msg,
        dry_run,
        binding: chat,
        admin: None,
    };
    if spec.access == Access::Admin {
        match ctx.admin_status(OwnerRead::Fresh).await? {
            Ok(admin) => ctx.admin = Some(admin),
            Err(reason) => {
                let text = fill(
                    t.refused_not_admin,
                    &[md(&spec.usage()), md(&why_not(reason, t))],
                );
                return Ok(Answer::refused(text));
            }
        }
    }
    command.run(&ctx, chat).await
}
