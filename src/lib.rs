//! qunguan (群管): a DingTalk group-admin bot.
//!
//! Members @mention the bot in a group and type a command. DingTalk delivers each message by
//! HTTP callback or over Stream mode; qunguan verifies it, acknowledges at once, and in the
//! background parses the command, calls the DingTalk API for that group and replies there.
//!
//! # Layout
//!
//! From the top floor down: each module uses only modules on the floors below its own
//! (the test in `layout.rs` holds the imports to it).
//!
//! - [`demo`] (the default feature `demo`): `qunguan demo`, a simulated group in the
//!   terminal, against the simulator crate (`simulator/`).
//! - [`tools`]: the other subcommands: `send` (a signed test callback against a
//!   deployment), `healthcheck` (for containers), `policy` (reads the settings, then runs
//!   [`policy`]).
//! - [`server`]: routes (`/callback`, `/healthz`, `/readyz`, `/metrics`), start-up and
//!   graceful shutdown.
//! - [`callback`], [`stream`], [`scheduler`]: the ways a command starts: the HTTP transport
//!   (signature extractor, body limits, the answer to DingTalk), the Stream transport
//!   (tickets, frames, acknowledgements, keep-alive, reconnects; group events too), and the
//!   runs `/schedule` saved, claimed in the store so exactly one replica runs each.
//! - [`events`]: group events from the DingTalk client, over Stream or HTTP `/events`
//!   (verified, decrypted), each handled once: the group binds itself, the audit trail
//!   records the change, a new owner is seen at once, a dissolved group is forgotten,
//!   newcomers are welcomed.
//! - [`admission`]: the replay defence, the in-flight bound, background processing and
//!   the reply, for every transport.
//! - [`policy`]: one TOML file of settings for many groups, read from chat/get, changed
//!   where they differ, audited with the file as source (`policy check|apply FILE`).
//! - [`commands`]: the registry (names, aliases, usage, permissions, binding needs), the
//!   dispatcher that applies it, one file per command, and the audit trail.
//! - [`app`]: the shared state and the bounded background worker.
//! - [`group`]: a group's six switches and the one way to change a group (its turn, a
//!   fresh chat/get, all six sent back).
//! - [`reply`]: a command's answer as DingTalk markdown; sessionWebhook or OpenAPI fallback.
//! - [`dingtalk`]: the DingTalk client: token caches, retries, the one envelope decoder,
//!   one file per API family.
//! - [`store`]: bindings (cid → chatid), the replay defence's msgIds, the audit trail,
//!   pending confirmations, schedules and their leased runs, and per-group change leases,
//!   behind a trait, each call within a deadline; SQLite by default, PostgreSQL for
//!   several replicas.
//! - [`message`]: text normalisation (NFKC, mentions, richText), tokenising and quoting
//!   back, and names that cannot be seen or show as other text.
//! - [`incoming`]: the transport-neutral message and the lenient decoding of its JSON.
//! - [`config`]: settings from the environment and `.env`, checked in one pass.
//! - [`i18n`]: every reply text, in Chinese and English.
//! - [`markdown`]: untrusted text (typed arguments, nicks, DingTalk's fields) made inert
//!   before it is placed in a reply.
//! - [`metrics`], [`telemetry`], [`log_throttle`], [`ids`], [`clock`], [`tls`], [`crypto`]:
//!   Prometheus counters, logging, quieting floods, typed ids, time, the TLS client
//!   configuration of the connections qunguan opens itself, and DingTalk's encryption of
//!   pushed events.

pub mod admission;
pub mod app;
pub mod callback;
pub mod clock;
pub mod commands;
pub mod config;
pub mod crypto;
#[cfg(feature = "demo")]
pub mod demo;
pub mod dingtalk;
pub mod events;
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

#[cfg(test)]
mod layout;
