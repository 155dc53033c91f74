//! The subcommands besides `serve` and `demo`: [`send`] (a signed test callback against a
//! deployment), [`healthcheck`] (for containers) and [`policy`] (one file of settings for
//! many groups). Each has a `main` that prints and returns the process's exit code.
//! [`signed`] builds the signed callbacks `send` and the demo post.

pub mod healthcheck;
pub mod policy;
pub mod send;
pub mod signed;

use std::{future::Future, process::ExitCode};

use crate::config;

/// Runs `f` on a multi-threaded runtime.
pub fn block_on(f: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(f),
        Err(e) => {
            eprintln!("qunguan: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A setting from the environment or `.env`, as `serve` reads them.
pub fn setting(name: &str) -> Option<String> {
    config::env_lookup().ok()?(name)
}
