//! What a command may use while it runs: the settings, DingTalk, the store, the group's
//! turns, its texts, and the message it answers. Nothing of the transport, and no more of
//! the application than this.

use super::{
    Answer, CommandError,
    permission::{self, Admin, AdminStatus, OwnerRead},
};
use crate::{
    config::Config,
    dingtalk::{ChatInfo, DingTalkClient, DingTalkError},
    group::{Changed, Edit, Mode, Turns, Writer},
    i18n::{Texts, fill, md},
    ids::{ChatId, StaffId},
    incoming::Incoming,
    markdown,
    store::Store,
};

/// Someone as `/info` and `/audit` show them: "李娜 (lina01)" where DingTalk gives a name,
/// or the staff id alone; inert.
pub fn person(id: &str, name: Option<&str>) -> String {
    let id = markdown::inert(id, markdown::ECHO_LIMIT);
    match name {
        Some(name) => format!("{} ({id})", markdown::inert(name, markdown::ECHO_LIMIT)),
        None => id,
    }
}

/// Everything a command may use while it runs.
pub struct Context<'a> {
    pub config: &'a Config,
    pub dingtalk: &'a DingTalkClient,
    pub store: &'a dyn Store,
    pub turns: &'a Turns,
    pub texts: &'static Texts,
    /// The message being answered.
    pub msg: &'a Incoming,
    /// `--dry-run` (or `预览`) was given: say what would change, call nothing but reads.
    pub dry_run: bool,
    /// The group's chatid, when its spec uses the binding and the group is bound (a run
    /// made with [`super::Command::in_group`] gets it as an argument as well).
    pub binding: Option<&'a ChatId>,
    /// The sender, for an admins' command: checked to be one before the run.
    pub admin: Option<Admin<'a>>,
}

impl<'a> Context<'a> {
    /// Whether the sender is an admin where they wrote, and why.
    pub async fn admin_status(&self, read: OwnerRead) -> Result<AdminStatus<'a>, DingTalkError> {
        permission::admin_status(self.config, self.dingtalk, self.msg, self.binding, read).await
    }

    /// The admin running an admins' command ([`super::Access::Admin`]).
    pub fn admin(&self) -> Result<Admin<'a>, CommandError> {
        self.admin.ok_or(CommandError::Internal(
            "an admins' command ran without its admin check",
        ))
    }

    /// People as the group reads them, by name where DingTalk gives one: "李娜
    /// (`lina01`)", or the staff id alone; joined by commas.
    pub async fn people(&self, ids: &[StaffId]) -> String {
        let names = self.dingtalk.names_of(ids, self.config.lang).await;
        let shown: Vec<String> = ids
            .iter()
            .zip(names)
            .map(|(id, name)| {
                let id = markdown::code(id.as_str(), markdown::ECHO_LIMIT);
                match name {
                    Some(name) => {
                        format!("{} ({id})", markdown::inert(&name, markdown::ECHO_LIMIT))
                    }
                    None => id,
                }
            })
            .collect();
        shown.join(", ")
    }

    /// The one write path ([`crate::group`]) for this message's group.
    pub fn writer(&self) -> Writer<'_> {
        Writer {
            dingtalk: self.dingtalk,
            store: self.store,
            turns: self.turns,
        }
    }

    /// Changes this message's group, whose chatid is `chat`, as `modify` decides on seeing
    /// it; a dry run previews. The answer gets the change's request id; a group whose
    /// chat/get left out a switch is refused, unchanged.
    pub async fn change_group(
        &self,
        chat: &ChatId,
        modify: impl FnOnce(&ChatInfo) -> Edit<Answer>,
    ) -> Result<Answer, CommandError> {
        let mode = Mode::of_dry_run(self.dry_run);
        let changed = self
            .writer()
            .read_modify_write(&self.msg.conversation, chat, mode, modify)
            .await?;
        Ok(match changed {
            Changed::Kept(answer) => answer,
            Changed::Sent(answer, request_id) => answer.with_request_id(request_id),
            Changed::NotSent(_, e) => return Err(e.into()),
            Changed::Unreadable(field) => Answer::refused(fill(
                self.config.lang.group_texts().setting_unknown_current,
                &[md(field)],
            )),
        })
    }
}
