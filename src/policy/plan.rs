//! From tables to what each group should be, and from a group's chat/get to what differs.

use std::collections::{BTreeMap, HashMap};

use super::file::{Groups, Key, Problem, Table};
use crate::{dingtalk::ChatInfo, ids::ChatId};

/// One group and everything the file wants of it: each key's value and its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub chat: ChatId,
    pub wants: BTreeMap<Key, (i64, usize)>,
}

/// Every group the tables name (`"all"`: every one in `bound`), in the order the file
/// first names them. A group given two values for one key, by two tables, is a problem
/// naming both lines.
pub fn resolve(tables: &[Table], bound: &[ChatId]) -> Result<Vec<Wanted>, Vec<Problem>> {
    let mut order: Vec<ChatId> = Vec::new();
    let mut wanted: HashMap<ChatId, BTreeMap<Key, (i64, usize)>> = HashMap::new();
    let mut problems = Vec::new();
    for table in tables {
        let chats = match &table.groups {
            Groups::All => bound,
            Groups::Listed(chats) => chats.as_slice(),
        };
        for chat in chats {
            let entry = wanted.entry(chat.clone()).or_insert_with(|| {
                order.push(chat.clone());
                BTreeMap::new()
            });
            for (key, &(value, line)) in &table.wants {
                match entry.get(key) {
                    Some(&(earlier, first)) if earlier != value => problems.push(Problem {
                        line,
                        message: format!(
                            "`{}` of {chat} is {} here but {} on line {first}",
                            key.name(),
                            key.words(value),
                            key.words(earlier),
                        ),
                    }),
                    Some(_) => {}
                    None => {
                        entry.insert(*key, (value, line));
                    }
                }
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.line);
        problems.dedup();
        return Err(problems);
    }
    Ok(order
        .into_iter()
        .map(|chat| {
            let wants = wanted.remove(&chat).unwrap_or_default();
            Wanted { chat, wants }
        })
        .collect())
}

/// One setting that is not as the file wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub key: Key,
    /// What chat/get reports; `None` when it left the setting out.
    pub now: Option<i64>,
    pub want: i64,
    pub line: usize,
}

/// The switches of `info` that differ from `wanted`. Friending cannot be read, so it is
/// never drift (apply always sets it).
pub fn drift(info: &ChatInfo, wanted: &Wanted) -> Vec<Drift> {
    wanted
        .wants
        .iter()
        .filter_map(|(key, &(want, line))| {
            let Key::Switch(setting) = key else {
                return None;
            };
            let now = setting.current(info);
            (now != Some(want)).then_some(Drift {
                key: *key,
                now,
                want,
                line,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{group::Setting, policy::file::parse};

    fn chat(s: &str) -> ChatId {
        ChatId::parse(s).unwrap()
    }

    #[test]
    fn all_means_every_bound_group_and_tables_add_up() {
        let tables = parse(
            "[[policy]]\ngroups = \"all\"\nhistory = true\n\n[[policy]]\ngroups = [\"chatB\", \"chatC\"]\nmute-all = true\nhistory = true\n",
        )
        .unwrap();
        let wanted = resolve(&tables, &[chat("chatA"), chat("chatB")]).unwrap();
        let chats: Vec<&str> = wanted.iter().map(|w| w.chat.as_str()).collect();
        assert_eq!(chats, ["chatA", "chatB", "chatC"]);
        assert_eq!(wanted[0].wants.len(), 1);
        assert_eq!(wanted[1].wants.len(), 2, "history from both tables agrees");
        assert_eq!(wanted[1].wants[&Key::Switch(Setting::History)], (1, 3));
    }

    #[test]
    fn two_values_for_one_key_of_one_group_name_both_lines() {
        let tables = parse(
            "[[policy]]\ngroups = [\"chatA\"]\nmention-all = \"owner\"\n\n[[policy]]\ngroups = \"all\"\nmention-all = \"everyone\"\n",
        )
        .unwrap();
        let problems = resolve(&tables, &[chat("chatA")]).unwrap_err();
        assert_eq!(
            problems[0].to_string(),
            "line 7: `mention-all` of chatA is everyone here but owner on line 3"
        );
        assert!(
            resolve(&tables, &[]).is_ok(),
            "\"all\" names nobody: no clash"
        );
    }

    #[test]
    fn drift_is_what_chat_get_reports_otherwise() {
        let tables = parse(
            "[[policy]]\ngroups = [\"chatA\"]\nmute-all = true\nsearchable = false\nfriending = \"locked\"\n",
        )
        .unwrap();
        let wanted = &resolve(&tables, &[]).unwrap()[0];
        let info: ChatInfo =
            serde_json::from_value(serde_json::json!({"chatBannedType": 0, "searchable": 0}))
                .unwrap();
        let found = drift(&info, wanted);
        assert_eq!(
            found,
            [Drift {
                key: Key::Switch(Setting::Muted),
                now: Some(0),
                want: 1,
                line: 3
            }]
        );
        let info: ChatInfo = serde_json::from_value(serde_json::json!({})).unwrap();
        assert_eq!(drift(&info, wanted).len(), 2, "a setting left out differs");
    }
}
