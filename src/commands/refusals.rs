//! The replies to what did not run: an unknown command (with the closest name), wrong
//! arguments (with the usage), and a failure (a sentence for each kind of DingTalk error;
//! upstream bodies never appear in it).

use crate::{
    dingtalk::{DingTalkError, ErrorKind},
    i18n::{Texts, fill, md, text},
};

use super::{CommandError, REGISTRY, Spec, UsageError};

/// "No such command", the closest name or alias by edit distance if it is close (shown
/// as it was matched: `/禁言` suggests `/全员禁言`), and the list.
pub fn unknown_command(name: &str, t: &Texts) -> String {
    let mut text = fill(t.unknown_command, &[text(&format!("/{name}"))]);
    // Edit distance is quadratic; nobody mistypes a command name of 64 characters.
    let typed_len = name.chars().count();
    let closest = REGISTRY
        .iter()
        .filter(|_| name.len() <= 64)
        .flat_map(|s| [(s, s.name), (s, s.alias)])
        .map(|(s, candidate)| {
            let contains = typed_len >= 2 && candidate.contains(name);
            (
                !contains,
                strsim::levenshtein(name, candidate),
                s,
                candidate,
            )
        })
        // A name that holds what was typed (`/mute` in `/mute-all`, `/禁言` in `/全员禁言`)
        // is the best suggestion; otherwise a close one that shares a character.
        .filter(|(partial, distance, _, candidate)| {
            !partial
                || (*distance <= (typed_len / 2).max(2)
                    && candidate.chars().any(|c| name.contains(c)))
        })
        .min_by_key(|(partial, distance, ..)| (*partial, *distance));
    if let Some((_, _, spec, candidate)) = closest {
        let usage = if spec.args.is_empty() {
            format!("/{candidate}")
        } else {
            format!("/{candidate} {}", spec.args)
        };
        text.push(' ');
        text.push_str(&fill(t.did_you_mean, &[md(&usage)]));
    }
    let list: Vec<String> = REGISTRY.iter().map(|s| format!("`/{}`", s.name)).collect();
    text.push_str("\n\n");
    text.push_str(&fill(t.command_list, &[md(&list.join(" "))]));
    text
}

pub fn usage_error(spec: &Spec, e: &UsageError, t: &Texts) -> String {
    let what = usage_reason(e, t);
    fill(
        t.usage_error,
        &[md(&format!("/{}", spec.name)), md(&what), md(&spec.usage())],
    )
}

/// What is wrong with the arguments, as a sentence fragment.
pub fn usage_reason(e: &UsageError, t: &Texts) -> String {
    match e {
        UsageError::Missing(arg) => fill(t.usage_missing, &[md(arg)]),
        UsageError::Extra(extra) => fill(t.usage_extra, &[text(extra)]),
        UsageError::Invalid { arg, value, why } => {
            fill(t.usage_invalid, &[md(arg), text(value), md(why)])
        }
    }
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
        ErrorKind::Transient | ErrorKind::Unreachable | ErrorKind::Local => {
            t.err_unavailable.to_owned()
        }
        ErrorKind::Credentials => t.err_credentials.to_owned(),
        ErrorKind::PermissionCheckFailed => t.err_permission_check.to_owned(),
        ErrorKind::InvalidParameter => t.err_invalid_parameter.to_owned(),
        ErrorKind::BannedContent => t.err_banned_content.to_owned(),
        ErrorKind::NotMember => t.err_not_member.to_owned(),
        ErrorKind::UnknownUser => t.err_unknown_user.to_owned(),
        ErrorKind::TooManyAdmins => t.err_too_many_admins.to_owned(),
        ErrorKind::GroupDissolved => t.err_group_dissolved.to_owned(),
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
        let zh = unknown_command("禁言", Lang::Zh.texts());
        assert!(zh.contains("你是不是想用 `/全员禁言`？"), "{zh}");
        let en = unknown_command("mute", t);
        assert!(en.contains("Did you mean `/mute-all`?"), "{en}");
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
