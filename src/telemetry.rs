//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`); colours only on a
//! terminal, so log files and journald get plain text.
//!
//! Lines are handed to background writer threads, so a callback never waits on a write to
//! stderr. Two queues: audit events (target `qunguan::audit`) wait for room, so none is
//! lost; every other line is dropped when its queue is full (a stuck log reader must not
//! stall callbacks), and [`Logging::dropped`] counts those.
//!
//! Every field value is written without control characters (line breaks and tabs become
//! spaces), whatever a call site formats, so no text from a callback or from DingTalk can
//! start a line of its own or carry terminal escapes. Untrusted values are also logged with
//! `?` (quoted and escaped), so they read as one value.

use std::{fmt::Write as _, io::IsTerminal};

use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{
    EnvFilter,
    field::MakeExt,
    fmt::{format::Writer, writer::MakeWriterExt},
};

/// The audit trail's log target.
pub const AUDIT_TARGET: &str = "qunguan::audit";
/// Lines queued per writer. The default 128,000 preallocates about 4 MiB.
const QUEUED_LINES: usize = 8192;

/// The installed logging; keep it alive until exit: dropping it flushes queued lines.
pub struct Logging {
    _guards: [WorkerGuard; 2],
    dropped: ErrorCounter,
}

impl Logging {
    /// How many log lines were dropped because the queue was full.
    pub fn dropped(&self) -> ErrorCounter {
        self.dropped.clone()
    }
}

/// Installs the global subscriber. Later calls install nothing and return `None`.
pub fn init() -> Option<Logging> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (lines, lines_guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(QUEUED_LINES)
        .lossy(true)
        .finish(std::io::stderr());
    let dropped = lines.error_counter();
    let (audit, audit_guard) = NonBlockingBuilder::default()
        .buffered_lines_limit(QUEUED_LINES)
        .lossy(false)
        .finish(std::io::stderr());
    let writer = audit
        .with_filter(|meta| meta.target() == AUDIT_TARGET)
        .or_else(lines);
    let fields = tracing_subscriber::fmt::format::debug_fn(write_field).delimited(" ");
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .fmt_fields(fields)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init()
        .ok()
        .map(|()| Logging {
            _guards: [audit_guard, lines_guard],
            dropped,
        })
}

/// `name=value` (the message alone), without control characters.
fn write_field(
    out: &mut Writer<'_>,
    field: &tracing::field::Field,
    value: &dyn std::fmt::Debug,
) -> std::fmt::Result {
    let mut text = String::new();
    write!(text, "{value:?}")?;
    let text = strip_controls(&text);
    match field.name() {
        "message" => out.write_str(&text),
        name => write!(out, "{}={text}", name.strip_prefix("r#").unwrap_or(name)),
    }
}

/// An error and its sources, `outer: inner: …`, each once ("connection refused" hides
/// under reqwest's top message).
pub fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

/// `text` with line breaks and tabs as spaces and every other control character removed.
pub fn strip_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_spaces_or_go() {
        assert_eq!(strip_controls("plain"), "plain");
        assert_eq!(
            strip_controls("a\nqunguan::audit outcome=done\u{1b}[2J\u{7}b"),
            "a qunguan::audit outcome=done[2Jb"
        );
    }
}
