//! `/mute-all` and `/unmute-all`: everyone muted or not (`chatBannedType` 1 / 0), the
//! other five settings kept as they are.

use super::set::change;
use crate::{
    commands::{Access, Args, Binding, Command, Scope, Spec, UsageError, no_args},
    group::Setting,
};

pub static MUTE: Spec = Spec {
    name: "mute-all",
    alias: "全员禁言",
    args: "",
    summary: [
        "开启全员禁言（只有群主和管理员能发言）",
        "Mute everyone (only the owner and admins may speak)",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: true,
    parse: |args| parse(args, 1),
};

pub static UNMUTE: Spec = Spec {
    name: "unmute-all",
    alias: "解除全员禁言",
    args: "",
    summary: ["解除全员禁言", "Let everyone speak again"],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: true,
    parse: |args| parse(args, 0),
};

fn parse(args: &Args<'_>, banned: i64) -> Result<Command, UsageError> {
    no_args(args)?;
    Ok(Command::in_group(
        (Setting::Muted, banned),
        |ctx, chat, (setting, value)| Box::pin(change(ctx, chat, setting, value)),
    ))
}
