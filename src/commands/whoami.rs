//! `/whoami`: the sender's staff id and whether they count as an admin here, and why.

use super::{
    Access, Answer, Binding, Command, CommandError, Context, Scope, Spec, no_args,
    permission::{OwnerRead, describe},
};
use crate::i18n::{fill, md, text};

pub static SPEC: Spec = Spec {
    name: "whoami",
    alias: "我是谁",
    args: "",
    summary: [
        "显示你的 staffId，以及你在这里是否是管理员",
        "Show your staff id and whether you are an admin here",
    ],
    access: Access::Anyone,
    scope: Scope::Anywhere,
    binding: Binding::Used,
    audited: false,
    parse: |args| {
        no_args(args)?;
        Ok(Command::new((), |ctx, ()| Box::pin(run(ctx))))
    },
};

async fn run(ctx: &Context<'_>) -> Result<Answer, CommandError> {
    let t = ctx.texts;
    let (verdict, why) = describe(ctx.admin_status(OwnerRead::Cached).await?, t);
    let staff_id = ctx
        .msg
        .sender
        .staff_id
        .as_ref()
        .map_or(t.whoami_no_staff_id, |id| id.as_str());
    Ok(Answer::done(fill(
        t.whoami,
        &[text(staff_id), md(verdict), md(&why)],
    )))
}
