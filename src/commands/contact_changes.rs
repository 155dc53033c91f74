//! `/contact-update`'s arguments: `<userId> key=value … [--dry-run]` parsed into
//! [`Changes`], and the merge of those changes into the current contact.
//!
//! Everything that can be checked without DingTalk is checked here, so a wrong argument
//! never reaches the TOP gateway. Label names are resolved later (they need DingTalk).
//! Keys, ids and numbers are folded (full-width forms accepted); free-text values (a name,
//! a remark, an address) are kept exactly as typed.

use crate::{
    dingtalk::ExtContact,
    i18n::{ContactTexts, fill, md},
    ids::StaffId,
    message::fold,
};

use super::{Args, UsageError};

/// The fields `/contact-update` can change, as typed.
pub const KEYS: [&str; 9] = [
    "name",
    "title",
    "company",
    "address",
    "remark",
    "labels",
    "follower",
    "share-users",
    "share-depts",
];
/// DingTalk takes at most 20 labels, shared users or shared departments.
const MAX_ITEMS: usize = 20;

/// A label given by id or by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelRef {
    Id(i64),
    Name(String),
}

/// The requested changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub name: Option<String>,
    pub title: Option<String>,
    pub company: Option<String>,
    pub address: Option<String>,
    pub remark: Option<String>,
    pub labels: Option<Vec<LabelRef>>,
    pub follower: Option<StaffId>,
    pub share_users: Option<Vec<StaffId>>,
    pub share_depts: Option<Vec<i64>>,
}

/// A parsed `/contact-update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub user_id: String,
    pub changes: Changes,
}

/// Parses the words after `/contact-update`.
pub fn parse(args: &Args<'_>) -> Result<Request, UsageError> {
    let ct = args.lang.contact_texts();
    let mut words = args.words.iter();
    let user_id = fold(words.next().ok_or(UsageError::Missing("<userId>"))?);
    if user_id.contains('=') || user_id.is_empty() {
        return Err(invalid("<userId>", &user_id, ct.arg_user_id));
    }
    let mut mentions = args.mentions.iter().filter_map(|m| m.staff_id.clone());
    let mut changes = Changes::default();
    let mut seen = Vec::new();
    for word in words {
        let Some((raw_key, value)) = word.split_once(['=', '＝']) else {
            return Err(invalid("key=value", word, ct.not_key_value));
        };
        let key_typed = fold(raw_key).to_lowercase().replace('_', "-");
        let Some(key) = KEYS.iter().copied().find(|k| *k == key_typed) else {
            return Err(unknown_key(raw_key, ct));
        };
        if seen.contains(&key) {
            return Err(invalid("key", raw_key, ct.duplicate_key));
        }
        seen.push(key);
        set(&mut changes, key, value, &mut mentions, ct)?;
    }
    if seen.is_empty() {
        return Err(UsageError::Missing("key=value"));
    }
    Ok(Request { user_id, changes })
}

fn invalid(arg: &'static str, value: &str, why: &str) -> UsageError {
    UsageError::Invalid {
        arg,
        value: value.to_owned(),
        why: why.to_owned(),
    }
}

fn unknown_key(key: &str, ct: &ContactTexts) -> UsageError {
    let closest = KEYS
        .iter()
        .map(|k| (strsim::levenshtein(&key.to_lowercase(), k), k))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, _)| *d <= 3)
        .map(|(_, k)| fill(ct.did_you_mean, &[md(k)]))
        .unwrap_or_default();
    invalid(
        "key",
        key,
        &fill(ct.unknown_key, &[md(&closest), md(&KEYS.join(", "))]),
    )
}

