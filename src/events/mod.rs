//! Group events, the side door: what happens to a group in the DingTalk client (people
//! added, removed or leaving, a new owner, a new name, the group dissolved), pushed over
//! Stream mode (an EVENT frame) or HTTP (`POST /events`, encrypted: [`crate::crypto`],
//! [`http`]).
//!
//! Each event is handled once, by its eventId, claimed in the store like a msgId, so a
//! redelivery, the same event over both transports, or two replicas each receiving it,
//! runs it once. Handling an event:
//!
//! - binds its group by itself, when it names both the chatid and the openConversationId
//!   and DingTalk confirms they belong together (so renaming a group, or adding someone to
//!   it, is enough to make every command work there);
//! - writes the change to the group's audit trail, marked as made in DingTalk;
//! - forgets the cached chat/get of a group with a new owner or name, and everything of a
//!   dissolved group but its audit trail;
//! - greets newcomers with the group's welcome ([`crate::group::Greeter`]), after.
//!
//! The transport acknowledges once that state is written ([`Handled::acknowledged`]); if it
//! cannot be (the database is down), the event is given back so DingTalk pushes it again.

pub mod http;
mod wire;

use std::sync::Arc;

pub use wire::{EventKind, GroupEvent, MAX_EVENT_BYTES, Unreadable};

use crate::{
    app::App,
    clock::now_ms,
    commands::journal,
    dingtalk::{DingTalkError, ErrorKind},
    ids::{ChatId, OpenConversationId},
    store::{AuditRecord, BindOutcome, Claim, DINGTALK_SOURCE, InTime, LateClaim, StoreError},
};

/// How handling an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// Its state is written.
    Done,
    /// Seen before (a redelivery, the other transport, another replica): not run again.
    Duplicate,
    /// It lacks what its handling needs (the field named); what could be done was.
    Incomplete(&'static str),
    /// Not an event qunguan acts on (beyond binding its group).
    Ignored,
    /// Its state could not be written: DingTalk should push it again.
    Later,
}

impl Handled {
    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Handled::Done => "handled",
            Handled::Duplicate => "duplicate",
            Handled::Incomplete(_) => "incomplete",
            Handled::Ignored => "ignored",
            Handled::Later => "later",
        }
    }

    /// Whether DingTalk should be told it is done (anything but [`Handled::Later`]).
    pub fn acknowledged(self) -> bool {
        self != Handled::Later
    }
}

