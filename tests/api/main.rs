//! End-to-end tests: the real server, a fake DingTalk over HTTP on 127.0.0.1, assertions on
//! what qunguan sent. One binary, one module per area.

mod audit;
mod callback;
mod commands;
mod connections;
mod contacts;
mod dingtalk;
mod event_support;
mod events;
mod fake;
mod faults;
mod group_members;
mod group_policy;
mod group_settings;
mod group_support;
mod hardening;
mod helpers;
mod lifecycle;
mod logs;
mod names;
mod permissions;
mod policy;
mod postgres;
mod process;
mod replicas;
mod replies;
mod scheduled_commands;
mod schedules;
mod signature;
mod store_contract;
mod stream;
mod tools;
