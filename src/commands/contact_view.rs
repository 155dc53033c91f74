//! How an external contact reads in a group: its fields in words, labels by name, the
//! mobile number masked, and a before → after list of what a change touches.

use std::collections::HashMap;

use crate::{
    dingtalk::{ExtContact, LabelGroup},
    i18n::ContactTexts,
    markdown,
};

/// Label id → name, from the label groups.
pub fn label_names(groups: &[LabelGroup]) -> HashMap<i64, String> {
    groups
        .iter()
        .flat_map(|g| g.labels.iter().map(|l| (l.id, l.name.clone())))
        .collect()
}

/// `138****5678`: the first three and last four digits, the rest hidden.
pub fn mask_mobile(mobile: &str) -> String {
    let chars: Vec<char> = mobile.chars().collect();
    if chars.len() < 8 {
        return "****".to_owned();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// A field's value as a reply shows it: DingTalk's text made inert.
pub fn shown(value: &str) -> String {
    markdown::inert(value, markdown::DATA_LIMIT)
}

/// Each changeable field with its value in words, in display order (not yet [`shown`]).
pub fn fields(
    c: &ExtContact,
    names: &HashMap<i64, String>,
    ct: &ContactTexts,
) -> Vec<(&'static str, String)> {
    let text = |v: &Option<String>| match v.as_deref() {
        None | Some("") => ct.empty.to_owned(),
        Some(s) => s.to_owned(),
    };
    let join = |items: Vec<String>| {
        if items.is_empty() {
            ct.empty.to_owned()
        } else {
            items.join(", ")
        }
    };
    let labels = c
        .label_ids
        .iter()
        .map(|id| {
            names
                .get(id)
                .map_or_else(|| id.to_string(), |n| format!("{n} ({id})"))
        })
        .collect();
    vec![
        (ct.field_name, text(&c.name)),
        (ct.field_company, text(&c.company_name)),
        (ct.field_title, text(&c.title)),
        (ct.field_labels, join(labels)),
        (ct.field_follower, text(&c.follower_user_id)),
        (
            ct.field_share_users,
            join(c.share_user_ids.clone().unwrap_or_default()),
        ),
        (
            ct.field_share_depts,
            join(
                c.share_dept_ids
                    .iter()
                    .flatten()
                    .map(i64::to_string)
                    .collect(),
            ),
        ),
        (ct.field_remark, text(&c.remark)),
        (ct.field_address, text(&c.address)),
    ]
}

/// `- field: before → after` for every field that differs.
pub fn diff(
    before: &ExtContact,
    after: &ExtContact,
    names: &HashMap<i64, String>,
    ct: &ContactTexts,
) -> Vec<String> {
    fields(before, names, ct)
        .into_iter()
        .zip(fields(after, names, ct))
        .filter(|((_, b), (_, a))| a != b)
        .map(|((label, b), (_, a))| format!("- {label}: {} → {}", shown(&b), shown(&a)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{dingtalk::Label, i18n::Lang};

    #[test]
    fn mobiles_are_masked() {
        assert_eq!(mask_mobile("13812345678"), "138****5678");
        assert_eq!(mask_mobile("+8613812345678"), "+86****5678");
        assert_eq!(mask_mobile("12345"), "****");
    }

    #[test]
    fn diff_lists_changed_fields_with_label_names() {
        let ct = Lang::En.contact_texts();
        let groups = vec![LabelGroup {
            name: "level".into(),
            labels: vec![Label {
                name: "VIP".into(),
                id: 7,
            }],
        }];
        let names = label_names(&groups);
        let before = ExtContact {
            user_id: "u".into(),
            title: Some("a".into()),
            ..Default::default()
        };
        let after = ExtContact {
            label_ids: vec![7],
            title: Some("b".into()),
            ..before.clone()
        };
        assert_eq!(
            diff(&before, &after, &names, ct),
            vec![
                "- Title: a → b".to_owned(),
                "- Labels: (empty) → VIP (7)".to_owned()
            ]
        );
    }
}
