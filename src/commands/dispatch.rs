//! From a verified message to a reply: text → command line → registry rules → command.
//!
//! The rules run in this order, and each refusal is a reply that changed nothing:
//! unknown command → wrong place (1:1 vs group) → wrong arguments → missing binding →
//! not an admin → run.

use std::{sync::OnceLock, time::Instant};

use crate::{
    app::App,
    i18n::{Texts, fill, md, text},
    ids::ChatId,
    incoming::{ConversationKind, Incoming},
    message::{CommandLine, text_of},
    reply::Reply,
};

use super::outcome::{Executed, Outcome};
use super::refusals::{error_text, unknown_command, usage_error};
use super::{
    Access, AnswerKind, Args, AuditAs, Binding, CommandError, Context, Scope, Spec, journal,
    lookup,
    permission::{admin_status, why_not},
    split_dry_run,
};

fn executed(command: &'static str, outcome: Outcome, t: &Texts, text: String) -> Executed {
    Executed {
        reply: Reply::new(outcome.title(t), text).bounded(t.reply_cut),
        command,
        outcome,
        errcode: None,
        request_id: None,
        audit_as: None,
    }
}

/// Runs whatever `msg` asks for and returns the reply to send. A changing command's run
/// is written to the audit trail before this returns, so before the reply is sent.
pub async fn execute(app: &App, msg: &Incoming) -> Executed {
    let t = app.config.lang.texts();
    let Some(text) = text_of(&msg.content) else {
        return executed("none", Outcome::Ignored, t, t.non_text_direct.to_owned());
    };
    let Some(line) = CommandLine::parse(&text) else {
        return executed("none", Outcome::Empty, t, t.empty_message.to_owned());
    };
    let Some(spec) = lookup(&line.name) else {
        return executed(
            "unknown",
            Outcome::Unknown,
            t,
            unknown_command(&line.name, t),
        );
    };
    let started = Instant::now();
    let mut binding = None;
    let (words, dry_run) = if spec.audited {
        split_dry_run(&line.args)
    } else {
        (line.args.clone(), false)
    };
    let run = Run {
        spec,
        words: &words,
        dry_run,
    };
    let mut audit_as = None;
    let mut result = execute_spec(app, msg, run, t, (&mut binding, &mut audit_as)).await;
    result.audit_as = audit_as;
    if spec.audited {
        journal::record(app, msg, &line.args, binding, &result, started.elapsed()).await;
    }
    result
}

/// The command asked for, its arguments (without the dry-run flag) and the flag.
#[derive(Clone, Copy)]
struct Run<'w> {
    spec: &'static Spec,
    words: &'w [String],
    dry_run: bool,
}

/// What running a command found out for the audit trail: the group's chatid, if it was
/// looked up, and the command to file the run under, if not the one typed.
type Found<'a> = (&'a mut Option<ChatId>, &'a mut Option<AuditAs>);

/// The registry's rules, then the command, within the command deadline.
async fn execute_spec(
    app: &App,
    msg: &Incoming,
    run: Run<'_>,
    t: &'static Texts,
    found: Found<'_>,
) -> Executed {
    let Run { spec, words, .. } = run;
    if spec.scope == Scope::GroupOnly && msg.kind == ConversationKind::Direct {
        let text = fill(t.group_only, &[md(&spec.usage())]);
        return executed(spec.name, Outcome::Refused, t, text);
    }
    let args = Args {
        words,
        lang: app.config.lang,
        mentions: &msg.mentions,
    };
    let command = match (spec.parse)(&args) {
        Ok(command) => command,
        Err(e) => {
            return executed(spec.name, Outcome::Usage, t, usage_error(spec, &e, t));
        }
    };
    let checked = run_checked(app, msg, run, command, t, found);
    match tokio::time::timeout(app.config.command_timeout, checked).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => {
            tracing::error!(msg_id = %msg.msg_id, command = spec.name, error = %e, "command failed");
            let (errcode, request_id) = match &e {
                CommandError::DingTalk(e) => (e.code.clone(), e.request_id.clone()),
                CommandError::Store(_) | CommandError::Internal(_) => ("internal".to_owned(), None),
            };
            Executed {
                errcode: Some(errcode),
                request_id,
                ..executed(spec.name, Outcome::Failed, t, error_text(&e, t))
            }
        }
        Err(_) => {
            tracing::error!(msg_id = %msg.msg_id, command = spec.name, "command timed out");
            Executed {
                errcode: Some("timeout".to_owned()),
                ..executed(spec.name, Outcome::Timeout, t, t.err_unavailable.to_owned())
            }
        }
    }
}

async fn run_checked(
    app: &App,
    msg: &Incoming,
    run: Run<'_>,
    command: Box<dyn super::Command>,
    t: &'static Texts,
    (binding, audit_as): Found<'_>,
) -> Result<Executed, CommandError> {
    let spec = run.spec;
    if spec.binding != Binding::Unused {
        *binding = app.store.binding(&msg.conversation).await?;
    }
    if spec.binding == Binding::Required && binding.is_none() {
        let text = fill(
            t.not_bound,
            &[md(&spec.usage()), text(msg.conversation.as_str())],
        );
        return Ok(executed(spec.name, Outcome::Refused, t, text));
    }
    if spec.access == Access::Admin {
        if let Err(reason) = admin_status(app, msg, binding.as_ref()).await? {
            let text = fill(
                t.refused_not_admin,
                &[md(&spec.usage()), md(&why_not(reason, t))],
            );
            return Ok(executed(spec.name, Outcome::Refused, t, text));
        }
    }
    let ctx = Context {
        app,
        msg,
        binding: binding.clone(),
        texts: t,
        dry_run: run.dry_run,
        audit_as: OnceLock::new(),
    };
    // A group/update waits for any other to this group, here and on every replica; a
    // preview reads only.
    let turn = if command.rewrites_group() && !run.dry_run {
        Some(
            app.turns
                .take(app.store.as_ref(), &msg.conversation)
                .await?,
        )
    } else {
        None
    };
    let answer = command.run(&ctx).await;
    if let Some(turn) = turn {
        turn.release().await;
    }
    *audit_as = ctx.audit_as.into_inner();
    let answer = answer?;
    let outcome = match answer.kind {
        AnswerKind::Done => Outcome::Done,
        AnswerKind::Refused => Outcome::Refused,
        AnswerKind::Previewed => Outcome::DryRun,
        AnswerKind::Pending => Outcome::Pending,
    };
    Ok(Executed {
        request_id: answer.request_id,
        ..executed(spec.name, outcome, t, answer.text)
    })
}
