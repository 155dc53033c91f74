//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`); colours only on a
//! terminal, so log files and journald get plain text. Lines are handed to a background
//! writer thread, so a callback never waits on a write to stderr.

use std::io::IsTerminal;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Keep the returned guard alive until exit: dropping it
/// flushes the lines still queued. Later calls install nothing and return `None`.
pub fn init() -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Not lossy: under a flood, a full queue slows logging down rather than dropping
    // lines (audit events among them).
    // 8,192 queued lines: the default 128,000 preallocates about 4 MiB.
    let (writer, guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(8192)
        .lossy(false)
        .finish(std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .ok()
        .map(|()| guard)
}
