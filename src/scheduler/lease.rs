//! A claimed run's lease: which run a due schedule offers (its next one, or one whose
//! claimant died before finishing it), taking it, and renewing the leases of the runs a
//! replica holds while they run.

use std::{sync::Arc, time::Duration};

use crate::{
    app::App,
    store::{RunTakeover, Schedule, ScheduleClaim, StoreError},
};

/// How long a claimed run is held without renewal: how late a run whose replica died is
/// taken over.
pub const RUN_LEASE: Duration = Duration::from_secs(60);

/// A replica renews the leases of the runs it holds this often.
const RENEW_EVERY: Duration = Duration::from_secs(15);

/// What a due schedule offers this tick.
pub(super) enum Pending {
    /// Its next run, due at this time.
    Due(i64),
    /// A run claimed before, unfinished, whose lease ran out.
    Abandoned(i64),
}

pub(super) fn pending(schedule: &Schedule, now_ms: i64) -> Option<Pending> {
    match (schedule.running, schedule.next_run_ms) {
        (Some(running), _) if running.until_ms <= now_ms => {
            Some(Pending::Abandoned(running.due_ms))
        }
        // Under way (here or on another replica): the next run waits for it.
        (Some(_), _) => None,
        (None, Some(due_ms)) if due_ms <= now_ms => Some(Pending::Due(due_ms)),
        (None, _) => None,
    }
}

/// Claims the run `pending` names (moving the schedule on to `next_ms`), or takes over the
/// abandoned one, held for [`RUN_LEASE`] from `now_ms`; the run's due time if this
/// replica has it.
pub(super) async fn take(
    app: &App,
    schedule: &Schedule,
    pending: Pending,
    next_ms: Option<i64>,
    now_ms: i64,
) -> Result<Option<i64>, StoreError> {
    let until_ms = now_ms + RUN_LEASE.as_millis() as i64;
    let (due_ms, taken) = match pending {
        Pending::Due(due_ms) => {
            let claim = ScheduleClaim {
                id: schedule.id,
                due_ms,
                next_ms,
                now_ms,
                until_ms,
            };
            (due_ms, app.store.claim_schedule(&claim).await?)
        }
        Pending::Abandoned(due_ms) => {
            let takeover = RunTakeover {
                id: schedule.id,
                due_ms,
                now_ms,
                until_ms,
            };
            let taken = app.store.retake_schedule_run(&takeover).await?;
            if taken {
                tracing::warn!(
                    schedule = schedule.id,
                    late_secs = (now_ms - due_ms) / 1000,
                    "taking over a scheduled run whose replica stopped before finishing it"
                );
            }
            (due_ms, taken)
        }
    };
    Ok(taken.then_some(due_ms))
}

/// Extends the leases of `held` runs `(id, due)` by the time that passed, every
/// [`RENEW_EVERY`], until aborted. A renewal that fails is made up by the next.
pub(super) async fn renew(app: Arc<App>, held: Vec<(i64, i64)>) {
    let mut renewed = std::time::Instant::now();
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let by_ms = renewed.elapsed().as_millis() as i64;
        let mut all = true;
        for &(id, due_ms) in &held {
            if let Err(e) = app.store.renew_schedule_run(id, due_ms, by_ms).await {
                tracing::warn!(schedule = id, error = %e, "cannot renew a scheduled run's lease");
                all = false;
            }
        }
        if all {
            renewed = std::time::Instant::now();
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::{
        ids::{OpenConversationId, StaffId},
        store::Running,
    };

    /// Zhang Wei's `daily 22:00 /mute-all` (#1), next due at `next_run_ms`, with the run
    /// under way `(due, until)` if any.
    pub(in crate::scheduler) fn schedule(
        next_run_ms: Option<i64>,
        running: Option<(i64, i64)>,
    ) -> Schedule {
        Schedule {
            id: 1,
            group: OpenConversationId::parse("cidG==").unwrap(),
            creator: StaffId::parse("zhangwei").unwrap(),
            creator_nick: "张伟".into(),
            rule: "daily 22:00".into(),
            command: "/mute-all".into(),
            created_at_ms: 0,
            next_run_ms,
            last_run_ms: None,
            last_outcome: None,
            running: running.map(|(due_ms, until_ms)| Running { due_ms, until_ms }),
        }
    }

    #[test]
    fn a_schedule_offers_its_due_run_or_an_abandoned_one_and_never_two_at_once() {
        let offered = |s: &Schedule, now| match pending(s, now) {
            Some(Pending::Due(due)) => format!("due {due}"),
            Some(Pending::Abandoned(due)) => format!("abandoned {due}"),
            None => "nothing".into(),
        };
        assert_eq!(offered(&schedule(Some(100), None), 100), "due 100");
        assert_eq!(offered(&schedule(Some(100), None), 99), "nothing");
        assert_eq!(offered(&schedule(None, None), 100), "nothing");
        // Under way: the next run waits, though due.
        assert_eq!(
            offered(&schedule(Some(200), Some((100, 300))), 250),
            "nothing"
        );
        // Its lease ran out: taken over before the next is claimed.
        assert_eq!(
            offered(&schedule(Some(200), Some((100, 300))), 300),
            "abandoned 100"
        );
    }
}
