//! Admission, one step for every transport: a decoded message is ignored, refused for
//! lack of room, recognised as a repeat (the replay defence, [`crate::store::Store::claim_message`]),
//! or accepted, to run in the background, where its command runs and its reply is
//! delivered. The transport only maps the [`Admission`] to its own answer (an HTTP status,
//! a Stream ack) and starts accepted work when it has answered.

use std::{sync::Arc, time::Duration};

use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use crate::{
    app::App,
    clock::now_ms,
    commands::{Outcome, dispatch},
    incoming::{Content, ConversationKind, Incoming},
    reply::{self, Reply},
    store::{Claim, InTime, LateClaim},
};

/// How long delivering one reply may take, fallback included.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// What became of a message handed to [`admit`].
// Returned once per message and moved straight into the worker: boxing the accepted
// message would cost an allocation per callback for nothing.
#[allow(clippy::large_enum_variant)]
pub enum Admission {
    /// It will run: its slot is held and its msgId claimed; [`Admitted::start`] runs it.
    Accepted(Admitted),
    /// A group message without text: nothing to do.
    Ignored,
    /// Its msgId was seen before: acknowledged, not run again.
    Duplicate,
    /// Every command slot is taken: DingTalk should deliver it again later.
    Busy,
    /// The replay defence is full: DingTalk should deliver it again later.
    DedupeFull,
    /// The store could not claim the msgId (the database is down): DingTalk should
    /// deliver it again later.
    Unavailable,
}

impl Admission {
    /// The metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Admission::Accepted(_) => "accepted",
            Admission::Ignored => "ignored",
            Admission::Duplicate => "duplicate",
            Admission::Busy => "busy",
            Admission::DedupeFull => "dedupe_full",
            Admission::Unavailable => "unavailable",
        }
    }
}

/// A message that will run. Nothing has started yet, so a transport can acknowledge first
/// and then [`Admitted::start`] it.
pub struct Admitted {
    app: Arc<App>,
    slot: OwnedSemaphorePermit,
    incoming: Incoming,
}

impl Admitted {
    /// Runs the command in the background, in the span of the request or frame that
    /// brought it (which carries its msgId), so its log lines can be told apart.
    pub fn start(self) {
        let span = tracing::Span::current();
        let msg_id = self.incoming.msg_id.clone();
        let work = process(self.app.clone(), self.incoming).instrument(span);
        self.app.worker.spawn(self.slot, msg_id, work);
    }
}

/// Decides whether one verified, decoded message runs, without starting it; never waits
/// on DingTalk.
pub async fn admit(app: &Arc<App>, incoming: Incoming) -> Admission {
    if incoming.kind == ConversationKind::Group && matches!(incoming.content, Content::Other(_)) {
        return Admission::Ignored;
    }
    let Some(slot) = app.worker.reserve() else {
        if let Some(suppressed) = app.overloaded.admit(now_ms()) {
            tracing::warn!(
                suppressed,
                "all command slots busy; asking DingTalk to retry"
            );
        }
        return Admission::Busy;
    };
    let claim = match app
        .store
        .claim_in_time(&incoming.msg_id, now_ms(), app.config.store_timeout)
        .await
    {
        InTime::Now(Ok(claim)) => claim,
        InTime::Now(Err(e)) => {
            if let Some(suppressed) = app.overloaded.admit(now_ms()) {
                tracing::error!(error = %e, suppressed, "cannot claim the msgId in the database; asking DingTalk to retry");
            }
            return Admission::Unavailable;
        }
        InTime::Late(late) => {
            if let Some(suppressed) = app.overloaded.admit(now_ms()) {
                tracing::error!(
                    suppressed,
                    "the database did not answer in time; asking DingTalk to retry"
                );
            }
            run_if_claimed_late(app, slot, incoming, late);
            return Admission::Unavailable;
        }
    };
    match claim {
        Claim::New => {}
        Claim::Seen => {
            if let Some(suppressed) = app.duplicates.admit(now_ms()) {
                tracing::info!(suppressed, "duplicate msgId acknowledged, not run again");
            }
            return Admission::Duplicate;
        }
        Claim::Full => {
            if let Some(suppressed) = app.overloaded.admit(now_ms()) {
                tracing::warn!(
                    suppressed,
                    "QUNGUAN_MAX_REMEMBERED_MSGIDS reached; asking DingTalk to retry"
                );
            }
            return Admission::DedupeFull;
        }
    }
    Admission::Accepted(Admitted {
        app: app.clone(),
        slot,
        incoming,
    })
}

/// A claim that missed the store's deadline may still land: if it does, this delivery is
/// the one that runs (a redelivery would find the msgId taken), so it runs then, holding
/// its slot meanwhile, which bounds how many wait.
fn run_if_claimed_late(
    app: &Arc<App>,
    slot: OwnedSemaphorePermit,
    incoming: Incoming,
    late: LateClaim,
) {
    let span = tracing::Span::current();
    let msg_id = incoming.msg_id.clone();
    let app_ = app.clone();
    let work = async move {
        if let Ok(Claim::New) = late.await {
            tracing::info!("the database answered late; running the message it claimed");
            process(app_, incoming).await;
        }
    };
    app.worker.spawn(slot, msg_id, work.instrument(span));
}

/// Runs one acknowledged command and delivers its reply.
async fn process(app: Arc<App>, incoming: Incoming) {
    run_and_reply(&app, &incoming, |reply| reply).await;
}

/// Runs `incoming`'s command, counts it, and delivers its reply (as `framed` makes it:
/// a schedule announces itself) within the reply deadline; returns how it ended. Every
/// command runs through here, whether a member typed it or a schedule sent it.
pub async fn run_and_reply(
    app: &App,
    incoming: &Incoming,
    framed: impl FnOnce(Reply) -> Reply,
) -> Outcome {
    let _in_flight = app.metrics.in_flight();
    let started = std::time::Instant::now();
    let (command, answer) = dispatch::execute(app, incoming).await;
    let outcome = answer.outcome;
    app.metrics.command(command, outcome.label());
    let reply = framed(answer.into_reply(app.config.lang.texts()));
    let delivery = tokio::time::timeout(
        REPLY_TIMEOUT,
        reply::deliver(&app.dingtalk, &app.metrics, incoming, &reply, now_ms()),
    )
    .await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match delivery {
        Ok(Ok(path)) => tracing::debug!(
            command,
            outcome = outcome.label(),
            ?path,
            elapsed_ms,
            "command answered"
        ),
        Ok(Err(e)) => {
            tracing::error!(command, error = %e, "reply could not be delivered")
        }
        Err(_) => tracing::error!(command, "reply delivery timed out"),
    }
    outcome
}
