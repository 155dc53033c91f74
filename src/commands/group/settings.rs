//! Changing one of the six switches: read chat/get fresh, change that switch, send all six.

use std::sync::Arc;

use crate::{
    dingtalk::{ChatInfo, GroupUpdate, ManagementOptions},
    group::{Setting, in_words},
    i18n::{fill, md},
};

use super::super::{Answer, CommandError, Context};

/// The group as it is now (chat/get, not the cache) and its six switches, or the refusal
/// to give when chat/get left one out.
pub async fn fresh(
    ctx: &Context<'_>,
) -> Result<Result<(Arc<ChatInfo>, ManagementOptions), Answer>, CommandError> {
    let info = ctx.app.dingtalk.chat_info_fresh(ctx.chat()).await?;
    Ok(match ManagementOptions::from_info(&info) {
        Ok(options) => Ok((info, options)),
        Err(field) => Err(Answer::refused(fill(
            ctx.app.config.lang.group_texts().setting_unknown_current,
            &[md(field)],
        ))),
    })
}

/// Sets one switch to `value`, leaving the other five as they are; says what changed.
pub async fn change(
    ctx: &Context<'_>,
    setting: Setting,
    value: i64,
) -> Result<Answer, CommandError> {
    let (t, gt) = (ctx.texts, ctx.app.config.lang.group_texts());
    let (info, mut options) = match fresh(ctx).await? {
        Ok(current) => current,
        Err(refusal) => return Ok(refusal),
    };
    let label = setting.label(t);
    let before = in_words(setting.current(&info), setting.words(), t);
    let after = in_words(Some(value), setting.words(), t);
    let unchanged = setting.current(&info) == Some(value);
    if unchanged {
        let text = fill(gt.setting_unchanged, &[md(label), md(&after)]);
        return Ok(Answer::unchanged(ctx.dry_run, text));
    }
    if ctx.dry_run {
        let text = fill(gt.setting_preview, &[md(label), md(&before), md(&after)]);
        return Ok(Answer::previewed(text));
    }
    setting.set(&mut options, value);
    let update = GroupUpdate::new(ctx.chat(), options);
    let request_id = ctx.app.dingtalk.update_group(&update).await?;
    let text = fill(gt.setting_changed, &[md(label), md(&before), md(&after)]);
    Ok(Answer::done(text).with_request_id(request_id))
}
