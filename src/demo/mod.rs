//! `qunguan demo`: a DingTalk group in the terminal.
//!
//! The real server runs on 127.0.0.1 against the [`Simulator`], which holds a sample group
//! (bound at start through `QUNGUAN_GROUPS`), its members, an external contact and labels.
//! Each line typed is sent as a signed @mention callback to `/callback`; the reply, as it
//! reaches the simulated sessionWebhook (or the OpenAPI send, if qunguan falls back), is
//! printed as the group would show it.

/// `println!` that does not panic when stdout is closed (`qunguan demo | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod client;
mod clock;
mod exchange;
mod fleet;
mod render;
mod sample;
mod session;

use std::{
    io::{BufRead, IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
    time::Duration,
};

use qunguan_simulator::{Delivered, Simulator};
use secrecy::SecretString;
use tokio::sync::{broadcast, mpsc};

use crate::{i18n::Lang, server::RunningServer, telemetry};

/// What `qunguan demo` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run these lines instead of prompting.
    pub script: Option<PathBuf>,
    /// Reply language; `QUNGUAN_LANG` or Chinese when unset.
    pub lang: Option<Lang>,
    pub mode: DemoMode,
}

/// How the demo's messages reach qunguan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DemoMode {
    /// Signed HTTP callbacks to `/callback`.
    #[default]
    Http,
    /// Frames pushed by the simulated Stream gateway over qunguan's WebSocket.
    Stream,
}

/// How a demo run went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub messages: usize,
    /// Replies titled "not done" or "went wrong", missing replies, and bad prompt lines.
    pub failures: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot read the script {path}: {source}")]
    Script {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start the demo: {0}")]
    Start(String),
}

/// `qunguan demo`: exit 0, or 1 if a script's reply was an error or the demo could not
/// start, or 2 if the script cannot be read.
pub fn main(options: Options) -> ExitCode {
    // Logs would interleave with the conversation; RUST_LOG turns them on (to stderr).
    let _log_guard = std::env::var_os("RUST_LOG").and_then(|_| telemetry::init());
    let scripted = options.script.is_some();
    crate::tools::block_on(async {
        match run(options).await {
            Ok(summary) if scripted && summary.failures > 0 => ExitCode::FAILURE,
            Ok(_) => ExitCode::SUCCESS,
            Err(e @ DemoError::Script { .. }) => {
                eprintln!("qunguan demo: {e}");
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("qunguan demo: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Starts the simulator and qunguan, then runs the script or the prompt until the end.
pub async fn run(options: Options) -> Result<Summary, DemoError> {
    let script = match &options.script {
        Some(path) => Some(read_script(path)?),
        None => None,
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let lang = options
        .lang
        .or_else(|| std::env::var("QUNGUAN_LANG").ok()?.parse().ok())
        .unwrap_or_default();
    let mut demo = Demo::start(lang, color, options.mode).await?;
    demo.script_dir = options
        .script
        .as_ref()
        .and_then(|p| p.parent().map(PathBuf::from));
    demo.banner(script.is_none());
    let mut summary = Summary::default();
    match script {
        Some(lines) => {
            for (n, line) in lines {
                let line = demo.expand(&line);
                demo.echo(&line);
                if line == ":quit" || line == ":q" {
                    break;
                }
                if !demo.line(&line).await {
                    summary.failures += 1;
                    out!("  ✗ script line {n} failed");
                }
                summary.messages += 1;
            }
            out!("\n{} lines, {} failed.", summary.messages, summary.failures);
        }
        None => {
            let mut input = stdin_lines();
            let interactive = std::io::stdin().is_terminal();
            loop {
                if interactive {
                    demo.prompt();
                }
                let Some(line) = input.recv().await else {
                    break;
                };
                let line = demo.expand(line.trim());
                let line = line.as_str();
                if line.is_empty() {
                    continue;
                }
                if !interactive {
                    demo.echo(line);
                }
                if line == ":quit" || line == ":q" {
                    break;
                }
                summary.messages += 1;
                if !demo.line(line).await {
                    summary.failures += 1;
                }
            }
            out!();
        }
    }
    demo.server
        .stop()
        .await
        .map_err(|e| DemoError::Start(format!("qunguan did not stop cleanly: {e}")))?;
    Ok(summary)
}

/// The script's lines worth sending, numbered from 1: blank lines and `#` comments skipped.
fn read_script(path: &PathBuf) -> Result<Vec<(usize, String)>, DemoError> {
    let text = std::fs::read_to_string(path).map_err(|source| DemoError::Script {
        path: path.clone(),
        source,
    })?;
    Ok(text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim().to_owned()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect())
}

/// Lines from stdin, read on a thread of their own; the channel closes at end of input.
fn stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

struct Demo {
    sim: Simulator,
    sim_url: String,
    server: RunningServer,
    http: reqwest::Client,
    secret: SecretString,
    outbox: broadcast::Receiver<Delivered>,
    sender: String,
    lang: Lang,
    color: bool,
    reply_wait: Duration,
    mode: DemoMode,
    /// The code of the last reply that asked for `/confirm <code>`; a line's `{code}`
    /// stands for it, so a script can confirm what it asked for.
    last_code: Option<String>,
    /// The script's directory, where `:policy` looks for a relative file first.
    script_dir: Option<PathBuf>,
    /// DingTalk's side of the event push, for forwarding the client's events in HTTP mode.
    events: crate::crypto::EventCrypto,
}
