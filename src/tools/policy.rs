//! `qunguan policy check|apply FILE`: the settings of `serve`, then [`crate::policy`].

use std::{path::Path, process::ExitCode};

use crate::{
    config::Config,
    dingtalk::DingTalkClient,
    metrics::Metrics,
    policy::{BAD_FILE, Fleet, Progress, Verb, load, run},
    store::{self, Replay},
};

/// `qunguan policy check|apply FILE`: the file first (a bad one exits 2 before anything
/// is read), then the settings of `serve` (the environment or `.env`), then the groups.
pub fn main(verb: Verb, path: &Path) -> ExitCode {
    let tables = match load(path) {
        Ok(tables) => tables,
        Err(code) => return ExitCode::from(code),
    };
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("qunguan policy: {e}");
            return ExitCode::from(BAD_FILE);
        }
    };
    super::block_on(async {
        let store = match store::open(&config.database, Replay::of(&config)).await {
            Ok(store) => std::sync::Arc::new(store::Bounded::new(store, config.store_timeout))
                as std::sync::Arc<dyn store::Store>,
            Err(e) => {
                eprintln!("qunguan policy: QUNGUAN_DATABASE_URL: {e}");
                return ExitCode::from(BAD_FILE);
            }
        };
        let dingtalk = match DingTalkClient::new(&config, Metrics::default()) {
            Ok(client) => client,
            Err(e) => {
                eprintln!("qunguan policy: cannot set up the HTTP client: {e}");
                return ExitCode::from(BAD_FILE);
            }
        };
        // A running server's changes and this run's take turns through the store's
        // group leases, on SQLite as on PostgreSQL.
        let turns = crate::group::Turns::new(store.clone());
        let fleet = Fleet {
            dingtalk: &dingtalk,
            store: store.as_ref(),
            turns: &turns,
        };
        let (code, report) = run(fleet, path, &tables, verb, Progress::Shown).await;
        print!("{report}");
        ExitCode::from(code)
    })
}