/// Why an event's state could not be written now.
#[derive(Debug, thiserror::Error)]
enum Retry {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    DingTalk(#[from] DingTalkError),
}

/// Handles `event` on the background worker (so it counts against
/// `QUNGUAN_MAX_IN_FLIGHT` and shutdown waits for it), then tells `done` how it ended. With
/// every slot taken it is not started, and `done` hears [`Handled::Later`] at once.
pub fn start(app: &Arc<App>, event: GroupEvent, done: impl FnOnce(Handled) + Send + 'static) {
    let Some(slot) = app.worker.reserve() else {
        app.metrics.event(event.kind.label(), "busy");
        if let Some(suppressed) = app.overloaded.admit(now_ms()) {
            tracing::warn!(
                suppressed,
                "all slots busy; a group event is given back for later"
            );
        }
        return done(Handled::Later);
    };
    let id = event.key.clone();
    let work = {
        let app = app.clone();
        async move {
            let (handled, late) = handle(&app, &event).await;
            done(handled);
            // Given back for later because the database did not answer in time; if its
            // claim lands after all, the redelivery will be taken for a repeat, so it is
            // handled here, late, instead.
            if let Some(late) = late {
                if let Ok(Claim::New) = late.await {
                    tracing::info!("the database answered late; handling the event it claimed");
                    count(&app, &event, run_claimed(&app, &event).await);
                }
            }
        }
    };
    let span = tracing::Span::current();
    app.worker
        .spawn(slot, id, tracing::Instrument::instrument(work, span));
}

/// Handles one event once, and counts it; a claim still under way past the store's
/// deadline comes back with it.
async fn handle(app: &Arc<App>, event: &GroupEvent) -> (Handled, Option<LateClaim>) {
    let (handled, late) = handle_once(app, event).await;
    count(app, event, handled);
    (handled, late)
}

fn count(app: &App, event: &GroupEvent, handled: Handled) {
    let kind = event.kind.label();
    app.metrics.event(kind, handled.label());
    if let Handled::Incomplete(field) = handled {
        if let Some(suppressed) = app.rejections.admit(now_ms()) {
            tracing::warn!(
                kind,
                field,
                suppressed,
                "a group event lacks what its handling needs"
            );
        }
    }
}

async fn handle_once(app: &Arc<App>, event: &GroupEvent) -> (Handled, Option<LateClaim>) {
    if event.kind == EventKind::CheckUrl {
        return (Handled::Done, None);
    }
    let handled = match app
        .store
        .claim_in_time(&event.key, now_ms(), app.config.store_timeout)
        .await
    {
        InTime::Now(Ok(Claim::New)) => run_claimed(app, event).await,
        InTime::Now(Ok(Claim::Seen)) => Handled::Duplicate,
        InTime::Now(Ok(Claim::Full)) => Handled::Later,
        InTime::Now(Err(e)) => {
            tracing::error!(error = %e, "cannot claim a group event in the database; DingTalk will push it again");
            Handled::Later
        }
        InTime::Late(late) => {
            tracing::error!(
                "the database did not answer in time; DingTalk will push the group event again"
            );
            return (Handled::Later, Some(late));
        }
    };
    (handled, None)
}

/// Handles an event whose key this delivery claimed; gives the claim back if its state
/// could not be written.
async fn run_claimed(app: &Arc<App>, event: &GroupEvent) -> Handled {
    let key = &event.key;
    match apply(app, event).await {
        Ok(handled) => handled,
        Err(e) => {
            tracing::error!(event = %key, error = %e, "a group event could not be written; DingTalk will push it again");
            if let Err(e) = app.store.release_message(key).await {
                tracing::error!(error = %e, "cannot give the group event back; its redelivery will be taken for a repeat");
            }
            Handled::Later
        }
    }
}

/// The event's effect on qunguan's state; the welcome, if any, is started last.
async fn apply(app: &Arc<App>, event: &GroupEvent) -> Result<Handled, Retry> {
    let Some(group) = &event.group else {
        return Ok(match event.kind {
            EventKind::Other => Handled::Ignored,
            _ => Handled::Incomplete("openConversationId"),
        });
    };
    let chat = match event.kind {
        // A dissolved group is not bound on its way out.
        EventKind::Disbanded => app.store.binding(group).await?,
        _ => bind_if_new(app, event, group).await?,
    };
    let fact = Fact {
        app,
        event,
        group,
        chat: chat.as_ref(),
    };
    match event.kind {
        EventKind::MembersAdded | EventKind::MembersRemoved if event.members.is_empty() => {
            return Ok(Handled::Incomplete("userId"));
        }
        EventKind::MembersAdded => {
            fact.audit(&fact.members()).await?;
            app.greeter.greet(group.clone(), event.members.clone());
        }
        EventKind::MembersRemoved => fact.audit(&fact.members()).await?,
        EventKind::Quit if event.operator.is_none() => return Ok(Handled::Incomplete("operator")),
        EventKind::Quit => fact.audit("").await?,
        EventKind::OwnerChanged => {
            fact.forget_chat_info();
            let Some(owner) = &event.owner else {
                return Ok(Handled::Incomplete("owner"));
            };
            fact.audit(owner.as_str()).await?;
        }
        EventKind::Renamed => {
            fact.forget_chat_info();
            fact.audit(event.title.as_deref().unwrap_or_default())
                .await?;
        }
        EventKind::Disbanded => {
            fact.forget_chat_info();
            app.store.forget_group(group).await?;
            fact.audit("").await?;
            tracing::info!(cid = %group, "the group was dissolved: its binding, schedules, confirmations and welcome are gone");
        }
        EventKind::Other | EventKind::CheckUrl => return Ok(Handled::Ignored),
    }
    Ok(Handled::Done)
}

/// Binds `group` to the event's chatid, if it is not bound yet and DingTalk confirms the
/// pair; returns the group's chatid, bound before or now.
async fn bind_if_new(
    app: &App,
    event: &GroupEvent,
    group: &OpenConversationId,
) -> Result<Option<ChatId>, Retry> {
    if let Some(bound) = app.store.binding(group).await? {
        return Ok(Some(bound));
    }
    let Some(chat) = &event.chat else {
        return Ok(None);
    };
    let converted = match app.dingtalk.open_conversation_id(chat).await {
        Ok(cid) => cid,
        Err(e) if worth_retrying(&e) => return Err(e.into()),
        Err(e) => {
            tracing::warn!(chatid = %chat, cid = %group, error = %e, "an event's chatid could not be converted; its group is not bound");
            return Ok(None);
        }
    };
    if &converted != group {
        tracing::warn!(chatid = %chat, cid = %group, converted = %converted, "an event's chatid belongs to another group; nothing is bound");
        return Ok(None);
    }
    match app.store.bind(group, chat, now_ms()).await? {
        BindOutcome::Bound | BindOutcome::Replaced { .. } => {
            tracing::info!(chatid = %chat, cid = %group, "a group bound itself from a DingTalk event");
            let record = record(event, group, Some(chat), "bind", chat.as_str());
            journal::write(app.store.as_ref(), record).await?;
            Ok(Some(chat.clone()))
        }
        BindOutcome::AlreadyBound => Ok(Some(chat.clone())),
        BindOutcome::ChatTaken { by } => {
            tracing::warn!(chatid = %chat, cid = %group, bound_to = %by, "an event's chatid is bound to another group; nothing is bound");
            Ok(None)
        }
    }
}

/// A DingTalk failure that may pass: the event is better pushed again than half done.
fn worth_retrying(e: &DingTalkError) -> bool {
    matches!(
        e.kind,
        ErrorKind::Transient
            | ErrorKind::Unreachable
            | ErrorKind::Local
            | ErrorKind::Throttled
            | ErrorKind::TokenInvalid
    )
}

/// One event about one group, and what it changes.
struct Fact<'a> {
    app: &'a App,
    event: &'a GroupEvent,
    group: &'a OpenConversationId,
    chat: Option<&'a ChatId>,
}

