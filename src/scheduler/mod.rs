//! Runs due schedules (made by `/schedule`), exactly once however many replicas run.
//!
//! Every [`TICK`], each replica reads the schedules that are due and claims each run in
//! the store ([`crate::store::Store::claim_schedule`]): the claim moves the schedule to its
//! next run, and only the replica whose claim moved it runs the command. A run missed
//! while qunguan was down is found by the first tick after start-up: it still runs if it
//! is at most `QUNGUAN_SCHEDULE_GRACE_SECS` late, and is skipped otherwise; both are
//! logged and audited. A run goes through the same dispatcher as a typed command, as its
//! creator, so the admin check happens again then, and its answer is announced in the
//! group through the OpenAPI group send (no sessionWebhook lives that long).
//!
//! A claim marks the run started, with a lease ([`RUN_LEASE`]) its replica renews while
//! the run lasts ([`lease`]); finishing records the outcome and ends it, once. A replica killed after
//! its claim leaves a run whose lease runs out unfinished: the next tick of any replica
//! (or of this one, restarted) takes it over and runs it, if it is still within the grace
//! period, or records it skipped. A schedule has one run under way at a time.

mod lease;

use std::{collections::HashMap, sync::Arc, time::Duration};

use tokio::sync::OwnedSemaphorePermit;
use tracing::Instrument;

use crate::{
    admission,
    app::App,
    clock::now_ms,
    commands::{Rule, journal},
    i18n::{fill, text},
    ids::{MsgId, OpenConversationId},
    incoming::{Content, ConversationKind, Incoming, Sender},
    message::CommandLine,
    reply::Reply,
    store::{AuditRecord, Schedule, StoreError},
};

/// How often due schedules are looked for: a run starts at most this late (plus the
/// time the runs before it in the same tick take to start).
pub const TICK: Duration = Duration::from_secs(15);

pub use lease::RUN_LEASE;

/// Schedules read per store query.
const BATCH: usize = 100;

/// Looks for due schedules every [`TICK`], the first time at once (start-up), forever.
pub async fn run(app: Arc<App>) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(e) = tick(&app, now_ms()).await {
            tracing::warn!(error = %e, "cannot read the schedules; trying again at the next tick");
        }
    }
}

/// Claims and starts every run due at `now_ms` (tests pass their own clock). Returns
/// how many this replica claimed. They run on the background worker, like commands; the
/// runs of one group run one after another, in the order they were due, so two changes
/// due at the same minute do not each send the six settings read before the other.
pub async fn tick(app: &Arc<App>, now_ms: i64) -> Result<usize, StoreError> {
    let mut claimed = 0;
    loop {
        let due = app.store.due_schedules(now_ms, BATCH).await?;
        let mut groups: HashMap<OpenConversationId, (OwnedSemaphorePermit, Vec<Claimed>)> =
            HashMap::new();
        for schedule in &due {
            let Some(pending) = lease::pending(schedule, now_ms) else {
                continue;
            };
            // A slot first: a run that was claimed must be able to start.
            if !groups.contains_key(&schedule.group) {
                let Some(slot) = app.worker.reserve() else {
                    tracing::warn!(
                        schedule = schedule.id,
                        "no command slot free; the schedule waits for the next tick"
                    );
                    continue;
                };
                groups.insert(schedule.group.clone(), (slot, Vec::new()));
            }
            let rule = Rule::from_canonical(&schedule.rule);
            let next_ms = rule
                .as_ref()
                .and_then(|r| r.next_after(now_ms, &app.config.timezone));
            let Some(due_ms) = lease::take(app, schedule, pending, next_ms, now_ms).await? else {
                continue;
            };
            claimed += 1;
            let runs = &mut groups.get_mut(&schedule.group).expect("inserted above").1;
            runs.push(Claimed {
                due_ms,
                msg: message(schedule, due_ms),
                schedule: schedule.clone(),
                readable: rule.is_some(),
                late_ms: now_ms - due_ms,
            });
        }
        let started: usize = groups.values().map(|(_, runs)| runs.len()).sum();
        for (slot, runs) in groups.into_values() {
            let Some(first) = runs.first() else {
                continue;
            };
            let msg_id = first.msg.msg_id.clone();
            app.worker
                .spawn(slot, msg_id, run_in_turn(app.clone(), runs));
        }
        // Claimed runs have moved on; a full batch may hide more that are due.
        if due.len() < BATCH || started == 0 {
            return Ok(claimed);
        }
    }
}

/// Runs one group's claimed runs, one after another, and records how each ended; their
/// leases are renewed meanwhile.
async fn run_in_turn(app: Arc<App>, runs: Vec<Claimed>) {
    let held = runs.iter().map(|r| (r.schedule.id, r.due_ms)).collect();
    let renewing = tokio::spawn(lease::renew(app.clone(), held));
    for run in runs {
        // Each run's log lines carry its msgId, as a delivered message's do.
        let span = tracing::info_span!("schedule", id = run.schedule.id, msg_id = %run.msg.msg_id);
        let outcome = if run.readable {
            run_claimed(&app, &run.schedule, &run.msg, run.late_ms)
                .instrument(span)
                .await
        } else {
            unreadable(&app, &run.schedule, &run.msg)
                .instrument(span)
                .await
        };
        if let Err(e) = app
            .store
            .finish_schedule(run.schedule.id, run.due_ms, outcome)
            .await
        {
            tracing::warn!(schedule = run.schedule.id, error = %e, "cannot record how the schedule's run ended");
        }
    }
    renewing.abort();
}

