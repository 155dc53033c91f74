//! A deadline on every store call: a database that hangs (frozen, its connections open but
//! nothing answering) costs a caller at most `QUNGUAN_STORE_TIMEOUT_SECS`, after which the
//! call fails with [`StoreError::Timeout`] and the caller answers as for a database that
//! is down (503, no acknowledgement, `LATER`).
//!
//! A msgId claim is the one call whose late success matters: the statement may still be
//! applied once the database wakes, and then every redelivery is a repeat. So a claim that
//! misses its deadline is not dropped but handed back ([`InTime::Late`], by the backend
//! whose claims can be late, [`Store::claim_in_time`]): its caller keeps it and runs the
//! message if the claim lands as new, so the message runs once, late, rather than never.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use async_trait::async_trait;

use super::{
    AuditRecord, BindOutcome, Claim, ConfirmTake, Confirmation, NewSchedule, RunTakeover, Schedule,
    ScheduleClaim, Store, StoreError, Welcome, WelcomeTurn,
};
use crate::ids::{ChatId, MsgId, OpenConversationId, StaffId};

/// A store whose every call has a deadline.
pub struct Bounded {
    inner: Arc<dyn Store>,
    deadline: Duration,
}

/// A claim that missed its deadline, still under way.
pub type LateClaim = Pin<Box<dyn Future<Output = Result<Claim, StoreError>> + Send>>;

/// What [`Bounded::claim_in_time`] found.
pub enum InTime {
    /// The claim was decided (or failed) within the deadline.
    Now(Result<Claim, StoreError>),
    /// Not decided yet: the caller answers as for a database that is down, and keeps
    /// this to run the message if it lands as [`Claim::New`].
    Late(LateClaim),
}

impl Bounded {
    pub fn new(inner: Arc<dyn Store>, deadline: Duration) -> Self {
        Self { inner, deadline }
    }

    async fn within<T>(
        &self,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(self.deadline, call)
            .await
            .unwrap_or(Err(StoreError::Timeout(self.deadline)))
    }
}

#[async_trait]
impl Store for Bounded {
    /// Within the deadline; a claim that lands after it is given up again, so a
    /// redelivery runs. Transports use [`Store::claim_in_time`] instead, which keeps the
    /// message running rather than racing its redelivery.
    async fn claim_message(&self, msg_id: &MsgId, now_ms: i64) -> Result<Claim, StoreError> {
        match self
            .inner
            .claim_in_time(msg_id, now_ms, self.deadline)
            .await
        {
            InTime::Now(decided) => decided,
            InTime::Late(late) => {
                let inner = self.inner.clone();
                let msg_id = msg_id.clone();
                tokio::spawn(async move {
                    if let Ok(Claim::New) = late.await {
                        let _ = inner.release_message(&msg_id).await;
                    }
                });
                Err(StoreError::Timeout(self.deadline))
            }
        }
    }

    async fn claim_in_time(&self, msg_id: &MsgId, now_ms: i64, deadline: Duration) -> InTime {
        self.inner.claim_in_time(msg_id, now_ms, deadline).await
    }

    async fn release_message(&self, msg_id: &MsgId) -> Result<(), StoreError> {
        self.within(self.inner.release_message(msg_id)).await
    }

    async fn forget_messages(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.within(self.inner.forget_messages(now_ms)).await
    }

    fn messages_in_memory(&self) -> Option<usize> {
        self.inner.messages_in_memory()
    }

    async fn flush_messages(&self) {
        let _ = tokio::time::timeout(self.deadline, self.inner.flush_messages()).await;
    }

    async fn binding(&self, group: &OpenConversationId) -> Result<Option<ChatId>, StoreError> {
        self.within(self.inner.binding(group)).await
    }

    async fn bind(
        &self,
        group: &OpenConversationId,
        chat: &ChatId,
        now_ms: i64,
    ) -> Result<BindOutcome, StoreError> {
        self.within(self.inner.bind(group, chat, now_ms)).await
    }

