//! `/rename <name>`: the group's name, 1–20 characters, kept exactly as typed (no
//! folding: full-width letters stay full-width).

use async_trait::async_trait;

use super::settings::fresh;
use crate::{
    commands::{
        Access, Answer, Args, Binding, Command, CommandError, Context, Scope, Spec, UsageError,
    },
    dingtalk::GroupUpdate,
    i18n::{fill, text},
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
    binding: Binding::Required,
    audited: true,
    parse,
};

struct Rename {
    name: String,
}

fn parse(args: &Args<'_>) -> Result<Box<dyn Command>, UsageError> {
    let gt = args.lang.group_texts();
    // One quoted word keeps its spaces; several words are joined by one space.
    let name = args.words.join(" ");
    if name.is_empty() {
        return Err(UsageError::Missing("<name>"));
    }
    let invalid = |why: String| UsageError::Invalid {
        arg: "<name>",
        value: name.clone(),
        why,
    };
    if name.chars().any(char::is_control) {
        return Err(invalid(gt.name_control.to_owned()));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(invalid(fill(gt.name_length, &[text(&chars.to_string())])));
    }
    Ok(Box::new(Rename { name }))
}

#[async_trait]
impl Command for Rename {
    async fn run(self: Box<Self>, ctx: &Context<'_>) -> Result<Answer, CommandError> {
        let gt = ctx.app.config.lang.group_texts();
        let (info, options) = match fresh(ctx).await? {
            Ok(current) => current,
            Err(refusal) => return Ok(refusal),
        };
        let old = info.name.clone().unwrap_or_else(|| gt.unnamed.to_owned());
        if info.name.as_deref() == Some(self.name.as_str()) {
            let text = fill(gt.rename_same, &[text(&self.name)]);
            return Ok(Answer::unchanged(ctx.dry_run, text));
        }
        if ctx.dry_run {
            let text = fill(gt.rename_preview, &[text(&old), text(&self.name)]);
            return Ok(Answer::previewed(text));
        }
        let mut update = GroupUpdate::new(ctx.chat(), options);
        update.name = Some(self.name.clone());
        let request_id = ctx.app.dingtalk.update_group(&update).await?;
        let text = fill(gt.rename_done, &[text(&self.name), text(&old)]);
        Ok(Answer::done(text).with_request_id(request_id))
    }

    fn rewrites_group(&self) -> bool {
        true
    }
}
