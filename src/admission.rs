//! Admission, one step for every transport: a decoded message is ignored, refused for
//! lack of room, recognised as a repeat (dedupe on msgId), or accepted and run in the
//! background, where its command runs and its reply is delivered. The transport only maps
//! the [`Admission`] to its own answer (an HTTP status, a Stream ack).

use std::{sync::Arc, time::Duration};

use tracing::Instrument;

use crate::{
    app::App,
    clock::now_ms,
    commands::dispatch,
    dedupe::Claim,
    incoming::{Content, ConversationKind, Incoming},
    reply,
};

/// How long delivering one reply may take, fallback included.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// What became of a message handed to [`admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Its command runs in the background.
    Accepted,
    /// A group message without text: nothing to do.
    Ignored,
    /// Its msgId was seen before: acknowledged, not run again.
    Duplicate,
    /// Every command slot is taken: DingTalk should deliver it again later.
    Busy,
    /// The replay defence is full: DingTalk should deliver it again later.
    DedupeFull,
}

impl Admission {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Admission::Accepted => "accepted",
            Admission::Ignored => "ignored",
            Admission::Duplicate => "duplicate",
            Admission::Busy => "busy",
            Admission::DedupeFull => "dedupe_full",
        }
    }
}

/// Admits one verified, decoded message; never waits on DingTalk.
pub fn admit(app: &Arc<App>, incoming: Incoming) -> Admission {
    if incoming.kind == ConversationKind::Group && matches!(incoming.content, Content::Other(_)) {
        return Admission::Ignored;
    }
    let Some(slot) = app.worker.reserve() else {
        if let Some(suppressed) = app.overloaded.admit(now_ms()) {
            tracing::warn!(msg_id = %incoming.msg_id, suppressed, "all command slots busy; asking DingTalk to retry");
        }
        return Admission::Busy;
    };
    match app.dedupe.claim(&incoming.msg_id, now_ms()) {
        Claim::New => {}
        Claim::Seen => {
            if let Some(suppressed) = app.duplicates.admit(now_ms()) {
                tracing::info!(msg_id = %incoming.msg_id, suppressed, "duplicate msgId acknowledged, not run again");
            }
            return Admission::Duplicate;
        }
        Claim::Full => {
            if let Some(suppressed) = app.overloaded.admit(now_ms()) {
                tracing::warn!(msg_id = %incoming.msg_id, suppressed, "QUNGUAN_MAX_REMEMBERED_MSGIDS reached; asking DingTalk to retry");
            }
            return Admission::DedupeFull;
        }
    }
    // DEBUG: at INFO, a span and a line per command cost a fifth of the throughput, and
    // metrics and the audit trail already account for every command.
    let span = tracing::debug_span!("command", msg_id = %incoming.msg_id);
    let msg_id = incoming.msg_id.clone();
    let work = process(app.clone(), incoming).instrument(span);
    app.worker.spawn(slot, msg_id, work);
    Admission::Accepted
}

/// Runs one acknowledged command and delivers its reply.
async fn process(app: Arc<App>, incoming: Incoming) {
    let _in_flight = app.metrics.in_flight();
    let started = std::time::Instant::now();
    let executed = dispatch::execute(&app, &incoming).await;
    app.metrics
        .command(executed.command, executed.outcome.label());
    let delivery = tokio::time::timeout(
        REPLY_TIMEOUT,
        reply::deliver(
            &app.dingtalk,
            &app.metrics,
            &incoming,
            &executed.reply,
            now_ms(),
        ),
    )
    .await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let msg_id = &incoming.msg_id;
    match delivery {
        Ok(Ok(path)) => tracing::debug!(
            %msg_id,
            command = executed.command,
            outcome = executed.outcome.label(),
            ?path,
            elapsed_ms,
            "command answered"
        ),
        Ok(Err(e)) => {
            tracing::error!(%msg_id, command = executed.command, error = %e, "reply could not be delivered")
        }
        Err(_) => tracing::error!(%msg_id, command = executed.command, "reply delivery timed out"),
    }
}