    async fn unbind(&self, group: &OpenConversationId) -> Result<Option<ChatId>, StoreError> {
        self.within(self.inner.unbind(group)).await
    }

    async fn forget_group(&self, group: &OpenConversationId) -> Result<(), StoreError> {
        self.within(self.inner.forget_group(group)).await
    }

    async fn welcome(&self, group: &OpenConversationId) -> Result<Option<Welcome>, StoreError> {
        self.within(self.inner.welcome(group)).await
    }

    async fn set_welcome(
        &self,
        group: &OpenConversationId,
        welcome: &Welcome,
    ) -> Result<(), StoreError> {
        self.within(self.inner.set_welcome(group, welcome)).await
    }

    async fn remove_welcome(&self, group: &OpenConversationId) -> Result<bool, StoreError> {
        self.within(self.inner.remove_welcome(group)).await
    }

    async fn claim_welcome(
        &self,
        group: &OpenConversationId,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<WelcomeTurn, StoreError> {
        self.within(self.inner.claim_welcome(group, now_ms, window_ms))
            .await
    }

    async fn record_audit(&self, record: AuditRecord) -> Result<(), StoreError> {
        self.within(self.inner.record_audit(record)).await
    }

    async fn recent_audit(
        &self,
        group: &OpenConversationId,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        self.within(self.inner.recent_audit(group, limit)).await
    }

    async fn save_confirmation(&self, pending: &Confirmation) -> Result<bool, StoreError> {
        self.within(self.inner.save_confirmation(pending)).await
    }

    async fn take_confirmation(
        &self,
        group: &OpenConversationId,
        code: &str,
        requester: &StaffId,
        now_ms: i64,
    ) -> Result<ConfirmTake, StoreError> {
        self.within(self.inner.take_confirmation(group, code, requester, now_ms))
            .await
    }

    async fn lease_group(
        &self,
        group: &OpenConversationId,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        self.within(self.inner.lease_group(group, holder, now_ms, until_ms))
            .await
    }

    async fn end_group_lease(
        &self,
        group: &OpenConversationId,
        holder: &str,
    ) -> Result<(), StoreError> {
        self.within(self.inner.end_group_lease(group, holder)).await
    }

    async fn bindings(&self) -> Result<Vec<(OpenConversationId, ChatId)>, StoreError> {
        self.within(self.inner.bindings()).await
    }

    async fn add_schedule(
        &self,
        schedule: &NewSchedule,
        at_most: usize,
    ) -> Result<Option<i64>, StoreError> {
        self.within(self.inner.add_schedule(schedule, at_most))
            .await
    }

    async fn schedules(&self, group: &OpenConversationId) -> Result<Vec<Schedule>, StoreError> {
        self.within(self.inner.schedules(group)).await
    }

    async fn remove_schedule(
        &self,
        group: &OpenConversationId,
        id: i64,
    ) -> Result<bool, StoreError> {
        self.within(self.inner.remove_schedule(group, id)).await
    }

    async fn due_schedules(&self, now_ms: i64, limit: usize) -> Result<Vec<Schedule>, StoreError> {
        self.within(self.inner.due_schedules(now_ms, limit)).await
    }

    async fn claim_schedule(&self, claim: &ScheduleClaim) -> Result<bool, StoreError> {
        self.within(self.inner.claim_schedule(claim)).await
    }

    async fn retake_schedule_run(&self, takeover: &RunTakeover) -> Result<bool, StoreError> {
        self.within(self.inner.retake_schedule_run(takeover)).await
    }

    async fn renew_schedule_run(&self, id: i64, due_ms: i64, by_ms: i64) -> Result<(), StoreError> {
        self.within(self.inner.renew_schedule_run(id, due_ms, by_ms))
            .await
    }

    async fn finish_schedule(&self, id: i64, due_ms: i64, outcome: &str) -> Result<(), StoreError> {
        self.within(self.inner.finish_schedule(id, due_ms, outcome))
            .await
    }

    async fn check(&self) -> Result<(), StoreError> {
        self.within(self.inner.check()).await
    }
}