impl Fact<'_> {
    /// The people the event is about, as the audit trail lists them.
    fn members(&self) -> String {
        let ids: Vec<&str> = self.event.members.iter().map(|m| m.as_str()).collect();
        ids.join(" ")
    }

    fn forget_chat_info(&self) {
        if let Some(chat) = self.chat.or(self.event.chat.as_ref()) {
            self.app.dingtalk.forget_chat_info(chat);
        }
    }

    /// The event in the group's audit trail, filed under its type with `args`.
    async fn audit(&self, args: &str) -> Result<(), StoreError> {
        let command = self.event.kind.label();
        let record = record(self.event, self.group, self.chat, command, args);
        journal::write(self.app.store.as_ref(), record).await
    }
}

/// An audit record of something done in the DingTalk client.
fn record(
    event: &GroupEvent,
    group: &OpenConversationId,
    chat: Option<&ChatId>,
    command: &str,
    args: &str,
) -> AuditRecord {
    AuditRecord {
        at_ms: event.at_ms.unwrap_or_else(now_ms),
        msg_id: event.key.clone(),
        conversation: group.clone(),
        chat: chat.cloned(),
        sender_staff_id: event.operator.clone(),
        sender_nick: String::new(),
        command: command.to_owned(),
        args: args.to_owned(),
        outcome: "done".to_owned(),
        errcode: None,
        request_id: None,
        duration_ms: 0,
        source: Some(DINGTALK_SOURCE.to_owned()),
    }
}
