//! Commands that wait for `/confirm`: what they will do, written to the store with a
//! short random code, and checked again when they run.

use serde::{Deserialize, Serialize};

use super::members::{listed, member_list, not_members, people};
use crate::{
    clock::now_ms,
    commands::{
        Answer, CommandError, Context,
        permission::{Admin, AdminReason},
    },
    dingtalk::ChatInfo,
    group::{Edit, Patch},
    i18n::{GroupTexts, fill, md},
    ids::{ChatId, StaffId},
    store::Confirmation,
};

/// Digits in a confirmation code: easy to type on a phone, and one group rarely has more
/// than a few pending at once.
const CODE_DIGITS: usize = 6;
/// Attempts to find a code not in use in the group.
const CODE_ATTEMPTS: usize = 8;

/// What a confirmed command does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case")]
pub enum Action {
    Kick { members: Vec<String> },
    TransferOwner { owner: String },
}

impl Action {
    fn staff_ids(&self) -> Vec<StaffId> {
        let raw: &[String] = match self {
            Action::Kick { members } => members,
            Action::TransferOwner { owner } => std::slice::from_ref(owner),
        };
        raw.iter().filter_map(|s| StaffId::parse(s).ok()).collect()
    }
}

/// Saves `action` on the group `chat`, asked for by the command named `command`, for the
/// admin's `/confirm`; returns its code and the timeout in seconds.
pub async fn request(
    ctx: &Context<'_>,
    chat: &ChatId,
    command: &'static str,
    action: &Action,
) -> Result<(String, u64), CommandError> {
    let requester = ctx.admin()?.staff_id.clone();
    let timeout = ctx.config.confirm_timeout;
    let now = now_ms();
    let mut pending = Confirmation {
        group: ctx.msg.conversation.clone(),
        code: String::new(),
        requester,
        chat: chat.clone(),
        command: command.to_owned(),
        args: listed(&action.staff_ids()),
        action: serde_json::to_string(action).expect("an action serialises"),
        created_at_ms: now,
        expires_at_ms: now.saturating_add(timeout.as_millis() as i64),
    };
    for _ in 0..CODE_ATTEMPTS {
        pending.code = (0..CODE_DIGITS)
            .map(|_| fastrand::char('0'..='9'))
            .collect();
        if ctx.store.save_confirmation(&pending).await? {
            return Ok((pending.code, timeout.as_secs()));
        }
    }
    Err(CommandError::Internal("no free confirmation code"))
}

/// Why `/kick` cannot remove `targets` from the group `info` describes, if it cannot.
pub fn kick_refusal(info: &ChatInfo, targets: &[StaffId], gt: &GroupTexts) -> Option<String> {
    let Some(members) = member_list(info) else {
        return Some(gt.unknown_members.to_owned());
    };
    if let Some(owner) = targets
        .iter()
        .find(|t| info.owner.as_deref() == Some(t.as_str()))
    {
        return Some(fill(gt.owner_cannot_be_kicked, &[md(&people([owner]))]));
    }
    let strangers = not_members(members, targets);
    (!strangers.is_empty()).then(|| fill(gt.not_members, &[md(&people(strangers))]))
}

/// Why ownership cannot pass to `target`, if it cannot.
pub fn transfer_refusal(info: &ChatInfo, target: &StaffId, gt: &GroupTexts) -> Option<String> {
    let Some(members) = member_list(info) else {
        return Some(gt.unknown_members.to_owned());
    };
    if info.owner.as_deref() == Some(target.as_str()) {
        return Some(fill(gt.owner_already, &[md(&people([target]))]));
    }
    let strangers = not_members(members, std::slice::from_ref(target));
    (!strangers.is_empty()).then(|| fill(gt.not_members, &[md(&people(strangers))]))
}

/// Why the admin confirming cannot go ahead in the group `info` describes, if they cannot:
/// one who was an admin by owning the group must own it still (another confirmation may
/// have given it away since, which a replica's remembered chat/get does not know yet).
pub fn requester_refusal(
    info: &ChatInfo,
    requester: &Admin<'_>,
    gt: &GroupTexts,
) -> Option<String> {
    let owns = info.owner.as_deref() == Some(requester.staff_id.as_str());
    (requester.reason == AdminReason::Owner && !owns).then(|| gt.confirm_not_owner.to_owned())
}

