//! `/audit [n]`: the last n changes to this group: those made through qunguan, and those
//! made in the DingTalk client (reported by group events), with the people by name.

use super::{
    Access, Answer, Binding, Command, CommandError, Context, Scope, Spec, UsageError, optional_arg,
};
use std::collections::HashMap;

use crate::{
    clock::format_gmt8,
    i18n::{ContactTexts, fill, md, text},
    ids::StaffId,
    markdown,
    message::fold,
    store::{AuditRecord, DINGTALK_SOURCE},
};

/// Shown when no count is given.
const DEFAULT_COUNT: usize = 10;
/// The most a reply lists.
const MAX_COUNT: usize = 50;
/// The most people one reply looks up by name; the rest are shown by staff id.
const MAX_NAMES: usize = 50;
/// The most people one line lists.
const MAX_PEOPLE: usize = 20;

pub static SPEC: Spec = Spec {
    name: "audit",
    alias: "审计",
    args: "[n]",
    summary: [
        "本群最近 n 条变更，通过群管和在钉钉里做的（默认 10，最多 50）",
        "The last n changes to this group, through qunguan and in DingTalk (default 10, at most 50)",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: false,
    parse: |args| {
        let count = count(args)?;
        Ok(Command::new(count, |ctx, count| Box::pin(run(ctx, count))))
    },
};

/// How many records to show: `[n]`, 1 to [`MAX_COUNT`].
fn count(args: &crate::commands::Args<'_>) -> Result<usize, UsageError> {
    Ok(match optional_arg(args)? {
        None => DEFAULT_COUNT,
        Some(raw) => fold(raw)
            .parse()
            .ok()
            .filter(|n| (1..=MAX_COUNT).contains(n))
            .ok_or_else(|| UsageError::Invalid {
                arg: "[n]",
                value: raw.clone(),
                why: args.lang.contact_texts().audit_bad_count.to_owned(),
            })?,
    })
}

async fn run(ctx: &Context<'_>, count: usize) -> Result<Answer, CommandError> {
    let ct = ctx.config.lang.contact_texts();
    let records = ctx.store.recent_audit(&ctx.msg.conversation, count).await?;
    if records.is_empty() {
        return Ok(Answer::done(ct.audit_none));
    }
    let names = names_in(ctx, &records).await;
    let mut text = fill(ct.audit_header, &[text(&records.len().to_string())]);
    text.push_str("\n\n");
    for record in &records {
        let line = match record.source.as_deref() {
            Some(DINGTALK_SOURCE) => in_dingtalk(record, ct, &names),
            _ => line(record, ct),
        };
        text.push_str(&line);
        text.push('\n');
    }
    Ok(Answer::done(text))
}

/// The names of the people the changes made in DingTalk are by and about (at most
/// [`MAX_NAMES`] of them), by staff id.
async fn names_in(ctx: &Context<'_>, records: &[AuditRecord]) -> HashMap<String, String> {
    let mut people: Vec<StaffId> = Vec::new();
    for r in records
        .iter()
        .filter(|r| r.source.as_deref() == Some(DINGTALK_SOURCE))
    {
        // The arguments are people, but for a new name and a bound chatid.
        let about: Vec<StaffId> = match r.command.as_str() {
            "chat_update_title" | "bind" => Vec::new(),
            _ => r
                .args
                .split_whitespace()
                .filter_map(|id| StaffId::parse(id).ok())
                .collect(),
        };
        for who in r.sender_staff_id.iter().cloned().chain(about) {
            if people.len() < MAX_NAMES && !people.contains(&who) {
                people.push(who);
            }
        }
    }
    let names = ctx.dingtalk.names_of(&people, ctx.config.lang).await;
    people
        .into_iter()
        .zip(names)
        .filter_map(|(id, name)| Some((id.as_str().to_owned(), name?)))
        .collect()
}

/// Someone as the group knows them: "李娜 (lina01)", or the staff id alone; inert.
fn person(id: &str, names: &HashMap<String, String>) -> String {
    super::context::person(id, names.get(id).map(String::as_str))
}

/// `- `time` who in DingTalk: what they did`, for a change a group event reported.
fn in_dingtalk(r: &AuditRecord, ct: &ContactTexts, names: &HashMap<String, String>) -> String {
    let who = r.sender_staff_id.as_ref().map_or_else(
        || ct.audit_someone.to_owned(),
        |id| person(id.as_str(), names),
    );
    let ids: Vec<&str> = r.args.split_whitespace().collect();
    let mut people: Vec<String> = ids
        .iter()
        .take(MAX_PEOPLE)
        .map(|id| person(id, names))
        .collect();
    if ids.len() > MAX_PEOPLE {
        people.push(format!("… (+{})", ids.len() - MAX_PEOPLE));
    }
    let people = people.join(", ");
    let what = match r.command.as_str() {
        "chat_add_member" => fill(ct.audit_added, &[md(&people)]),
        "chat_remove_member" => fill(ct.audit_removed, &[md(&people)]),
        "chat_quit" => ct.audit_quit.to_owned(),
        "chat_update_owner" => fill(ct.audit_new_owner, &[md(&people)]),
        "chat_update_title" => fill(ct.audit_renamed, &[text(&r.args)]),
        "chat_disband" => ct.audit_disbanded.to_owned(),
        "bind" => fill(ct.audit_bound, &[text(&r.args)]),
        other => markdown::code(other, markdown::ECHO_LIMIT),
    };
    format!(
        "- `{}` {who} {}: {what}",
        format_gmt8(r.at_ms),
        ct.audit_in_dingtalk
    )
}

/// `- `time` nick (staff) `/command args`: outcome, request id`.
fn line(r: &AuditRecord, ct: &ContactTexts) -> String {
    let outcome = match (r.outcome.as_str(), &r.errcode) {
        ("done", _) => ct.audit_done.to_owned(),
        ("dry-run", _) => ct.audit_dry_run.to_owned(),
        ("pending", _) => ct.audit_pending.to_owned(),
        ("skipped", _) => ct.audit_skipped.to_owned(),
        ("failed", code) => fill(ct.audit_failed, &[text(code.as_deref().unwrap_or("?"))]),
        _ => ct.audit_refused.to_owned(),
    };
    let nick = markdown::inert(&r.sender_nick, markdown::ECHO_LIMIT);
    let who = match &r.sender_staff_id {
        Some(id) => format!(
            "{nick} ({})",
            markdown::inert(id.as_str(), markdown::ECHO_LIMIT)
        ),
        None => nick,
    };
    let command = if r.args.is_empty() {
        format!("/{}", r.command)
    } else {
        format!("/{} {}", r.command, r.args)
    };
    let command = markdown::code(&command, markdown::ECHO_LIMIT);
    let source = r
        .source
        .as_ref()
        .map(|s| fill(ct.audit_source, &[text(s)]))
        .unwrap_or_default();
    let mut line = format!(
        "- `{}` {who}{source} {command}: {outcome}",
        format_gmt8(r.at_ms)
    );
    if let Some(id) = &r.request_id {
        line.push_str(", ");
        line.push_str(&fill(ct.audit_request, &[text(id)]));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        i18n::Lang,
        ids::{MsgId, OpenConversationId, StaffId},
    };

    #[test]
    fn a_record_reads_as_one_line() {
        let r = AuditRecord {
            at_ms: 0,
            msg_id: MsgId::parse("m").unwrap(),
            conversation: OpenConversationId::parse("cid").unwrap(),
            chat: None,
            sender_staff_id: StaffId::parse("s1").ok(),
            sender_nick: "张三".into(),
            command: "lock-friending".into(),
            args: String::new(),
            outcome: "failed".into(),
            errcode: Some("43007".into()),
            request_id: Some("r9".into()),
            duration_ms: 3,
            source: None,
        };
        assert_eq!(
            line(&r, Lang::En.contact_texts()),
            "- `1970-01-01 08:00:00` 张三 (s1) `/lock-friending`: failed (43007), request id `r9`"
        );
    }

    #[test]
    fn the_count_is_checked() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let parse_words = |w: &[String]| {
            count(&crate::commands::Args {
                words: w,
                lang: Lang::En,
                mentions: &[],
            })
        };
        assert_eq!(parse_words(&words(&[])), Ok(DEFAULT_COUNT));
        assert_eq!(parse_words(&words(&["50"])), Ok(50));
        assert_eq!(parse_words(&words(&["５"])), Ok(5), "full-width digits");
        for bad in ["0", "51", "x", "-1"] {
            assert!(
                matches!(parse_words(&words(&[bad])), Err(UsageError::Invalid { .. })),
                "{bad}"
            );
        }
    }
}
