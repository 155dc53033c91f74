//! The audit trail: one record per run of a changing command, in the store and in the log.

use std::time::Duration;

use super::Answer;
use crate::{
    app::App,
    clock::now_ms,
    ids::ChatId,
    incoming::Incoming,
    store::{AuditRecord, Store, StoreError},
};

/// Writes the record of one run of `command` with `words` as typed. A store failure is
/// logged (the log line carries the same fields) and does not hold back the reply.
pub async fn record(
    app: &App,
    msg: &Incoming,
    command: &'static str,
    words: &[String],
    chat: Option<ChatId>,
    answer: &Answer,
    took: Duration,
) {
    let record = AuditRecord {
        at_ms: now_ms(),
        msg_id: msg.msg_id.clone(),
        conversation: msg.conversation.clone(),
        chat,
        sender_staff_id: msg.sender.staff_id.clone(),
        sender_nick: msg.sender.nick.clone(),
        command: answer
            .audit_as
            .as_ref()
            .map_or(command, |a| a.command)
            .to_owned(),
        args: answer
            .audit_as
            .as_ref()
            .map_or_else(|| quoted(words), |a| a.args.clone()),
        outcome: answer.outcome.audited().to_owned(),
        errcode: answer.errcode.clone(),
        request_id: answer.request_id.clone(),
        duration_ms: took.as_millis() as i64,
        source: msg.source.clone(),
    };
    // Logged by `write`; the reply goes out regardless.
    let _ = write(app.store.as_ref(), record).await;
}

/// Logs `record` and appends it to the store's audit trail; a store failure is logged too,
/// and returned for whoever must not go on without the record.
pub async fn write(store: &dyn Store, record: AuditRecord) -> Result<(), StoreError> {
    tracing::info!(
        target: crate::telemetry::AUDIT_TARGET,
        at_ms = record.at_ms,
        msg_id = %record.msg_id,
        cid = %record.conversation,
        chatid = record.chat.as_ref().map(ChatId::as_str),
        staff_id = record.sender_staff_id.as_ref().map(|s| s.as_str()),
        nick = ?record.sender_nick,
        command = %record.command,
        args = ?record.args,
        outcome = %record.outcome,
        errcode = record.errcode.as_deref(),
        request_id = record.request_id.as_deref(),
        duration_ms = record.duration_ms,
        source = record.source.as_deref(),
        "audit"
    );
    let msg_id = record.msg_id.clone();
    let written = store.record_audit(record).await;
    if let Err(e) = &written {
        tracing::error!(%msg_id, error = %e, "cannot write the audit record");
    }
    written
}

/// Arguments as typed, quoting any that contain spaces.
pub fn quoted(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if w.is_empty() || w.chars().any(char::is_whitespace) {
                format!("\"{w}\"")
            } else {
                w.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::Outcome;

    #[test]
    fn arguments_with_spaces_are_quoted() {
        let words = vec![
            "u1".to_owned(),
            "title=开发 工程师".to_owned(),
            String::new(),
        ];
        assert_eq!(quoted(&words), r#"u1 "title=开发 工程师" """#);
    }

    #[test]
    fn outcomes_fold_into_done_refused_failed() {
        assert_eq!(Outcome::Usage.audited(), "refused");
        assert_eq!(Outcome::Timeout.audited(), "failed");
        assert_eq!(Outcome::Done.audited(), "done");
    }
}