/// Runs a confirmed action on `chat`, in the group's turn: the group is read again, the
/// requester and the action checked again (somebody may have left or become owner
/// meanwhile), and only then changed.
pub async fn run(
    ctx: &Context<'_>,
    chat: &ChatId,
    action: &Action,
) -> Result<Answer, CommandError> {
    let gt = ctx.config.lang.group_texts();
    let requester = ctx.admin()?;
    let targets = action.staff_ids();
    let who = ctx.people(&targets).await;
    ctx.change_group(chat, |info| {
        if let Some(refusal) = requester_refusal(info, &requester, gt) {
            return Edit::Keep(Answer::refused(refusal));
        }
        let (refusal, patch, done) = match (action, targets.first()) {
            (Action::Kick { .. }, _) => (
                kick_refusal(info, &targets, gt),
                Patch {
                    remove: targets.clone(),
                    ..Patch::default()
                },
                gt.kick_done,
            ),
            (Action::TransferOwner { .. }, Some(owner)) => (
                transfer_refusal(info, owner, gt),
                Patch {
                    owner: Some(owner.clone()),
                    ..Patch::default()
                },
                gt.owner_done,
            ),
            (Action::TransferOwner { .. }, None) => (
                Some(gt.unknown_members.to_owned()),
                Patch::default(),
                gt.owner_done,
            ),
        };
        match refusal {
            Some(refusal) => Edit::Keep(Answer::refused(refusal)),
            None => Edit::Send(Answer::done(fill(done, &[md(&who)])), patch),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_stored_form() {
        let action = Action::Kick {
            members: vec!["u1".into(), "u2".into()],
        };
        let stored = serde_json::to_string(&action).unwrap();
        assert_eq!(stored, r#"{"do":"kick","members":["u1","u2"]}"#);
        assert_eq!(serde_json::from_str::<Action>(&stored).unwrap(), action);
    }

    #[test]
    fn the_owner_and_strangers_cannot_be_kicked() {
        let info: ChatInfo =
            serde_json::from_str(r#"{"owner":"boss","useridlist":["boss","a","b"]}"#).unwrap();
        let gt = crate::i18n::Lang::En.group_texts();
        let ids = |v: &[&str]| {
            v.iter()
                .map(|s| StaffId::parse(s).unwrap())
                .collect::<Vec<_>>()
        };
        assert!(kick_refusal(&info, &ids(&["a", "b"]), gt).is_none());
        assert!(
            kick_refusal(&info, &ids(&["a", "boss"]), gt)
                .unwrap()
                .contains("owns the group")
        );
        assert!(
            kick_refusal(&info, &ids(&["zz"]), gt)
                .unwrap()
                .contains("not a member")
        );
        assert!(
            transfer_refusal(&info, &ids(&["boss"])[0], gt)
                .unwrap()
                .contains("already")
        );
        assert!(transfer_refusal(&info, &ids(&["a"])[0], gt).is_none());
        let unknown: ChatInfo = serde_json::from_str(r#"{"owner":"boss"}"#).unwrap();
        assert!(kick_refusal(&unknown, &ids(&["a"]), gt).is_some());
    }

    #[test]
    fn an_admin_by_ownership_must_still_own_the_group_to_confirm() {
        let info: ChatInfo = serde_json::from_str(r#"{"owner":"new"}"#).unwrap();
        let gt = crate::i18n::Lang::En.group_texts();
        let (old, new) = (
            StaffId::parse("old").unwrap(),
            StaffId::parse("new").unwrap(),
        );
        let admin = |staff_id, reason| Admin { staff_id, reason };
        assert!(requester_refusal(&info, &admin(&old, AdminReason::Owner), gt).is_some());
        assert!(requester_refusal(&info, &admin(&new, AdminReason::Owner), gt).is_none());
        assert!(requester_refusal(&info, &admin(&old, AdminReason::Listed), gt).is_none());
    }
}
