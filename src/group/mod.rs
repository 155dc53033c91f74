//! A group as qunguan changes it in DingTalk: its six switches ([`Setting`]) and the one
//! path every change to it takes ([`Writer::read_modify_write`]): take the group's turn,
//! read chat/get fresh, let the caller decide what to change, send group/update with all
//! six switches (group/update resets a switch it is not sent). The commands (`/set` and
//! its siblings, `/rename`, `/add`, a confirmed `/kick` or `/transfer-owner`), their
//! schedules and `policy apply` all change a group through here. [`Greeter`] greets the
//! people who join a group with its welcome.

mod setting;
mod turns;
mod welcome;

pub use setting::{Setting, Words, in_words};
pub use turns::Turns;
pub use welcome::{Greeter, MAX_WELCOME_CHARS, render as render_welcome};

use crate::{
    dingtalk::{ChatInfo, DingTalkClient, DingTalkError, GroupUpdate, ManagementOptions},
    ids::{ChatId, OpenConversationId, StaffId},
    store::{Store, StoreError},
};

/// What a change sets; every switch it does not name is sent as chat/get reported it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patch {
    pub switches: Vec<(Setting, i64)>,
    pub name: Option<String>,
    pub add: Vec<StaffId>,
    pub remove: Vec<StaffId>,
    pub owner: Option<StaffId>,
}

impl Patch {
    /// One switch set to `value`.
    pub fn switch(setting: Setting, value: i64) -> Self {
        Self {
            switches: vec![(setting, value)],
            ..Self::default()
        }
    }

    /// Whether the group, as `info` shows it, is as this patch would make it.
    fn holds_in(&self, info: &ChatInfo) -> bool {
        let members = info.useridlist.as_deref().unwrap_or_default();
        let member = |id: &StaffId| members.iter().any(|m| m == id.as_str());
        self.switches
            .iter()
            .all(|(setting, value)| setting.current(info) == Some(*value))
            && self
                .name
                .as_ref()
                .is_none_or(|name| info.name.as_ref() == Some(name))
            && self.add.iter().all(member)
            && (info.useridlist.is_some() && !self.remove.iter().any(member))
            && self
                .owner
                .as_ref()
                .is_none_or(|owner| info.owner.as_deref() == Some(owner.as_str()))
    }

    fn update(self, chat: &ChatId, mut options: ManagementOptions) -> GroupUpdate {
        for (setting, value) in self.switches {
            setting.set(&mut options, value);
        }
        let mut update = GroupUpdate::new(chat, options)
            .add_members(&self.add)
            .remove_members(&self.remove);
        if let Some(owner) = &self.owner {
            update = update.owner(owner);
        }
        update.name = self.name;
        update
    }
}

/// What the caller decided, having seen the group as it is.
pub enum Edit<T> {
    /// Send nothing; answer `T`.
    Keep(T),
    /// Send the patch; answer `T` once it is sent.
    Send(T, Patch),
}

/// Whether to change the group, or only say what a change would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Change,
    /// Reads only, and takes no turn: a preview never waits for a change.
    Preview,
}

impl Mode {
    /// A dry run previews.
    pub fn of_dry_run(dry_run: bool) -> Self {
        if dry_run { Mode::Preview } else { Mode::Change }
    }
}

/// How a change ended.
#[derive(Debug)]
pub enum Changed<T> {
    /// Nothing was sent (nothing to change, a refusal, or a preview).
    Kept(T),
    /// group/update was sent; DingTalk's request id.
    Sent(T, Option<String>),
    /// group/update failed: nothing is known to have changed.
    NotSent(T, DingTalkError),
    /// chat/get left out this switch, and a change sends all six: a guess could change one
    /// nobody named, so nothing was sent.
    Unreadable(&'static str),
}

/// Why a change could not be tried: the group's turn or chat/get failed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    DingTalk(#[from] DingTalkError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a change works through: DingTalk, and the turns it takes (this process's and the
/// store's).
#[derive(Clone, Copy)]
pub struct Writer<'a> {
    pub dingtalk: &'a DingTalkClient,
    pub store: &'a dyn Store,
    pub turns: &'a Turns,
}

impl Writer<'_> {
    /// Changes the group `group` (whose chatid is `chat`): in its turn, reads chat/get
    /// fresh, asks `modify` what to do, and sends it. A preview takes no turn and sends
    /// nothing.
    pub async fn read_modify_write<T>(
        &self,
        group: &OpenConversationId,
        chat: &ChatId,
        mode: Mode,
        modify: impl FnOnce(&ChatInfo) -> Edit<T>,
    ) -> Result<Changed<T>, ChangeError> {
        let turn = match mode {
            Mode::Change => Some(self.turns.take(group).await?),
            Mode::Preview => None,
        };
        let changed = self.change(chat, mode, modify).await;
        if let Some(turn) = turn {
            turn.release().await;
        }
        changed
    }

    async fn change<T>(
        &self,
        chat: &ChatId,
        mode: Mode,
        modify: impl FnOnce(&ChatInfo) -> Edit<T>,
    ) -> Result<Changed<T>, ChangeError> {
        let info = self.dingtalk.chat_info_fresh(chat).await?;
        let (value, patch) = match modify(&info) {
            Edit::Keep(value) => return Ok(Changed::Kept(value)),
            Edit::Send(value, patch) => (value, patch),
        };
        let options = match ManagementOptions::from_info(&info) {
            Ok(options) => options,
            Err(field) => return Ok(Changed::Unreadable(field)),
        };
        if mode == Mode::Preview {
            return Ok(Changed::Kept(value));
        }
        let wanted = patch.clone();
        Ok(
            match self
                .dingtalk
                .update_group(&patch.update(chat, options))
                .await
            {
                Ok(request_id) => Changed::Sent(value, request_id),
                Err(e) => self.verify(chat, &wanted, value, e).await,
            },
        )
    }

    /// group/update failed, but DingTalk may have applied it (its answer lost on the way,
    /// or a retry refused because the first try had done it): the group is read again,
    /// and a change it shows made is reported made.
    async fn verify<T>(
        &self,
        chat: &ChatId,
        wanted: &Patch,
        value: T,
        e: DingTalkError,
    ) -> Changed<T> {
        match self.dingtalk.chat_info_fresh(chat).await {
            Ok(now) if wanted.holds_in(&now) => {
                tracing::warn!(chatid = %chat, error = %e, "group/update failed, but the group now is as it asked: the change was made");
                Changed::Sent(value, e.request_id)
            }
            _ => Changed::NotSent(value, e),
        }
    }
}
