//! What a policy run says: each group's result, the table at the end, and progress as it
//! goes (a bar on a terminal, one line per group otherwise).

use std::io::IsTerminal;

use super::{DIFFERS, Drift, Key, OK, Progress, Verb, Wanted};
use crate::ids::ChatId;

/// How one group went.
#[derive(Debug)]
pub(super) enum GroupResult {
    /// check: what differs. apply: what was changed (friending included).
    Ok(Vec<Change>),
    Failed(String),
}

/// A setting that differs (check) or was changed (apply).
#[derive(Debug, Clone)]
pub(super) struct Change {
    pub key: Key,
    pub now: Option<i64>,
    pub want: i64,
    pub line: usize,
}

impl From<Drift> for Change {
    fn from(d: Drift) -> Self {
        Change {
            key: d.key,
            now: d.now,
            want: d.want,
            line: d.line,
        }
    }
}

/// The end of a run: the table, the failures, the counts.
pub(super) struct Summary<'a> {
    rows: Vec<(&'a ChatId, &'a [Change])>,
    failures: Vec<(&'a ChatId, &'a str)>,
    groups: usize,
    /// Whether the file sets friending anywhere.
    friending: bool,
}

impl<'a> Summary<'a> {
    pub(super) fn of(wanted: &'a [Wanted], results: &'a [(usize, GroupResult)]) -> Self {
        let mut rows = Vec::new();
        let mut failures = Vec::new();
        for (i, result) in results {
            let chat = &wanted[*i].chat;
            match result {
                GroupResult::Ok(changes) if !changes.is_empty() => {
                    rows.push((chat, changes.as_slice()))
                }
                GroupResult::Ok(_) => {}
                GroupResult::Failed(why) => failures.push((chat, why.as_str())),
            }
        }
        Self {
            rows,
            failures,
            groups: wanted.len(),
            friending: wanted.iter().any(|w| w.wants.contains_key(&Key::Friending)),
        }
    }

    pub(super) fn render(&self, verb: Verb) -> String {
        let mut out = String::new();
        let changes: usize = self.rows.iter().map(|(_, c)| c.len()).sum();
        if !self.rows.is_empty() {
            let width = self
                .rows
                .iter()
                .map(|(c, _)| c.as_str().len())
                .max()
                .unwrap_or(5)
                .max(5);
            out.push_str(&format!(
                "{:width$}  {:12}  {:10}  {:10}  LINE\n",
                "GROUP",
                "SETTING",
                match verb {
                    Verb::Check => "NOW",
                    Verb::Apply => "WAS",
                },
                match verb {
                    Verb::Check => "WANTED",
                    Verb::Apply => "NOW",
                },
            ));
            for (chat, changes) in &self.rows {
                for c in *changes {
                    let now = match (c.key, c.now) {
                        (Key::Friending, _) => "(unread)",
                        (_, None) => "(missing)",
                        (key, Some(v)) => key.words(v),
                    };
                    out.push_str(&format!(
                        "{:width$}  {:12}  {:10}  {:10}  {}\n",
                        chat.as_str(),
                        c.key.name(),
                        now,
                        c.key.words(c.want),
                        c.line
                    ));
                }
            }
        }
        match verb {
            Verb::Check if self.rows.is_empty() => out.push_str(&format!(
                "{} group(s) checked: nothing differs from the file.\n",
                self.groups - self.failures.len()
            )),
            Verb::Check => out.push_str(&format!(
                "{} of {} group(s) differ from the file ({changes} setting(s)); qunguan policy apply changes them.\n",
                self.rows.len(),
                self.groups
            )),
            Verb::Apply => out.push_str(&format!(
                "{changes} change(s) in {} of {} group(s).\n",
                self.rows.len(),
                self.groups
            )),
        }
        if verb == Verb::Check && self.friending {
            out.push_str("friending cannot be read from DingTalk, so it is not compared; apply always sets it.\n");
        }
        if !self.failures.is_empty() {
            out.push_str(&format!("{} group(s) failed:\n", self.failures.len()));
            for (chat, why) in &self.failures {
                out.push_str(&format!("  {chat}: {why}\n"));
            }
        }
        out
    }

    pub(super) fn exit_code(&self, verb: Verb) -> u8 {
        let differs = verb == Verb::Check && !self.rows.is_empty();
        if differs || !self.failures.is_empty() {
            DIFFERS
        } else {
            OK
        }
    }
}

/// A bar on a terminal; one plain line per group otherwise (logs, CI); or nothing.
pub(super) struct Bar {
    shown: bool,
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
}

impl Bar {
    pub(super) fn new(total: usize, verb: Verb, progress: Progress) -> Self {
        let shown = progress == Progress::Shown;
        let bar = (shown && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {pos}/{len} groups ({eta} left)",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(match verb {
                Verb::Check => "checking",
                Verb::Apply => "applying",
            });
            bar
        });
        Self {
            shown,
            bar,
            total,
            done: Default::default(),
        }
    }

    pub(super) fn done(&self, chat: &ChatId, result: &GroupResult) {
        let n = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if !self.shown {
            return;
        }
        match &self.bar {
            Some(bar) => bar.inc(1),
            None => {
                let how = match result {
                    GroupResult::Ok(c) if c.is_empty() => "as the file says".to_owned(),
                    GroupResult::Ok(c) => format!("{} setting(s)", c.len()),
                    GroupResult::Failed(_) => "failed".to_owned(),
                };
                eprintln!("[{n}/{}] {chat}: {how}", self.total);
            }
        }
    }

    pub(super) fn shown(&self) -> bool {
        self.shown
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
