//! A policy file: one or more `[[policy]]` tables, each naming groups (`groups`, chatids
//! or `"all"`) and the settings they should have, keyed as the commands name them. Every
//! problem is reported with its line, all of them at once.

use std::{collections::BTreeMap, fmt};

use toml::{
    Spanned,
    de::{DeTable, DeValue},
};

use crate::{
    group::{Setting, Words},
    ids::ChatId,
};

/// What a table manages besides the six switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Switch(Setting),
    /// friendswitch/update: members may not add each other (`locked`) or may.
    Friending,
}

impl Key {
    /// Every key a table may have besides `groups`, in the order the table shows them.
    pub const ALL: [Key; 7] = [
        Key::Switch(Setting::Muted),
        Key::Switch(Setting::Searchable),
        Key::Switch(Setting::Validation),
        Key::Switch(Setting::History),
        Key::Switch(Setting::MentionAll),
        Key::Switch(Setting::Management),
        Key::Friending,
    ];

    /// The key as the file spells it (the command's own name).
    pub fn name(self) -> &'static str {
        match self {
            Key::Switch(s) => s.names()[0],
            Key::Friending => "friending",
        }
    }

    fn find(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The values the key takes, for messages.
    fn expected(self) -> &'static str {
        match self {
            Key::Switch(s) if s.words() == Words::EveryoneOwner => "\"everyone\" or \"owner\"",
            Key::Switch(_) => "true or false",
            Key::Friending => "\"locked\" or \"unlocked\"",
        }
    }

    /// The value (0/1, as chat/get reports it; friending: 1 = locked) a TOML value stands
    /// for, if it is one this key takes.
    fn value(self, v: &DeValue<'_>) -> Option<i64> {
        match (self, v) {
            (Key::Switch(s), DeValue::Boolean(b)) if s.words() != Words::EveryoneOwner => {
                Some(i64::from(*b))
            }
            // The words `/set` writes (`everyone`, `owner`), exactly.
            (Key::Switch(s), DeValue::String(text)) if s.words() == Words::EveryoneOwner => {
                [0, 1].into_iter().find(|&v| s.word(v) == text.as_ref())
            }
            (Key::Friending, DeValue::String(text)) => match text.as_ref() {
                "locked" => Some(1),
                "unlocked" => Some(0),
                _ => None,
            },
            _ => None,
        }
    }

    /// A value in the file's own words.
    pub fn words(self, value: i64) -> &'static str {
        match (self, value) {
            (Key::Friending, 1) => "locked",
            (Key::Friending, _) => "unlocked",
            (Key::Switch(s), v) if s.words() == Words::EveryoneOwner => s.word(v),
            (Key::Switch(_), 1) => "true",
            (Key::Switch(_), 0) => "false",
            _ => "?",
        }
    }
}

/// Which groups a table names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Groups {
    /// `"all"`: every bound group.
    All,
    Listed(Vec<ChatId>),
}

/// One `[[policy]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The line of its `[[policy]]` header (1-based).
    pub line: usize,
    pub groups: Groups,
    /// Each managed key, its value and the value's line.
    pub wants: BTreeMap<Key, (i64, usize)>,
}

/// A problem in the file, on a line (0 when the file as a whole is wrong).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

