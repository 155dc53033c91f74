//! qunguan (群管): a DingTalk group-admin bot.
//!
//! Members @mention the bot in a group and type a command. DingTalk POSTs each message to
//! `/callback`; qunguan verifies the signature, acknowledges at once, and in the background
//! parses the command, calls the DingTalk API for that group and replies in the group.
//!
//! # Layout
//!
//! A callback travels down this list; each module knows only the ones below it.
//!
//! - [`server`]: routes (`/callback`, `/healthz`, `/readyz`, `/metrics`), start-up and
//!   graceful shutdown.
//! - [`callback`]: the `/callback` handler (the HTTP transport): signature extractor,
//!   body limits, the answer to DingTalk.
//! - [`stream`]: Stream mode (the WebSocket transport): tickets, frames, acknowledgements,
//!   keep-alive, reconnects with make-before-break.
//! - [`incoming`]: the transport-neutral message and the lenient decoding of its JSON.
//! - [`admission`]: dedupe on msgId, the in-flight bound, background processing and the
//!   reply, for every transport.
//! - [`message`]: text normalisation (NFKC, mentions, richText) and tokenising.
//! - [`commands`]: the registry (names, aliases, usage, permissions, binding needs), the
//!   dispatcher that applies it, and one file per command (group administration in
//!   `commands/group/`, with its confirmations).
//! - [`reply`]: a command's answer as DingTalk markdown; sessionWebhook or OpenAPI fallback.
//! - [`markdown`]: untrusted text (typed arguments, nicks, DingTalk's fields) made inert
//!   before it is placed in a reply.
//! - [`dingtalk`]: the DingTalk client: token caches, retries, the one envelope decoder,
//!   one file per API family.
//! - [`store`]: bindings (cid → chatid), seen msgIds, the audit trail, pending
//!   confirmations, schedules and their claims, and per-group change locks, behind a
//!   trait; SQLite by default, PostgreSQL for several replicas.
//! - [`scheduler`]: runs the commands `/schedule` saved when they are due, claimed in the
//!   store so exactly one replica runs each, through the same dispatcher as a typed one.
//! - [`app`]: the shared state, the bounded background worker, and one change at a time
//!   per group.
//! - [`config`], [`i18n`], [`ids`], [`metrics`], [`telemetry`], [`log_throttle`], [`clock`]:
//!   settings, reply texts, typed ids, Prometheus counters, logging, quieting floods, time;
//!   [`tls`]: the TLS client configuration of the connections qunguan opens itself.
//!
//! Beside the service:
//!
//! - [`policy`]: one TOML file of settings for many groups, read from chat/get, changed
//!   where they differ, audited with the file as source (`policy check|apply FILE`).
//! - [`tools`]: the other subcommands: `demo` (a simulated group in the terminal), `send`
//!   (a signed test callback against a deployment), `healthcheck` (for containers),
//!   `policy` (reads the settings, then runs [`policy`]).
//! - [`simulator`]: an in-memory DingTalk on 127.0.0.1 in DingTalk's wire formats, for the
//!   demo and the end-to-end tests.

pub mod admission;
pub mod app;
pub mod callback;
pub mod clock;
pub mod commands;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod dingtalk;
pub mod group;
pub mod i18n;
pub mod ids;
pub mod incoming;
pub mod log_throttle;
pub mod markdown;
pub mod message;
pub mod metrics;
pub mod policy;
pub mod reply;
pub mod scheduler;
pub mod server;
pub mod store;
pub mod stream;
pub mod telemetry;
pub mod tls;
pub mod tools;
