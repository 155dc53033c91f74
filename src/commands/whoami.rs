//! `/whoami`: the sender's staff id and whether they count as an admin here, and why.

use async_trait::async_trait;

use super::{
    Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    no_args,
    permission::{admin_status, describe},
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
    binding: Binding::Optional,
    audited: false,
    parse,
};

struct WhoAmI;

fn parse(args: &Args<'_>) -> Result<Box<dyn Command>, UsageError> {
    no_args(args)?;
    Ok(Box::new(WhoAmI))
}

#[async_trait]
impl Command for WhoAmI {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        let t = ctx.texts;
        let status = admin_status(ctx.app, ctx.msg, ctx.binding.as_ref()).await?;
        let (verdict, why) = describe(status, t);
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
}
