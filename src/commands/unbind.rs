//! `/unbind`: forget this group's chatid.

use super::{Access, Answer, Binding, Command, CommandError, Context, Scope, Spec, no_args};
use crate::i18n::{fill, text};

pub static SPEC: Spec = Spec {
    name: "unbind",
    alias: "解绑",
    args: "",
    summary: [
        "解除本群与 chatid 的绑定",
        "Remove this group's chatid binding",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    // Optional, so the group's owner can be recognised as an admin.
    binding: Binding::Used,
    audited: true,
    parse: |args| {
        no_args(args)?;
        Ok(Command::new((), |ctx, ()| Box::pin(run(ctx))))
    },
};

async fn run(ctx: &Context<'_>) -> Result<Answer, CommandError> {
    let t = ctx.texts;
    if ctx.dry_run {
        return Ok(Answer::previewed(match ctx.binding {
            Some(chat) => fill(t.unbind_preview, &[text(chat.as_str())]),
            None => t.unbind_not_bound.to_owned(),
        }));
    }
    Ok(Answer::done(
        match ctx.store.unbind(&ctx.msg.conversation).await? {
            Some(chat) => fill(t.unbind_done, &[text(chat.as_str())]),
            None => t.unbind_not_bound.to_owned(),
        },
    ))
}
