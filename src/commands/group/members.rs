//! Who a command is about: the members the admin @mentioned and the staff ids typed as
//! words, in order; and what chat/get says about them.

use std::collections::HashSet;

use crate::{
    dingtalk::ChatInfo, i18n::Lang, ids::StaffId, incoming::Mention, markdown, message::fold,
};

use crate::commands::{Args, UsageError};

/// How a target argument is shown in usage.
pub const TARGET: &str = "<@member|staffId>";

/// Whether a word is the text of an @mention.
pub fn is_mention_word(word: &str) -> bool {
    word.starts_with(['@', '＠'])
}

/// The targets in `words` (which may be a slice of the arguments), in order: each
/// `@name` word takes the next member @mentioned after the command (the only ones
/// [`Args::mentions`] holds), any other word is a staff id, and the mentions no word took
/// (those typed last, which tidying took off the end of the line) follow.
/// Repeats are dropped (in linear time: anyone may send a message of many words, and the
/// arguments are parsed before the sender is checked).
pub fn targets(args: &Args<'_>, words: &[String]) -> Result<Vec<StaffId>, UsageError> {
    let mut mentions = args.mentions.iter();
    let mut out = Targets::default();
    for word in words {
        let target = if is_mention_word(word) {
            match mentions.next() {
                Some(mention) => mentioned(mention, word, args.lang)?,
                // An @word without an atUsers entry: the bot's own, or not a real mention.
                None => continue,
            }
        } else {
            typed(word, args.lang)?
        };
        out.push(target);
    }
    for mention in mentions {
        out.push(mentioned(mention, "@", args.lang)?);
    }
    if out.order.is_empty() {
        return Err(UsageError::Missing(TARGET));
    }
    Ok(out.order)
}

/// Targets in order, each once.
#[derive(Default)]
struct Targets {
    order: Vec<StaffId>,
    seen: HashSet<StaffId>,
}

impl Targets {
    fn push(&mut self, target: StaffId) {
        if self.seen.insert(target.clone()) {
            self.order.push(target);
        }
    }
}

fn mentioned(mention: &Mention, word: &str, lang: Lang) -> Result<StaffId, UsageError> {
    mention.staff_id.clone().ok_or_else(|| UsageError::Invalid {
        arg: TARGET,
        value: word.to_owned(),
        why: lang.group_texts().target_no_staff_id.to_owned(),
    })
}

fn typed(word: &str, lang: Lang) -> Result<StaffId, UsageError> {
    StaffId::parse(&fold(word)).map_err(|_| UsageError::Invalid {
        arg: TARGET,
        value: word.to_owned(),
        why: lang.group_texts().target_bad_staff_id.to_owned(),
    })
}

/// Exactly one target.
pub fn one_target(args: &Args<'_>, words: &[String]) -> Result<StaffId, UsageError> {
    let mut all = targets(args, words)?;
    if all.len() > 1 {
        return Err(UsageError::Invalid {
            arg: TARGET,
            value: all[1].as_str().to_owned(),
            why: args.lang.group_texts().target_one.to_owned(),
        });
    }
    Ok(all.remove(0))
}

/// The group's members per chat/get, or `None` when it did not list them.
pub fn member_list(info: &ChatInfo) -> Option<&[String]> {
    info.useridlist.as_deref()
}

/// Those of `targets` that chat/get does not list as members.
pub fn not_members<'t>(members: &[String], targets: &'t [StaffId]) -> Vec<&'t StaffId> {
    let members: HashSet<&str> = members.iter().map(String::as_str).collect();
    targets
        .iter()
        .filter(|t| !members.contains(t.as_str()))
        .collect()
}

/// People as the group reads them: each staff id in a code span, joined.
pub fn people<'a>(ids: impl IntoIterator<Item = &'a StaffId>) -> String {
    ids.into_iter()
        .map(|id| markdown::code(id.as_str(), markdown::ECHO_LIMIT))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The staff ids, space-separated, as the audit trail records a confirmed command.
pub fn listed(ids: &[StaffId]) -> String {
    ids.iter()
        .map(StaffId::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(staff: Option<&str>) -> Mention {
        Mention {
            dingtalk_id: "$:LWCP".into(),
            staff_id: staff.map(|s| StaffId::parse(s).unwrap()),
        }
    }

    fn run(words: &[&str], mentions: &[Mention]) -> Result<Vec<String>, UsageError> {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let args = Args {
            words: &words,
            lang: Lang::En,
            mentions,
        };
        targets(&args, &words).map(|t| t.iter().map(|s| s.as_str().to_owned()).collect())
    }

    #[test]
    fn mentions_and_typed_ids_keep_their_order() {
        let m = [mention(Some("zhang")), mention(Some("li"))];
        assert_eq!(
            run(&["u1", "@张三", "u2", "@李四"], &m).unwrap(),
            ["u1", "zhang", "u2", "li"]
        );
        // The mentions typed last were taken off the end of the line: they follow.
        assert_eq!(run(&["u1"], &m).unwrap(), ["u1", "zhang", "li"]);
        assert_eq!(
            run(&["ｕ１", "u1", "@张三"], &m[..1]).unwrap(),
            ["u1", "zhang"]
        );
    }

    #[test]
    fn a_mention_without_a_staff_id_or_nothing_at_all_is_a_usage_error() {
        let e = run(&["@外部"], &[mention(None)]).unwrap_err();
        assert!(matches!(e, UsageError::Invalid { .. }), "{e:?}");
        assert_eq!(run(&[], &[]), Err(UsageError::Missing(TARGET)));
        // An @word with no mention behind it (the bot's own) is not a target.
        assert_eq!(run(&["@群管"], &[]), Err(UsageError::Missing(TARGET)));
    }
}
