//! `/labels`: the external-contact label groups with each label's id and name.

use super::{Access, Answer, Binding, Command, CommandError, Context, Scope, Spec, no_args};
use crate::markdown::{DATA_LIMIT, inert};

pub static SPEC: Spec = Spec {
    name: "labels",
    alias: "标签",
    args: "",
    summary: [
        "列出外部联系人的标签组、标签 ID 和名称",
        "List the external-contact label groups, label ids and names",
    ],
    access: Access::Admin,
    scope: Scope::Anywhere,
    binding: Binding::Used,
    audited: false,
    parse: |args| {
        no_args(args)?;
        Ok(Command::new((), |ctx, ()| Box::pin(run(ctx))))
    },
};

async fn run(ctx: &Context<'_>) -> Result<Answer, CommandError> {
    let ct = ctx.config.lang.contact_texts();
    let groups = ctx.dingtalk.label_groups_fresh().await?;
    if groups.iter().all(|g| g.labels.is_empty()) {
        return Ok(Answer::done(ct.labels_none));
    }
    let mut text = format!("{}\n", ct.labels_header);
    for group in groups.iter().filter(|g| !g.labels.is_empty()) {
        text.push_str(&format!("\n**{}**\n", inert(&group.name, DATA_LIMIT)));
        for label in &group.labels {
            text.push_str(&format!(
                "- `{}` {}\n",
                label.id,
                inert(&label.name, DATA_LIMIT)
            ));
        }
    }
    Ok(Answer::done(text))
}
