//! From a verified message to a reply: text → command line → registry rules → command.
//!
//! The rules run in this order, and each refusal is a reply that changed nothing:
//! unknown command → wrong place (1:1 vs group) → wrong arguments → missing binding →
//! not an admin → run.

use std::time::Instant;

use crate::{
    app::App,
    callback::model::{ConversationKind, Incoming},
    dingtalk::{DingTalkError, ErrorKind},
    i18n::{Texts, fill, md, text},
    ids::ChatId,
    message::{CommandLine, text_of},
    reply::Reply,
};

use super::outcome::Outcome;
use super::{
    Access, Args, Binding, CommandError, Context, REGISTRY, Scope, Spec, UsageError, journal,
    lookup,
    permission::{admin_status, why_not},
};

/// A command's reply plus what metrics, logs and the audit trail need.
#[derive(Debug)]
pub struct Executed {
    pub reply: Reply,
    /// The command's name, or `none`/`unknown` when no command was recognised.
    pub command: &'static str,
    pub outcome: Outcome,
    /// For failures: DingTalk's errcode, `timeout` or `internal`.
    pub errcode: Option<String>,
    /// DingTalk's request id for the change or the failure.
    pub request_id: Option<String>,
}

fn executed(command: &'static str, outcome: Outcome, t: &Texts, text: String) -> Executed {
    Executed {
        reply: Reply::new(outcome.title(t), text).bounded(t.reply_cut),
        command,
        outcome,
        errcode: None,
        request_id: None,
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
    let result = execute_spec(app, msg, spec, &line.args, t, &mut binding).await;
    if spec.audited {
        journal::record(app, msg, &line.args, binding, &result, started.elapsed()).await;
    }
    result
}

/// The registry's rules, then the command, within the command deadline. `binding` is
/// left holding the group's chatid if it was looked up.
async fn execute_spec(
    app: &App,
    msg: &Incoming,
    spec: &'static Spec,
    words: &[String],
    t: &'static Texts,
    binding: &mut Option<ChatId>,
) -> Executed {
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
    let checked = run_checked(app, msg, spec, command, t, binding);
    match tokio::time::timeout(app.config.command_timeout, checked).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => {
            tracing::error!(msg_id = %msg.msg_id, command = spec.name, error = %e, "command failed");
            let (errcode, request_id) = match &e {
                CommandError::DingTalk(e) => (e.code.clone(), e.request_id.clone()),
                CommandError::Store(_) => ("internal".to_owned(), None),
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
    spec: &'static Spec,
    command: Box<dyn super::Command>,
    t: &'static Texts,
    binding: &mut Option<ChatId>,
) -> Result<Executed, CommandError> {
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
    };
    let answer = command.run(&ctx).await?;
    let outcome = if answer.refused {
        Outcome::Refused
    } else {
        Outcome::Done
    };
    Ok(Executed {
        request_id: answer.request_id,
        ..executed(spec.name, outcome, t, answer.text)
    })
}

/// "No such command", the closest name by edit distance if it is close, and the list.
pub(super) fn unknown_command(name: &str, t: &Texts) -> String {
    let mut text = fill(t.unknown_command, &[text(&format!("/{name}"))]);
    // Edit distance is quadratic; nobody mistypes a command name of 64 characters.
    let closest = REGISTRY
        .iter()
        .filter(|_| name.len() <= 64)
        .flat_map(|s| [(s, s.name), (s, s.alias)])
        .map(|(s, candidate)| (strsim::levenshtein(name, candidate), s))
        .min_by_key(|(distance, _)| *distance);
    if let Some((distance, spec)) = closest {
        if distance <= (name.chars().count() / 2).max(2) {
            text.push(' ');
            text.push_str(&fill(t.did_you_mean, &[md(&spec.usage())]));
        }
    }
    let list: Vec<String> = REGISTRY.iter().map(|s| format!("`/{}`", s.name)).collect();
    text.push_str("\n\n");
    text.push_str(&fill(t.command_list, &[md(&list.join(" "))]));
    text
}

fn usage_error(spec: &Spec, e: &UsageError, t: &Texts) -> String {
    let what = match e {
        UsageError::Missing(arg) => fill(t.usage_missing, &[md(arg)]),
        UsageError::Extra(extra) => fill(t.usage_extra, &[text(extra)]),
        UsageError::Invalid { arg, value, why } => {
            fill(t.usage_invalid, &[md(arg), text(value), md(why)])
        }
    };
    fill(
        t.usage_error,
        &[md(&format!("/{}", spec.name)), md(&what), md(&spec.usage())],
    )
}

/// A short, actionable text for a failure; upstream bodies never appear here.
pub fn error_text(e: &CommandError, t: &Texts) -> String {
    let CommandError::DingTalk(e) = e else {
        return t.err_internal.to_owned();
    };
    let mut out = dingtalk_error_text(e, t);
    if let Some(id) = &e.request_id {
        out.push_str("\n\n");
        out.push_str(&fill(t.err_request_id, &[text(id)]));
    }
    out
}

fn dingtalk_error_text(e: &DingTalkError, t: &Texts) -> String {
    match e.kind {
        ErrorKind::InvalidChatId => t.err_invalid_chatid.to_owned(),
        ErrorKind::NoPermission => fill(t.err_no_permission, &[md(e.api.permission())]),
        ErrorKind::IpNotWhitelisted => t.err_ip_whitelist.to_owned(),
        ErrorKind::Throttled => t.err_throttled.to_owned(),
        ErrorKind::QuotaExhausted => t.err_quota.to_owned(),
        ErrorKind::Transient | ErrorKind::Unreachable => t.err_unavailable.to_owned(),
        ErrorKind::Credentials => t.err_credentials.to_owned(),
        ErrorKind::TokenInvalid | ErrorKind::SessionExpired | ErrorKind::Rejected => {
            fill(t.err_other, &[text(&e.code)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{dingtalk::Api, i18n::Lang};

    fn err(kind: ErrorKind, api: Api, code: &str) -> CommandError {
        CommandError::DingTalk(DingTalkError {
            api,
            kind,
            code: code.into(),
            message: "raw upstream words".into(),
            request_id: Some("req-9".into()),
            not_sent: false,
        })
    }

    #[test]
    fn errors_become_actionable_replies_without_upstream_text() {
        let t = Lang::En.texts();
        let text = error_text(&err(ErrorKind::NoPermission, Api::FriendSwitch, "43007"), t);
        assert!(
            text.contains("qyapi_chat_manage") && text.contains("req-9"),
            "{text}"
        );
        assert!(!text.contains("raw upstream words"));
        let text = error_text(&err(ErrorKind::NoPermission, Api::ChatGet, "88"), t);
        assert!(text.contains("qyapi_chat_read"), "{text}");
        let text = error_text(&err(ErrorKind::InvalidChatId, Api::ChatGet, "40016"), t);
        assert!(text.contains("rebind"), "{text}");
        let text = error_text(&err(ErrorKind::IpNotWhitelisted, Api::ChatGet, "60020"), t);
        assert!(text.contains("egress IP"), "{text}");
    }

    #[test]
    fn unknown_commands_suggest_the_closest_and_list_all() {
        let t = Lang::En.texts();
        let text = unknown_command("lock-friendng", t);
        assert!(text.contains("Did you mean `/lock-friending`?"), "{text}");
        for spec in REGISTRY {
            assert!(text.contains(&format!("`/{}`", spec.name)), "{text}");
        }
        assert!(!unknown_command("xyzzyplugh", t).contains("Did you mean"));
        assert!(unknown_command("群心息", Lang::Zh.texts()).contains("`/info`"));
    }

    #[test]
    fn usage_errors_show_the_usage() {
        let t = Lang::En.texts();
        let bind = super::super::lookup("bind").unwrap();
        let text = usage_error(bind, &UsageError::Missing("<chatid>"), t);
        assert!(
            text.contains("<chatid> is missing") && text.contains("Usage: `/bind <chatid>`"),
            "{text}"
        );
    }
}
