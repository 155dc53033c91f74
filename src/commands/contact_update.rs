//! `/contact-update <userId> key=value … [--dry-run]`: change some fields of an external
//! contact. The current contact is read (extcontact/get), the changes merged in, and the
//! complete contact sent in exactly one TOP call, so fields not mentioned are kept.

use super::{
    Access, Answer, Binding, Command, CommandError, Context, Scope, Spec,
    contact_changes::{self, LabelRef, Request},
    contact_view::{diff, label_names, shown},
};
use crate::{
    dingtalk::{ExtContact, LabelGroup},
    i18n::{ContactTexts, fill, md, text},
    message::fold,
};

pub static SPEC: Spec = Spec {
    name: "contact-update",
    alias: "更新联系人",
    args: "<userId> key=value… [--dry-run]",
    summary: [
        "修改外部联系人的字段：name title company address remark labels follower share-users share-depts；加 --dry-run（或“预览”）只看不改",
        "Change fields of an external contact: name title company address remark labels follower share-users share-depts; add --dry-run to preview",
    ],
    access: Access::Admin,
    scope: Scope::Anywhere,
    binding: Binding::Used,
    audited: true,
    parse: |args| {
        let request = contact_changes::parse(args)?;
        Ok(Command::new(request, |ctx, request| {
            Box::pin(run(ctx, request))
        }))
    },
};

async fn run(ctx: &Context<'_>, request: Request) -> Result<Answer, CommandError> {
    let Request { user_id, changes } = request;
    let ct = ctx.config.lang.contact_texts();
    let dingtalk = ctx.dingtalk;
    let mut groups = match &changes.labels {
        Some(_) => Some(dingtalk.label_groups().await?),
        None => None,
    };
    let label_ids = match (&changes.labels, &mut groups) {
        (Some(refs), Some(groups)) => match resolve(refs, groups, ct) {
            Ok(ids) => Some(ids),
            // The cached labels may predate one created in the console: ask once more.
            Err(_) => {
                *groups = dingtalk.label_groups_fresh().await?;
                match resolve(refs, groups, ct) {
                    Ok(ids) => Some(ids),
                    Err(refusal) => return Ok(Answer::refused(refusal)),
                }
            }
        },
        _ => None,
    };
    let current = dingtalk.ext_contact(&user_id).await?;
    let next = changes.apply(&current, label_ids);
    if let Some((field, key)) = missing_required(&next, ct) {
        return Ok(Answer::refused(fill(
            ct.update_missing_required,
            &[text(&user_id), md(field), md(key)],
        )));
    }
    // Labels unchanged: both sides show the same ids, so no names are needed.
    let names = groups
        .as_deref()
        .map(|g| label_names(g))
        .unwrap_or_default();
    let changed = diff(&current, &next, &names, ct);
    if changed.is_empty() {
        return Ok(Answer::done(fill(ct.update_nothing, &[text(&user_id)])));
    }
    let changed = changed.join("\n");
    if ctx.dry_run {
        return Ok(Answer::previewed(format!(
            "{}\n\n{changed}",
            fill(ct.update_preview, &[text(&user_id)])
        )));
    }
    let request_id = dingtalk.update_ext_contact(&next).await?;
    let text = format!("{}\n\n{changed}", fill(ct.update_done, &[text(&user_id)]));
    Ok(Answer::done(text).with_request_id(request_id))
}

/// The TOP API requires `name` and `follower_user_id`; a contact lacking one cannot be
/// updated unless the command supplies it.
fn missing_required(next: &ExtContact, ct: &ContactTexts) -> Option<(&'static str, &'static str)> {
    let blank = |v: &Option<String>| v.as_deref().is_none_or(|s| s.trim().is_empty());
    if blank(&next.name) {
        Some((ct.field_name, "name"))
    } else if blank(&next.follower_user_id) {
        Some((ct.field_follower, "follower"))
    } else {
        None
    }
}

/// Label ids for the given ids and names; a name that matches no label or several is a
/// refusal text listing the candidates.
fn resolve(
    refs: &[LabelRef],
    groups: &[LabelGroup],
    ct: &ContactTexts,
) -> Result<Vec<i64>, String> {
    let all: Vec<(&str, &str, i64)> = groups
        .iter()
        .flat_map(|g| {
            g.labels
                .iter()
                .map(move |l| (g.name.as_str(), l.name.as_str(), l.id))
        })
        .collect();
    let show = |(group, name, id): &(&str, &str, i64)| shown(&format!("{group}/{name} ({id})"));
    let mut ids = Vec::new();
    for label in refs {
        let id = match label {
            LabelRef::Id(id) => *id,
            LabelRef::Name(wanted) => {
                // Compared folded, so full-width and half-width spellings match.
                let wanted_folded = fold(wanted);
                let matches: Vec<_> = all
                    .iter()
                    .filter(|(_, name, _)| fold(name) == wanted_folded)
                    .collect();
                match matches.as_slice() {
                    [one] => one.2,
                    [] => {
                        let mut close: Vec<_> = all
                            .iter()
                            .map(|l| (strsim::levenshtein(wanted, l.1), l))
                            .collect();
                        close.sort_by_key(|(d, _)| *d);
                        let close: Vec<String> =
                            close.iter().take(5).map(|(_, l)| show(l)).collect();
                        let hint = if close.is_empty() {
                            String::new()
                        } else {
                            fill(ct.label_candidates, &[md(&close.join(", "))])
                        };
                        return Err(format!(
                            "{} {}",
                            fill(ct.label_unknown, &[text(wanted), md(&hint)]),
                            ct.label_nothing_changed
                        ));
                    }
                    several => {
                        let listed: Vec<String> = several.iter().map(|l| show(l)).collect();
                        return Err(fill(
                            ct.label_ambiguous,
                            &[text(wanted), md(&listed.join(", "))],
                        ));
                    }
                }
            }
        };
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{dingtalk::Label, i18n::Lang};

    fn groups() -> Vec<LabelGroup> {
        let label = |name: &str, id| Label {
            name: name.into(),
            id,
        };
        vec![
            LabelGroup {
                name: "等级".into(),
                labels: vec![label("VIP", 1), label("普通", 2)],
            },
            LabelGroup {
                name: "来源".into(),
                labels: vec![label("展会", 3), label("VIP", 4)],
            },
        ]
    }

    #[test]
    fn names_and_ids_resolve() {
        let ct = Lang::En.contact_texts();
        let refs = [
            LabelRef::Name("展会".into()),
            LabelRef::Id(2),
            LabelRef::Id(2),
        ];
        assert_eq!(resolve(&refs, &groups(), ct), Ok(vec![3, 2]));
    }

    #[test]
    fn unknown_and_ambiguous_names_list_candidates() {
        let ct = Lang::En.contact_texts();
        let err = resolve(&[LabelRef::Name("普 通".into())], &groups(), ct).unwrap_err();
        assert!(
            err.contains("no label named “普 通”") && err.contains("等级/普通 (2)"),
            "{err}"
        );
        let err = resolve(&[LabelRef::Name("VIP".into())], &groups(), ct).unwrap_err();
        assert!(
            err.contains("等级/VIP (1)") && err.contains("来源/VIP (4)"),
            "{err}"
        );
    }
}