/// Sets one field from its typed value; `mentions` supplies the staff ids of @mentions.
fn set(
    changes: &mut Changes,
    key: &'static str,
    value: &str,
    mentions: &mut impl Iterator<Item = StaffId>,
    ct: &ContactTexts,
) -> Result<(), UsageError> {
    let text = || Some(value.to_owned());
    match key {
        "name" if value.trim().is_empty() => return Err(invalid(key, value, ct.expects_text)),
        "name" => changes.name = text(),
        "title" => changes.title = text(),
        "company" => changes.company = text(),
        "address" => changes.address = text(),
        "remark" => changes.remark = text(),
        "labels" => {
            let labels = list(value).map(|item| match fold(item).parse::<i64>() {
                Ok(id) if id > 0 => LabelRef::Id(id),
                _ => LabelRef::Name(item.to_owned()),
            });
            changes.labels = Some(bounded(labels, key, value, ct.expects_labels)?);
        }
        "follower" => {
            let member = if value.is_empty() {
                mentions.next()
            } else {
                staff(value, mentions)
            };
            changes.follower = Some(member.ok_or_else(|| invalid(key, value, ct.expects_staff))?);
        }
        "share-users" => {
            let users: Option<Vec<StaffId>> = if value.is_empty() {
                Some(mentions.collect())
            } else {
                list(value).map(|item| staff(item, mentions)).collect()
            };
            let users = users.ok_or_else(|| invalid(key, value, ct.mention_unmatched))?;
            changes.share_users = Some(bounded(
                users.into_iter(),
                key,
                value,
                ct.expects_staff_list,
            )?);
        }
        "share-depts" => {
            let depts: Option<Vec<i64>> = list(value)
                .map(|item| fold(item).parse().ok().filter(|id| *id > 0))
                .collect();
            let depts = depts.ok_or_else(|| invalid(key, value, ct.expects_depts))?;
            changes.share_depts = Some(bounded(depts.into_iter(), key, value, ct.expects_depts)?);
        }
        _ => unreachable!("every key in KEYS is handled"),
    }
    Ok(())
}