/// A run this replica claimed, waiting for its turn in its group.
struct Claimed {
    due_ms: i64,
    schedule: Schedule,
    msg: Incoming,
    /// Whether this build can read the schedule's rule.
    readable: bool,
    late_ms: i64,
}

/// The message a run sends through the dispatcher: from the creator, in the group.
fn message(s: &Schedule, due_ms: i64) -> Incoming {
    Incoming {
        msg_id: MsgId::parse(&format!("schedule-{}-{due_ms}", s.id))
            .expect("a plain ASCII id is a msgId"),
        conversation: s.group.clone(),
        kind: ConversationKind::Group,
        title: None,
        sender: Sender {
            staff_id: Some(s.creator.clone()),
            nick: s.creator_nick.clone(),
            // Org-admin status comes only with a member's own message; a schedule of an
            // org admin is refused when it is made.
            is_org_admin: false,
        },
        mentions: Vec::new(),
        content: Content::Text(s.command.clone()),
        webhook: None,
        source: Some(format!("schedule #{}", s.id)),
    }
}

/// Runs one claimed run (or skips it, if it is later than the grace period) and says
/// how it ended.
async fn run_claimed(app: &App, s: &Schedule, msg: &Incoming, late_ms: i64) -> &'static str {
    let grace_ms = app.config.schedule_grace.as_millis() as i64;
    if late_ms > grace_ms {
        tracing::warn!(
            schedule = s.id, cid = %s.group, command = ?s.command, late_secs = late_ms / 1000,
            "schedule skipped: its run was missed by more than QUNGUAN_SCHEDULE_GRACE_SECS"
        );
        audit_without_run(app, s, msg, "skipped", Some("late")).await;
        return "skipped";
    }
    if late_ms > 2 * TICK.as_millis() as i64 {
        tracing::info!(schedule = s.id, cid = %s.group, late_secs = late_ms / 1000, "running a schedule missed while qunguan was down");
    }
    // The run's answer goes to the group behind a line saying which schedule ran it;
    // the reply path logs a delivery that fails.
    let announce = |answer: Reply| {
        let st = app.config.lang.schedule_texts();
        let id = s.id.to_string();
        let title = fill(st.announce_title, &[text(&s.command)]);
        let head = fill(
            st.announce,
            &[text(&s.command), text(&s.creator_nick), text(&id)],
        );
        Reply::new(title, format!("{head}\n\n{}", answer.text))
            .bounded(app.config.lang.texts().reply_cut)
    };
    let outcome = admission::run_and_reply(app, msg, announce).await;
    tracing::info!(schedule = s.id, cid = %s.group, outcome = outcome.audited(), "schedule ran");
    outcome.audited()
}

/// A schedule whose rule this build cannot read (written by a newer qunguan): it is
/// not run, and no longer due.
async fn unreadable(app: &App, s: &Schedule, msg: &Incoming) -> &'static str {
    tracing::error!(schedule = s.id, cid = %s.group, rule = %s.rule, "schedule not run: its rule cannot be read");
    audit_without_run(app, s, msg, "failed", Some("rule")).await;
    "failed"
}

async fn audit_without_run(
    app: &App,
    s: &Schedule,
    msg: &Incoming,
    outcome: &str,
    errcode: Option<&str>,
) {
    let (command, args) = match CommandLine::parse(&s.command) {
        Some(line) => (line.name, journal::quoted(&line.args)),
        None => (s.command.clone(), String::new()),
    };
    let record = AuditRecord {
        at_ms: now_ms(),
        msg_id: msg.msg_id.clone(),
        conversation: s.group.clone(),
        chat: app.store.binding(&s.group).await.ok().flatten(),
        sender_staff_id: Some(s.creator.clone()),
        sender_nick: s.creator_nick.clone(),
        command,
        args,
        outcome: outcome.to_owned(),
        errcode: errcode.map(str::to_owned),
        request_id: None,
        duration_ms: 0,
        source: msg.source.clone(),
    };
    let _ = journal::write(app.store.as_ref(), record).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_a_message_from_its_creator_with_the_schedule_as_its_source() {
        let s = Schedule {
            id: 3,
            ..lease::tests::schedule(Some(5), None)
        };
        let msg = message(&s, 5);
        assert_eq!(msg.msg_id.as_str(), "schedule-3-5");
        assert_eq!(msg.sender.staff_id.as_ref().unwrap().as_str(), "zhangwei");
        assert!(!msg.sender.is_org_admin);
        assert!(msg.webhook.is_none(), "announced through the OpenAPI");
        assert_eq!(msg.source.as_deref(), Some("schedule #3"));
    }
}
