//! `/invite-link`: the group's join link (qrcode/get), shared in the sender's name.

use url::Url;

use crate::{
    commands::{Access, Answer, Binding, Command, CommandError, Context, Scope, Spec, no_args},
    i18n::{fill, md, text},
    ids::ChatId,
};

pub static SPEC: Spec = Spec {
    name: "invite-link",
    alias: "入群链接",
    args: "",
    summary: ["获取本群的入群链接", "Get the group's join link"],
    access: Access::Anyone,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: false,
    parse: |args| {
        no_args(args)?;
        Ok(Command::in_group((), |ctx, chat, ()| {
            Box::pin(run(ctx, chat))
        }))
    },
};

async fn run(ctx: &Context<'_>, chat: &ChatId) -> Result<Answer, CommandError> {
    let gt = ctx.config.lang.group_texts();
    let Some(sharer) = &ctx.msg.sender.staff_id else {
        return Ok(Answer::refused(gt.invite_no_staff_id));
    };
    let raw = ctx.dingtalk.invite_link(chat, sharer).await?;
    // DingTalk's answer is untrusted: only an https link (http where DingTalk itself
    // is reached over http, as with the simulator) is shown, escaped for markdown.
    let allowed = ["https", ctx.config.oapi_url.scheme()];
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
