//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`); colours only on a
//! terminal, so log files and journald get plain text.
//!
//! Lines are handed to background writer threads, so a callback never waits on a write to
//! stderr. Two queues: audit events (target `qunguan::audit`) wait for room, so none is
//! lost; every other line is dropped when its queue is full (a stuck log reader must not
//! stall callbacks), and [`Logging::dropped`] counts those.
//!
//! No level shows a secret, whatever `RUST_LOG` asks for: the dependencies that print raw
//! requests, frames or query parameters are held at INFO ([`RAW_TARGETS`]), and qunguan
//! shows a URL only through [`redacted_url`].
//!
//! Every field value is written without control characters (line breaks and tabs become
//! spaces), whatever a call site formats, so no text from a callback or from DingTalk can
//! start a line of its own or carry terminal escapes. Untrusted values are also logged with
//! `?` (quoted and escaped), so they read as one value.

use std::{fmt::Write as _, io::IsTerminal};

use tracing::level_filters::LevelFilter;
use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{
    EnvFilter,
    field::MakeExt,
    filter::Targets,
    fmt::{format::Writer, writer::MakeWriterExt},
    layer::SubscriberExt,
    util::SubscriberInitExt,
};

/// The audit trail's log target.
pub const AUDIT_TARGET: &str = "qunguan::audit";
/// Lines queued per writer. The default 128,000 preallocates about 4 MiB.
const QUEUED_LINES: usize = 8192;
/// Dependencies whose lines below INFO show what passes through them, held at INFO even
/// under `RUST_LOG=trace` (a lower `RUST_LOG` still quiets them): tungstenite (DEBUG: the
/// URI it dials; TRACE: the handshake request, whose query is the Stream ticket, and every
/// frame, sessionWebhooks in them), tokio-postgres (DEBUG: every statement's parameters),
/// reqwest (DEBUG: a proxy's URI, user and password included; TRACE: raw bytes), hyper and
/// hyper-util (DEBUG: a refused URI whole), and h2, rustls and postgres-protocol, which
/// print requests, handshakes or messages when built with logging.
pub const RAW_TARGETS: [&str; 7] = [
    "tungstenite",
    "tokio_postgres",
    "postgres_protocol",
    "reqwest",
    "hyper",
    "h2",
    "rustls",
];

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
        .finish()
        .with(raw_targets_capped())
        .try_init()
        .ok()
        .map(|()| Logging {
            _guards: [audit_guard, lines_guard],
            dropped,
        })
}

/// Every target at any level, but [`RAW_TARGETS`] at INFO at most; used beside the
/// `RUST_LOG` filter, so a line is written only if both let it through.
fn raw_targets_capped() -> Targets {
    RAW_TARGETS.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |t, target| t.with_target(*target, LevelFilter::INFO),
    )
}

/// `url` as it may be logged or put in an error: no user or password, no fragment, and
/// every query value `***` (the names kept: `?ticket=***`), since a query is where
/// DingTalk's URLs carry a ticket, an access token, a session or the app secret.
pub fn redacted_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);
    if shown.query().is_some() {
        let names: Vec<String> = url
            .query_pairs()
            .map(|(name, _)| name.into_owned())
            .collect();
        shown.set_query(None);
        if !names.is_empty() {
            let mut query = shown.query_pairs_mut();
            for name in &names {
                query.append_pair(name, "***");
            }
        }
    }
    shown.to_string()
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
    fn a_url_is_shown_without_its_query_values_or_credentials() {
        let shown = |u: &str| redacted_url(&url::Url::parse(u).unwrap());
        assert_eq!(
            shown("wss://gw.example.com/connect?ticket=T0P-SECRET"),
            "wss://gw.example.com/connect?ticket=***"
        );
        assert_eq!(
            shown("https://oapi.example.com/gettoken?appkey=k&appsecret=S3CRET#x"),
            "https://oapi.example.com/gettoken?appkey=***&appsecret=***"
        );
        assert_eq!(
            shown("http://u:pw@127.0.0.1:9/robot/sendBySession?session=SESS"),
            "http://127.0.0.1:9/robot/sendBySession?session=***"
        );
        assert_eq!(shown("http://127.0.0.1:9/a?"), "http://127.0.0.1:9/a");
        assert_eq!(shown("http://127.0.0.1:9/a"), "http://127.0.0.1:9/a");
    }

    #[test]
    fn raw_dependencies_stay_at_info_whatever_is_asked() {
        let capped = raw_targets_capped();
        for target in [
            "tungstenite::handshake::client",
            "tokio_postgres::query",
            "hyper_util::client",
        ] {
            assert!(
                capped.would_enable(target, &tracing::Level::INFO),
                "{target}"
            );
            assert!(
                !capped.would_enable(target, &tracing::Level::DEBUG),
                "{target}"
            );
        }
        assert!(capped.would_enable("qunguan::stream", &tracing::Level::TRACE));
        assert!(capped.would_enable("tokio_tungstenite", &tracing::Level::TRACE));
    }

    #[test]
    fn controls_become_spaces_or_go() {
        assert_eq!(strip_controls("plain"), "plain");
        assert_eq!(
            strip_controls("a\nqunguan::audit outcome=done\u{1b}[2J\u{7}b"),
            "a qunguan::audit outcome=done[2Jb"
        );
    }
}
