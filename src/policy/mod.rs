//! `qunguan policy check FILE` and `qunguan policy apply FILE`: one file of rules for many
//! groups. `check` reads each group (chat/get) and prints what differs; `apply` changes
//! only that (and sets friending, which cannot be read), audited with the file as source.
//!
//! Exit codes, as `terraform plan -detailed-exitcode`: `check` 0 when nothing differs, 1
//! when something does (or a group could not be read), 2 for a bad file; `apply` 0 when
//! every group is as the file says, 1 when a group failed (the others are still done), 2
//! for a bad file. Calls go through the same client as `serve`: its rate limit, retries
//! of transient errors and one envelope decoder.

mod apply;
mod file;
mod plan;
mod report;
mod source;

use std::{collections::HashMap, path::Path, time::Instant};

use futures_util::{StreamExt, stream};

pub use file::{Groups, Key, Problem, Table, parse};
pub use plan::{Drift, Wanted, drift, resolve};

use report::{Bar, Change, GroupResult, Summary};

use crate::{
    clock::now_ms,
    dingtalk::DingTalkError,
    group::{Setting, Writer},
    ids::{ChatId, OpenConversationId},
};

/// Groups worked on at once (the rate limit paces the calls themselves).
const CONCURRENCY: usize = 4;

/// What to do with the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Check,
    Apply,
}

/// Exit code: nothing differs / everything done.
pub const OK: u8 = 0;
/// Exit code: something differs (check), or a group failed.
pub const DIFFERS: u8 = 1;
/// Exit code: the file (or the settings) cannot be used.
pub const BAD_FILE: u8 = 2;

/// Reads and checks the file; prints each problem (`FILE:LINE: …`) to stderr.
pub fn load(path: &Path) -> Result<Vec<Table>, u8> {
    let source = source::read(path).map_err(|problem| {
        eprintln!("{}: {problem}", path.display());
        BAD_FILE
    })?;
    parse(&source).map_err(|problems| {
        report(path, &problems);
        BAD_FILE
    })
}

fn report(path: &Path, problems: &[Problem]) {
    for p in problems {
        match p.line {
            0 => eprintln!("{}: {}", path.display(), p.message),
            line => eprintln!("{}:{line}: {}", path.display(), p.message),
        }
    }
    eprintln!(
        "{}: {} problem(s); nothing was read or changed",
        path.display(),
        problems.len()
    );
}

/// What a run works through: the one write path to a group ([`Writer`]: the DingTalk
/// client with its rate limit, retries and decoder, the store with bound groups and the
/// audit trail, and the groups' turns, so a change to a group waits for any other, in this
/// process and across replicas).
pub type Fleet<'a> = Writer<'a>;

/// How a run reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// A bar on a terminal, one line per group otherwise (stderr).
    Shown,
    Hidden,
}

/// Runs `verb` over the groups of the tables read from `path`; returns the exit code and
/// the report (the table, the counts, the failures) to print.
pub async fn run(
    fleet: Fleet<'_>,
    path: &Path,
    tables: &[Table],
    verb: Verb,
    progress: Progress,
) -> (u8, String) {
    let bindings = match fleet.store.bindings().await {
        Ok(b) => b,
        Err(e) => {
            return (
                BAD_FILE,
                format!("cannot read the bound groups from the database: {e}\n"),
            );
        }
    };
    let bound: Vec<ChatId> = bindings.iter().map(|(_, chat)| chat.clone()).collect();
    let wanted = match resolve(tables, &bound) {
        Ok(w) => w,
        Err(problems) => {
            report(path, &problems);
            return (BAD_FILE, String::new());
        }
    };
    let cids: HashMap<ChatId, OpenConversationId> = bindings
        .into_iter()
        .map(|(cid, chat)| (chat, cid))
        .collect();
    let source = format!(
        "policy {}",
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        )
    );
    let progress = Bar::new(wanted.len(), verb, progress);
    let started = Instant::now();
    let ctx = Run {
        fleet,
        cids: &cids,
        source: &source,
        batch: now_ms(),
    };
    let mut results: Vec<(usize, GroupResult)> = stream::iter(wanted.iter().enumerate())
        .map(|(i, w)| {
            let ctx = &ctx;
            let progress = &progress;
            async move {
                let result = match verb {
                    Verb::Check => ctx.check(w).await,
                    Verb::Apply => ctx.apply(i, w).await,
                };
                progress.done(&w.chat, &result);
                (i, result)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    progress.finish();
    results.sort_by_key(|(i, _)| *i);
    let summary = Summary::of(&wanted, &results);
    if progress.shown() {
        eprintln!(
            "{} {} group(s) in {:.1} s",
            match verb {
                Verb::Check => "checked",
                Verb::Apply => "applied to",
            },
            wanted.len(),
            started.elapsed().as_secs_f64()
        );
    }
    (summary.exit_code(verb), summary.render(verb))
}

struct Run<'a> {
    fleet: Fleet<'a>,
    cids: &'a HashMap<ChatId, OpenConversationId>,
    source: &'a str,
    /// Names this run's audit records (`policy-<ms>-<group>-<n>`).
    batch: i64,
}

impl Run<'_> {
    async fn check(&self, w: &Wanted) -> GroupResult {
        match self.fleet.dingtalk.chat_info_fresh(&w.chat).await {
            Ok(info) => GroupResult::Ok(drift(&info, w).into_iter().map(Change::from).collect()),
            Err(e) => GroupResult::Failed(failure(&e)),
        }
    }
}

/// The command (and arguments) a change is audited as, as if typed.
fn command_of(key: Key, value: i64) -> (&'static str, String) {
    match key {
        Key::Switch(Setting::Muted) if value == 1 => ("mute-all", String::new()),
        Key::Switch(Setting::Muted) => ("unmute-all", String::new()),
        Key::Friending if value == 1 => ("lock-friending", String::new()),
        Key::Friending => ("unlock-friending", String::new()),
        Key::Switch(setting) => (
            "set",
            format!("{} {}", setting.names()[0], setting.word(value)),
        ),
    }
}

/// A failure for the operator: what DingTalk said, never a secret (the error carries
/// none; URLs are not in it).
fn failure(e: &DingTalkError) -> String {
    e.to_string()
}
