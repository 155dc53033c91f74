//! Who counts as an admin, and why. Cheapest checks first: the configured list, then the
//! callback's `isAdmin` (if trusted), then the group's owner per chat/get (needs a binding).
//! The owner that lets a command change a group is read from DingTalk as it is now: a
//! cached chat/get (a few seconds old, and dropped by a new-owner event only on the
//! replica that received it) would let a former owner act after the ownership moved.

use crate::{
    config::Config,
    dingtalk::{DingTalkClient, DingTalkError},
    i18n::Texts,
    ids::{ChatId, StaffId},
    incoming::Incoming,
};

/// Why a sender is an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminReason {
    Listed,
    OrgAdmin,
    Owner,
}

/// Why a sender is not an admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAdminReason {
    /// No `senderStaffId` (external or cross-org member).
    NoStaffId,
    /// Not listed and not the owner.
    NotListed { untrusted_org_admin: bool },
    /// Not listed, and the owner cannot be checked without a binding.
    NotListedUnbound { untrusted_org_admin: bool },
}

/// A sender who is an admin where they wrote: who, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admin<'a> {
    pub staff_id: &'a StaffId,
    pub reason: AdminReason,
}

/// The verdict for one sender in one group.
pub type AdminStatus<'a> = Result<Admin<'a>, NotAdminReason>;

/// How the group's owner is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerRead {
    /// As chat/get says now: for an admins' command, typed or scheduled (a schedule's
    /// creator is checked against the group as it is when it runs).
    Fresh,
    /// As the cache remembers it, a few seconds at most: for showing the verdict
    /// (`/whoami`).
    Cached,
}

/// Decides whether the sender of `msg` is an admin where they wrote.
pub async fn admin_status<'a>(
    config: &Config,
    dingtalk: &DingTalkClient,
    msg: &'a Incoming,
    binding: Option<&ChatId>,
    read: OwnerRead,
) -> Result<AdminStatus<'a>, DingTalkError> {
    let Some(staff_id) = &msg.sender.staff_id else {
        return Ok(Err(NotAdminReason::NoStaffId));
    };
    let admin = |reason| Ok(Ok(Admin { staff_id, reason }));
    if config.admins.contains(staff_id) {
        return admin(AdminReason::Listed);
    }
    let trusted = config.trust_org_admins;
    if msg.sender.is_org_admin && trusted {
        return admin(AdminReason::OrgAdmin);
    }
    let untrusted_org_admin = msg.sender.is_org_admin && !trusted;
    let Some(chat) = binding else {
        return Ok(Err(NotAdminReason::NotListedUnbound {
            untrusted_org_admin,
        }));
    };
    // An admins' command, typed or scheduled, checks its sender against the group as it
    // is now.
    let info = match read {
        OwnerRead::Fresh => dingtalk.chat_info_fresh(chat).await?,
        OwnerRead::Cached => dingtalk.chat_info(chat).await?,
    };
    if info.owner.as_deref() == Some(staff_id.as_str()) {
        return admin(AdminReason::Owner);
    }
    Ok(Err(NotAdminReason::NotListed {
        untrusted_org_admin,
    }))
}

/// "are an admin" / "are not an admin" and the reason, in the reply language.
pub fn describe(status: AdminStatus<'_>, t: &Texts) -> (&'static str, String) {
    match status {
        Ok(admin) => (
            t.admin_yes,
            match admin.reason {
                AdminReason::Listed => t.why_config_admin,
                AdminReason::OrgAdmin => t.why_org_admin,
                AdminReason::Owner => t.why_owner,
            }
            .to_owned(),
        ),
        Err(reason) => (t.admin_no, why_not(reason, t)),
    }
}

/// The reason a sender is not an admin, as a sentence fragment.
pub fn why_not(reason: NotAdminReason, t: &Texts) -> String {
    let (base, untrusted) = match reason {
        NotAdminReason::NoStaffId => return t.why_no_staff_id.to_owned(),
        NotAdminReason::NotListed {
            untrusted_org_admin,
        } => (t.why_not_listed, untrusted_org_admin),
        NotAdminReason::NotListedUnbound {
            untrusted_org_admin,
        } => (t.why_not_listed_unbound, untrusted_org_admin),
    };
    if untrusted {
        format!("{base}{}", t.why_org_admin_untrusted)
    } else {
        base.to_owned()
    }
}
