//! `/invite-link`: the group's join link (qrcode/get), shared in the sender's name.

use async_trait::async_trait;
use url::Url;

use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
        no_args,
    },
    i18n::{fill, md, text},
};

pub static SPEC: Spec = Spec {
    name: "invite-link",
    alias: "入群链接",
    args: "",
    summary: ["获取本群的入群链接", "Get the group's join link"],
    access: Access::Anyone,
    scope: Scope::GroupOnly,
    binding: Binding::Required,
    audited: false,
    parse,
};

struct InviteLink;

fn parse(args: &Args<'_>) -> Result<Box<dyn Command>, UsageError> {
    no_args(args)?;
    Ok(Box::new(InviteLink))
}

#[async_trait]
impl Command for InviteLink {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        let gt = ctx.app.config.lang.group_texts();
        let Some(sharer) = &ctx.msg.sender.staff_id else {
            return Ok(Answer::refused(gt.invite_no_staff_id));
        };
        let raw = ctx.app.dingtalk.invite_link(ctx.chat(), sharer).await?;
        // DingTalk's answer is untrusted: only an https link (http where DingTalk itself
        // is reached over http, as with the simulator) is shown, escaped for markdown.
        let allowed = ["https", ctx.app.config.oapi_url.scheme()];
        let Some(url) = Url::parse(&raw)
            .ok()
            .filter(|u| allowed.contains(&u.scheme()))
        else {
            return Ok(Answer::refused(gt.invite_unusable));
        };
        let link = format!("[{}]({})", gt.invite_link_label, link_target(&url));
        Ok(Answer::done(fill(
            gt.invite_link,
            &[text(&ctx.msg.sender.nick), md(&link)],
        )))
    }
}

/// A URL as a markdown link target: the characters that could end the target or open
/// other markup are percent-encoded (a parsed URL has no spaces or controls left).
fn link_target(url: &Url) -> String {
    url.as_str()
        .replace('(', "%28")
        .replace(')', "%29")
        .replace('<', "%3C")
        .replace('>', "%3E")
        .replace('[', "%5B")
        .replace(']', "%5D")
        .replace('`', "%60")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostile_link_cannot_leave_its_target() {
        let url = Url::parse("https://qr.dingtalk.com/a?x=1)[y](javascript:1)<b>").unwrap();
        let target = link_target(&url);
        assert!(!target.contains([')', '(', '[', ']', '<', '>']), "{target}");
    }
}
