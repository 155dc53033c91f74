//! `/contact <userId>`: one external contact, labels by name, the mobile masked in groups.

use super::{
    Access, Answer, Binding, Command, CommandError, Context, Scope, Spec,
    contact_view::{fields, label_names, mask_mobile, shown},
    one_arg,
};
use crate::{
    i18n::{fill, text},
    incoming::ConversationKind,
    message::fold,
};

pub static SPEC: Spec = Spec {
    name: "contact",
    alias: "联系人",
    args: "<userId>",
    summary: ["显示一个外部联系人", "Show one external contact"],
    access: Access::Admin,
    scope: Scope::Anywhere,
    binding: Binding::Used,
    audited: false,
    parse: |args| {
        let user_id = fold(one_arg(args, "<userId>")?);
        Ok(Command::new(user_id, |ctx, user_id| {
            Box::pin(run(ctx, user_id))
        }))
    },
};

async fn run(ctx: &Context<'_>, user_id: String) -> Result<Answer, CommandError> {
    let ct = ctx.config.lang.contact_texts();
    let dingtalk = ctx.dingtalk;
    let contact = dingtalk.ext_contact(&user_id).await?;
    let names = if contact.label_ids.is_empty() {
        Default::default()
    } else {
        // Without label names the ids still say something; a failure is not fatal.
        match dingtalk.label_groups().await {
            Ok(groups) => label_names(&groups),
            Err(e) => {
                tracing::warn!(error = %e, "label names unavailable; showing ids");
                Default::default()
            }
        }
    };
    let name = contact.name.clone().unwrap_or_default();
    let mut text = fill(ct.contact_header, &[text(&name), text(&contact.user_id)]);
    text.push_str("\n\n");
    for (label, value) in fields(&contact, &names, ct) {
        text.push_str(&format!("- {label}: {}\n", shown(&value)));
    }
    if let Some(mobile) = contact.mobile.as_deref().filter(|m| !m.is_empty()) {
        let mobile = if ctx.msg.kind == ConversationKind::Group {
            mask_mobile(mobile)
        } else {
            mobile.to_owned()
        };
        text.push_str(&format!("- {}: {}\n", ct.field_mobile, shown(&mobile)));
    }
    Ok(Answer::done(text))
}
