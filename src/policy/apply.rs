//! `apply` of one group: its switches through the one write path (in the group's turn),
//! then friending (which cannot be read, so it is always set); every change and every
//! failed change audited with the file as its source.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{
    Run, command_of, failure,
    file::Key,
    plan::{Drift, Wanted, drift},
    report::{Change, GroupResult},
};
use crate::{
    clock::now_ms,
    commands::journal,
    dingtalk::DingTalkError,
    group::{ChangeError, Changed, Edit, Mode, Patch},
    ids::{ChatId, MsgId, OpenConversationId},
    store::AuditRecord,
};

/// What was changed in one group, and what failed.
#[derive(Default)]
struct Applied {
    changed: Vec<Change>,
    failed: Vec<String>,
}

impl Run<'_> {
    /// Makes group `w` as the file says; `index` numbers its audit records.
    pub(super) async fn apply(&self, index: usize, w: &Wanted) -> GroupResult {
        // The group's conversation id first: every change is audited under it.
        let cid = match self.cids.get(&w.chat) {
            Some(cid) => cid.clone(),
            None => match self.fleet.dingtalk.open_conversation_id(&w.chat).await {
                Ok(cid) => cid,
                Err(e) => return GroupResult::Failed(failure(&e)),
            },
        };
        let audit = Audit {
            run: self,
            index,
            cid: &cid,
            chat: &w.chat,
            written: AtomicUsize::new(0),
        };
        let mut applied = Applied::default();
        if let Err(failed) = self.switches(&audit, w, &mut applied).await {
            return GroupResult::Failed(failed);
        }
        self.friending(&audit, w, &mut applied).await;
        if applied.failed.is_empty() {
            GroupResult::Ok(applied.changed)
        } else {
            GroupResult::Failed(applied.failed.join("; "))
        }
    }

    /// The switches that drifted, in one group/update. `Err` when the group could not even
    /// be read or locked: nothing else is tried on it.
    async fn switches(
        &self,
        audit: &Audit<'_>,
        w: &Wanted,
        applied: &mut Applied,
    ) -> Result<(), String> {
        let changed = self
            .fleet
            .read_modify_write(audit.cid, &w.chat, Mode::Change, |info| {
                let drifted = drift(info, w);
                let switches: Vec<_> = drifted
                    .iter()
                    .filter_map(|d| match d.key {
                        Key::Switch(setting) => Some((setting, d.want)),
                        Key::Friending => None,
                    })
                    .collect();
                match switches.is_empty() {
                    true => Edit::Keep(drifted),
                    false => Edit::Send(
                        drifted,
                        Patch {
                            switches,
                            ..Patch::default()
                        },
                    ),
                }
            })
            .await;
        match changed {
            Ok(Changed::Kept(_)) => {}
            Ok(Changed::Sent(drifted, request_id)) => {
                audit.each(&drifted, &Ok(request_id)).await;
                applied.changed.extend(drifted.into_iter().map(Change::from));
            }
            Ok(Changed::NotSent(drifted, e)) => {
                applied.failed.push(failure(&e));
                audit.each(&drifted, &Err(e)).await;
            }
            Ok(Changed::Unreadable(field)) => applied.failed.push(format!(
                "chat/get did not report `{field}`, and a change sends all six settings; not changed"
            )),
            Err(ChangeError::DingTalk(e)) => return Err(failure(&e)),
            Err(ChangeError::Store(e)) => {
                return Err(format!("cannot lock the group's changes: {e}"));
            }
        }
        Ok(())
    }

    /// Friending, if the file sets it.
    async fn friending(&self, audit: &Audit<'_>, w: &Wanted, applied: &mut Applied) {
        let Some(&(locked, line)) = w.wants.get(&Key::Friending) else {
            return;
        };
        let result = self
            .fleet
            .dingtalk
            .set_friending_prohibited(&w.chat, locked == 1)
            .await;
        audit.write(Key::Friending, locked, &result).await;
        match result {
            Ok(_) => applied.changed.push(Change {
                key: Key::Friending,
                now: None,
                want: locked,
                line,
            }),
            Err(e) => applied.failed.push(failure(&e)),
        }
    }
}

/// Writes the audit records of one group's changes, numbered within the group.
struct Audit<'a> {
    run: &'a Run<'a>,
    index: usize,
    cid: &'a OpenConversationId,
    chat: &'a ChatId,
    written: AtomicUsize,
}

impl Audit<'_> {
    /// One record per drifted setting, all with the same outcome.
    async fn each(&self, drifted: &[Drift], outcome: &Result<Option<String>, DingTalkError>) {
        for d in drifted {
            self.write(d.key, d.want, outcome).await;
        }
    }

    async fn write(&self, key: Key, value: i64, outcome: &Result<Option<String>, DingTalkError>) {
        let n = 1 + self.written.fetch_add(1, Ordering::Relaxed);
        let id = format!("policy-{}-{}-{n}", self.run.batch, self.index);
        let Ok(msg_id) = MsgId::parse(&id) else {
            return;
        };
        let (command, args) = command_of(key, value);
        let record = AuditRecord {
            at_ms: now_ms(),
            msg_id,
            conversation: self.cid.clone(),
            chat: Some(self.chat.clone()),
            sender_staff_id: None,
            sender_nick: "policy".to_owned(),
            command: command.to_owned(),
            args,
            outcome: if outcome.is_ok() { "done" } else { "failed" }.to_owned(),
            errcode: outcome.as_ref().err().map(|e| e.code.clone()),
            request_id: match outcome {
                Ok(id) => id.clone(),
                Err(e) => e.request_id.clone(),
            },
            duration_ms: 0,
            source: Some(self.run.source.to_owned()),
        };
        let _ = journal::write(self.run.fleet.store, record).await;
    }
}