/// The largest policy file read, in bytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// Reads a policy file's text; every problem found, or the tables.
pub fn parse(source: &str) -> Result<Vec<Table>, Vec<Problem>> {
    let lines = Lines::new(source);
    if source.len() > MAX_FILE_BYTES {
        return Err(vec![Problem {
            line: 0,
            message: format!("the file is larger than {} MiB", MAX_FILE_BYTES >> 20),
        }]);
    }
    let root = match DeTable::parse(source) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            let line = e.span().map_or(0, |s| lines.of(s.start));
            return Err(vec![Problem {
                line,
                message: format!("not valid TOML: {}", e.message().trim()),
            }]);
        }
    };
    let mut problems = Vec::new();
    let mut tables = Vec::new();
    for (key, value) in &root {
        let at = lines.of(key.span().start);
        if key.get_ref().as_ref() != "policy" {
            problems.push(Problem {
                line: at,
                message: format!(
                    "unknown key `{}`: a policy file has only [[policy]] tables",
                    key.get_ref()
                ),
            });
            continue;
        }
        let DeValue::Array(array) = value.get_ref() else {
            problems.push(Problem {
                line: at,
                message: "`policy` must be tables written [[policy]]".into(),
            });
            continue;
        };
        for item in array {
            let line = lines.of(item.span().start);
            match item.get_ref() {
                DeValue::Table(table) => {
                    if let Some(t) = read_table(table, line, &lines, &mut problems) {
                        tables.push(t);
                    }
                }
                _ => problems.push(Problem {
                    line,
                    message: "each policy is a table, written [[policy]]".into(),
                }),
            }
        }
    }
    if tables.is_empty() && problems.is_empty() {
        problems.push(Problem {
            line: 0,
            message: "the file has no [[policy]] table".into(),
        });
    }
    if problems.is_empty() {
        Ok(tables)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

fn read_table(
    table: &DeTable<'_>,
    line: usize,
    lines: &Lines,
    problems: &mut Vec<Problem>,
) -> Option<Table> {
    let before = problems.len();
    let mut groups = None;
    let mut wants = BTreeMap::new();
    for (key, value) in table {
        let at = lines.of(key.span().start);
        let name: &str = key.get_ref().as_ref();
        if name == "groups" {
            groups = read_groups(value, lines, problems);
            continue;
        }
        let Some(k) = Key::find(name) else {
            let known: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
            problems.push(Problem {
                line: at,
                message: format!(
                    "unknown key `{name}`: expected groups, {}",
                    known.join(", ")
                ),
            });
            continue;
        };
        match k.value(value.get_ref()) {
            Some(v) => {
                wants.insert(k, (v, lines.of(value.span().start)));
            }
            None => problems.push(Problem {
                line: lines.of(value.span().start),
                message: format!("`{name}` takes {}", k.expected()),
            }),
        }
    }
    if !table.keys().any(|k| k.get_ref().as_ref() == "groups") {
        problems.push(Problem {
            line,
            message: "this [[policy]] has no `groups`".into(),
        });
    }
    if problems.len() > before {
        return None;
    }
    Some(Table {
        line,
        groups: groups?,
        wants,
    })
}

fn read_groups(
    value: &Spanned<DeValue<'_>>,
    lines: &Lines,
    problems: &mut Vec<Problem>,
) -> Option<Groups> {
    let line = lines.of(value.span().start);
    let expected = "`groups` is a list of chatids, or \"all\"";
    match value.get_ref() {
        DeValue::String(s) if s.as_ref() == "all" => Some(Groups::All),
        DeValue::Array(items) if !items.is_empty() => {
            let mut chats = Vec::new();
            let mut ok = true;
            for item in items {
                let at = lines.of(item.span().start);
                let parsed = match item.get_ref() {
                    DeValue::String(s) => ChatId::parse(s).map_err(|e| {
                        format!("`{}` is not a chatid: {e}", crate::markdown::inert(s, 64))
                    }),
                    _ => Err(expected.to_owned()),
                };
                match parsed {
                    Ok(chat) => chats.push(chat),
                    Err(message) => {
                        ok = false;
                        problems.push(Problem { line: at, message });
                    }
                }
            }
            ok.then_some(Groups::Listed(chats))
        }
        DeValue::Array(_) => {
            problems.push(Problem {
                line,
                message: "`groups` is empty".into(),
            });
            None
        }
        _ => {
            problems.push(Problem {
                line,
                message: expected.into(),
            });
            None
        }
    }
}

/// Byte offsets to 1-based line numbers.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(source: &str) -> Self {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { starts }
    }

    fn of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[policy]]
groups = ["chatf1a9", "chat0b8d"]
mute-all = false
searchable = false
validation = true
history = true
mention-all = "owner"
management = "everyone"
friending = "locked"

[[policy]]
groups = "all"
history = false
"#;

    #[test]
    fn a_good_file_reads_into_tables_with_their_lines() {
        let tables = parse(GOOD).unwrap();
        assert_eq!(tables.len(), 2);
        assert_eq!(tables[0].line, 2);
        assert_eq!(
            tables[0].groups,
            Groups::Listed(vec![
                ChatId::parse("chatf1a9").unwrap(),
                ChatId::parse("chat0b8d").unwrap()
            ])
        );
        assert_eq!(tables[0].wants[&Key::Switch(Setting::Muted)], (0, 4));
        assert_eq!(tables[0].wants[&Key::Switch(Setting::MentionAll)], (1, 8));
        assert_eq!(tables[0].wants[&Key::Switch(Setting::Management)], (0, 9));
        assert_eq!(tables[0].wants[&Key::Friending], (1, 10));
        assert_eq!(tables[1].groups, Groups::All);
        assert_eq!(tables[1].line, 12);
        assert_eq!(tables[1].wants.len(), 1);
    }

    #[test]
    fn every_problem_is_named_with_its_line() {
        let bad = r#"[[policy]]
groups = ["chatok", "cidNotAChat==", 7]
mute-all = "yes"
mention-all = true
colour = "red"

[[policy]]
history = true

[settings]
x = 1
"#;
        let problems: Vec<String> = parse(bad)
            .unwrap_err()
            .iter()
            .map(|p| p.to_string())
            .collect();
        let want = [
            "line 2: `cidNotAChat==` is not a chatid",
            "line 2: `groups` is a list of chatids",
            "line 3: `mute-all` takes true or false",
            "line 4: `mention-all` takes \"everyone\" or \"owner\"",
            "line 5: unknown key `colour`",
            "line 7: this [[policy]] has no `groups`",
            "line 10: unknown key `settings`",
        ];
        assert_eq!(problems.len(), want.len(), "{problems:#?}");
        for (got, want) in problems.iter().zip(want) {
            assert!(got.starts_with(want), "{got} ≠ {want}");
        }
    }

    #[test]
    fn broken_toml_and_an_empty_file_are_named() {
        let p = parse("[[policy]]\ngroups = [\"chat1\"\nhistory = true\n").unwrap_err();
        assert!(p[0].to_string().starts_with("line "), "{p:?}");
        assert!(p[0].message.starts_with("not valid TOML"), "{p:?}");
        assert_eq!(
            parse("").unwrap_err()[0].to_string(),
            "the file has no [[policy]] table"
        );
        assert_eq!(
            parse("[[policy]]\ngroups = []\n").unwrap_err()[0].to_string(),
            "line 2: `groups` is empty"
        );
    }
}
