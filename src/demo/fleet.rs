//! The demo's other groups (a fleet of 200, bound at start) and `:policy check|apply
//! FILE`, which runs a policy file over them as `qunguan policy` would.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use qunguan_simulator::Simulator;
use serde_json::json;

use super::{Demo, sample};
use crate::{
    ids::{ChatId, OpenConversationId},
    policy::{self, Fleet, Progress, Verb},
};

/// How many groups the fleet has besides the sample group.
pub const FLEET: usize = 200;

/// Rows of a policy table the demo prints before it says how many more there are.
const SHOWN_ROWS: usize = 12;

pub fn chat(i: usize) -> String {
    format!("chatDEMOFLEET{i:03}")
}

fn cid(i: usize) -> String {
    format!("cidDemoFleet{i:03}==")
}

/// Adds the fleet: every group owned by the sample owner; one in ten muted, one in
/// seven not searchable, one in five with @all open to everyone, so a policy finds drift.
pub fn populate(sim: &Simulator) {
    let ids: Vec<&str> = sample::MEMBERS.iter().map(|m| m.staff_id).collect();
    for i in 1..=FLEET {
        let name = format!("分部 {i:03} 群");
        sim.add_group(&chat(i), &cid(i), &name, sample::OWNER, &ids);
        if i % 10 == 0 {
            sim.set_group_field(&chat(i), "chatBannedType", json!(1));
        }
        if i % 7 == 0 {
            sim.set_group_field(&chat(i), "searchable", json!(0));
        }
        if i % 5 == 0 {
            sim.set_group_field(&chat(i), "mentionAllAuthority", json!(0));
        }
    }
}

impl Demo {
    /// Binds the fleet, as `/bind` in each group would.
    pub(super) async fn bind_fleet(&self) -> Result<(), String> {
        for i in 1..=FLEET {
            let (Ok(chat), Ok(cid)) = (ChatId::parse(&chat(i)), OpenConversationId::parse(&cid(i)))
            else {
                return Err(format!("fleet group {i} has a malformed id"));
            };
            self.server
                .app
                .store
                .bind(&cid, &chat, crate::clock::now_ms())
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// `:policy check|apply FILE`. A check that finds drift is not a failure; a bad
    /// file, or a group that could not be changed, is.
    pub(super) async fn policy(&self, verb: &str, file: &str) -> bool {
        let verb = match verb {
            "check" => Verb::Check,
            "apply" => Verb::Apply,
            other => {
                out!("  `:policy {other}`: expected `:policy check FILE` or `:policy apply FILE`");
                return false;
            }
        };
        let path = self.resolve(file);
        let Ok(tables) = policy::load(&path) else {
            return false;
        };
        let app = &self.server.app;
        let fleet = Fleet {
            dingtalk: &app.dingtalk,
            store: app.store.as_ref(),
            turns: &app.turns,
        };
        let (code, report) = policy::run(fleet, &path, &tables, verb, Progress::Hidden).await;
        // The table can run to hundreds of rows: the first few, then the counts.
        let rows = report.lines().filter(|l| l.starts_with("chat")).count();
        let mut shown = 0;
        for line in report.lines() {
            if line.starts_with("chat") {
                shown += 1;
                if shown > SHOWN_ROWS {
                    continue;
                }
            }
            out!("  {line}");
            if shown == SHOWN_ROWS && rows > SHOWN_ROWS && line.starts_with("chat") {
                out!("  … and {} more rows", rows - SHOWN_ROWS);
            }
        }
        match verb {
            Verb::Check => code != policy::BAD_FILE,
            Verb::Apply => code == policy::OK,
        }
    }

    /// A relative path is looked for beside the script first, then in the working
    /// directory.
    fn resolve(&self, file: &str) -> PathBuf {
        let path = Path::new(file);
        match &self.script_dir {
            Some(dir) if path.is_relative() && dir.join(path).exists() => dir.join(path),
            _ => path.to_path_buf(),
        }
    }
}
