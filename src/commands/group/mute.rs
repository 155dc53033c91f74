//! `/mute-all` and `/unmute-all`: everyone muted or not (`chatBannedType` 1 / 0), the
//! other five settings kept as they are.

use async_trait::async_trait;

use super::settings::change;
use crate::commands::{
    Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError, no_args,
};
use crate::group::Setting;

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
    binding: Binding::Required,
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
    binding: Binding::Required,
    audited: true,
    parse: |args| parse(args, 0),
};

struct MuteAll {
    banned: i64,
}

fn parse(args: &Args<'_>, banned: i64) -> Result<Box<dyn Command>, UsageError> {
    no_args(args)?;
    Ok(Box::new(MuteAll { banned }))
}

#[async_trait]
impl Command for MuteAll {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        change(ctx, Setting::Muted, self.banned).await
    }

    fn rewrites_group(&self) -> bool {
        true
    }
}