/// Items separated by `,`, `，` or `、`, trimmed, empty ones dropped.
fn list(value: &str) -> impl Iterator<Item = &str> {
    value
        .split([',', '，', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// One to [`MAX_ITEMS`] items, duplicates removed in order.
fn bounded<T: PartialEq>(
    items: impl Iterator<Item = T>,
    key: &'static str,
    value: &str,
    why: &str,
) -> Result<Vec<T>, UsageError> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    if out.is_empty() || out.len() > MAX_ITEMS {
        return Err(invalid(key, value, why));
    }
    Ok(out)
}

/// A staff id, or an `@name` that stands for the next @mentioned member.
fn staff(item: &str, mentions: &mut impl Iterator<Item = StaffId>) -> Option<StaffId> {
    let item = fold(item);
    if item.starts_with('@') {
        mentions.next()
    } else {
        StaffId::parse(&item).ok()
    }
}

impl Changes {
    /// The contact after the changes; `label_ids` are the resolved `labels`, if given.
    pub fn apply(&self, current: &ExtContact, label_ids: Option<Vec<i64>>) -> ExtContact {
        let mut next = current.clone();
        let replace = |field: &mut Option<String>, value: &Option<String>| {
            if let Some(v) = value {
                *field = Some(v.clone());
            }
        };
        replace(&mut next.name, &self.name);
        replace(&mut next.title, &self.title);
        replace(&mut next.company_name, &self.company);
        replace(&mut next.address, &self.address);
        replace(&mut next.remark, &self.remark);
        if let Some(ids) = label_ids {
            next.label_ids = ids;
        }
        if let Some(f) = &self.follower {
            next.follower_user_id = Some(f.as_str().to_owned());
        }
        if let Some(users) = &self.share_users {
            next.share_user_ids = Some(users.iter().map(|u| u.as_str().to_owned()).collect());
        }
        if let Some(depts) = &self.share_depts {
            next.share_dept_ids = Some(depts.clone());
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{i18n::Lang, incoming::Mention};

    fn parse_line(line: &str, mentions: &[&str]) -> Result<Request, UsageError> {
        let words = crate::message::tokenize(line);
        let mentions: Vec<Mention> = mentions
            .iter()
            .map(|id| Mention {
                dingtalk_id: format!("$:{id}"),
                staff_id: StaffId::parse(id).ok(),
            })
            .collect();
        parse(&Args {
            words: &words,
            lang: Lang::En,
            mentions: &mentions,
        })
    }

    fn why(result: Result<Request, UsageError>) -> String {
        match result {
            Err(UsageError::Invalid { arg, value, why }) => format!("{arg}|{value}|{why}"),
            other => panic!("expected an invalid argument, got {other:?}"),
        }
    }

    #[test]
    fn every_key_parses_with_quotes_and_mentions() {
        let r = parse_line(
            r#"u1 name="张 三" title=“高级 工程师” company=「钉钉 科技」 address=x remark="" labels=1,VIP,2 follower=@李四 share-users=s1,@王五 share-depts=3,4"#,
            &["lisi", "wangwu"],
        )
        .unwrap();
        assert_eq!(r.user_id, "u1");
        let c = r.changes;
        assert_eq!(c.name.as_deref(), Some("张 三"));
        assert_eq!(c.title.as_deref(), Some("高级 工程师"));
        assert_eq!(c.company.as_deref(), Some("钉钉 科技"));
        assert_eq!(c.remark.as_deref(), Some(""));
        assert_eq!(
            c.labels,
            Some(vec![
                LabelRef::Id(1),
                LabelRef::Name("VIP".into()),
                LabelRef::Id(2)
            ])
        );
        assert_eq!(c.follower.unwrap().as_str(), "lisi");
        let users: Vec<_> = c
            .share_users
            .unwrap()
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect();
        assert_eq!(users, vec!["s1", "wangwu"]);
        assert_eq!(c.share_depts, Some(vec![3, 4]));
    }

    #[test]
    fn free_text_is_kept_and_structure_accepts_full_width_forms() {
        let r = parse_line(
            "ｕ１ remark＝老客户，优先跟进（重要） ｓｈａｒｅ－ｄｅｐｔｓ=３，４、5 follower=＠李四",
            &["lisi"],
        )
        .unwrap();
        assert_eq!(r.user_id, "u1");
        assert_eq!(
            r.changes.remark.as_deref(),
            Some("老客户，优先跟进（重要）")
        );
        assert_eq!(r.changes.share_depts, Some(vec![3, 4, 5]));
        assert_eq!(r.changes.follower.unwrap().as_str(), "lisi");
    }

    #[test]
    fn an_empty_follower_takes_the_mention_dingtalk_stripped_from_the_text() {
        let r = parse_line("u1 follower=", &["lisi"]).unwrap();
        assert_eq!(r.changes.follower.unwrap().as_str(), "lisi");
        assert!(why(parse_line("u1 follower=", &[])).contains("expects one staff id"));
    }

    #[test]
    fn bad_arguments_name_the_key_and_what_it_expects() {
        assert!(why(parse_line("u1 titel=x", &[])).contains("Did you mean `title`?"));
        assert!(why(parse_line("u1 colour=x", &[])).starts_with("key|colour|"));
        assert!(why(parse_line("u1 title=a title=b", &[])).contains("given twice"));
        assert!(
            why(parse_line("u1 share-depts=3,x", &[]))
                .starts_with("share-depts|3,x|expects department ids")
        );
        assert!(why(parse_line("u1 share-depts=0", &[])).contains("department ids"));
        assert!(why(parse_line("u1 follower=@nobody", &[])).starts_with("follower|"));
        assert!(why(parse_line("u1 share-users=@a,@b", &["x"])).contains("cannot be matched"));
        assert!(why(parse_line("u1 name=", &[])).starts_with("name||must not be empty"));
        assert!(why(parse_line("u1 title", &[])).starts_with("key=value|title|"));
        let many = (1..=21)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert!(why(parse_line(&format!("u1 labels={many}"), &[])).contains("at most 20"));
        assert_eq!(parse_line("", &[]), Err(UsageError::Missing("<userId>")));
        assert_eq!(parse_line("u1", &[]), Err(UsageError::Missing("key=value")));
    }

    #[test]
    fn apply_changes_only_the_given_fields() {
        let current = ExtContact {
            user_id: "u1".into(),
            name: Some("张三".into()),
            follower_user_id: Some("f0".into()),
            label_ids: vec![1],
            title: Some("工程师".into()),
            remark: Some("老客户".into()),
            share_dept_ids: Some(vec![9]),
            ..Default::default()
        };
        let changes = parse_line("u1 title=经理 share-users=s1", &[])
            .unwrap()
            .changes;
        let next = changes.apply(&current, None);
        assert_eq!(next.title.as_deref(), Some("经理"));
        assert_eq!(next.share_user_ids, Some(vec!["s1".to_owned()]));
        assert_eq!(
            (next.name, next.remark, next.label_ids),
            (current.name, current.remark, vec![1])
        );
        assert_eq!(next.share_dept_ids, Some(vec![9]));
    }
}
