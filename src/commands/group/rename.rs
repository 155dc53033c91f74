//! `/rename <name>`: the group's name, 1 to 20 characters, kept exactly as typed (no
//! folding: full-width letters stay full-width).

use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
        free_text,
    },
    group::{Edit, Patch},
    i18n::{fill, text},
    ids::ChatId,
};

/// DingTalk's limit for a group name, in characters.
pub const MAX_NAME_CHARS: usize = 20;

pub static SPEC: Spec = Spec {
    name: "rename",
    alias: "改群名",
    args: "<name>",
    summary: [
        "修改群名（1 到 20 个字符）",
        "Rename the group (1 to 20 characters)",
    ],
    access: Access::Admin,
    scope: Scope::GroupOnly,
    binding: Binding::Used,
    audited: true,
    parse: |args| {
        let name = name(args)?;
        Ok(Command::in_group(name, |ctx, chat, name| {
            Box::pin(run(ctx, chat, name))
        }))
    },
};

fn name(args: &Args<'_>) -> Result<String, UsageError> {
    let gt = args.lang.group_texts();
    let max = (MAX_NAME_CHARS, gt.name_length);
    free_text(args.words, "<name>", args.lang, gt.name_control, Some(max))
}

async fn run(ctx: &Context<'_>, chat: &ChatId, name: String) -> Result<Answer, CommandError> {
    let gt = ctx.config.lang.group_texts();
    ctx.change_group(chat, |info| {
        let old = info.name.clone().unwrap_or_else(|| gt.unnamed.to_owned());
        if info.name.as_deref() == Some(name.as_str()) {
            let text = fill(gt.rename_same, &[text(&name)]);
            return Edit::Keep(Answer::unchanged(ctx.dry_run, text));
        }
        let answer = if ctx.dry_run {
            Answer::previewed(fill(gt.rename_preview, &[text(&old), text(&name)]))
        } else {
            Answer::done(fill(gt.rename_done, &[text(&name), text(&old)]))
        };
        let patch = Patch {
            name: Some(name.clone()),
            ..Patch::default()
        };
        Edit::Send(answer, patch)
    })
    .await
}
