//! Reading each kind of setting: required and optional text, numbers in a range, URLs,
//! lists of ids, time zones, the database URL, the event push's secrets. Each reader
//! records what is wrong with its setting and goes on, so every problem is reported at once.

use std::{fmt, path::PathBuf};

use secrecy::SecretString;
use url::Url;

use super::{Database, PostgresUrl, without_password};
use crate::crypto::EventSecrets;

pub(super) struct Parser<'a> {
    pub(super) lookup: &'a dyn Fn(&str) -> Option<String>,
    pub(super) problems: Vec<String>,
}

impl Parser<'_> {
    pub(super) fn optional(&self, name: &str) -> Option<String> {
        (self.lookup)(name).map(|v| v.trim().to_owned())
    }

    pub(super) fn required(&mut self, name: &str, what: &str) -> Option<String> {
        let value = self.optional(name);
        if value.is_none() {
            self.problems
                .push(format!("{name} is required: set it to {what}"));
        }
        value
    }

    pub(super) fn parsed<T: std::str::FromStr>(
        &mut self,
        name: &str,
        default: &str,
        want: &str,
    ) -> Option<T> {
        let raw = self.optional(name).unwrap_or_else(|| default.to_owned());
        let value = raw.parse().ok();
        if value.is_none() {
            self.problems
                .push(format!("{name}={raw:?} is not valid: expected {want}"));
        }
        value
    }

    pub(super) fn positive(&mut self, name: &str, default: u64, max: u64) -> Option<u64> {
        let value: u64 = self.parsed(name, &default.to_string(), "a whole number")?;
        if value == 0 || value > max {
            self.problems.push(format!(
                "{name}={value} is out of range: expected 1 to {max}"
            ));
            return None;
        }
        Some(value)
    }

    pub(super) fn timezone(&mut self, name: &str, default: &str) -> Option<jiff::tz::TimeZone> {
        let raw = self.optional(name).unwrap_or_else(|| default.to_owned());
        let zone = jiff::tz::TimeZone::get(&raw).ok();
        if zone.is_none() {
            self.problems.push(format!(
                "{name}={raw:?} is not a time zone: expected an IANA name like Asia/Shanghai"
            ));
        }
        zone
    }

    pub(super) fn boolean(&mut self, name: &str, default: bool) -> Option<bool> {
        let Some(raw) = self.optional(name) else {
            return Some(default);
        };
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => {
                self.problems.push(format!(
                    "{name}={raw:?} is not valid: expected true or false"
                ));
                None
            }
        }
    }

    pub(super) fn url(&mut self, name: &str, default: &str) -> Option<Url> {
        let raw = self.optional(name).unwrap_or_else(|| default.to_owned());
        match Url::parse(&raw) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && url.query().is_none()
                    && url.fragment().is_none() =>
            {
                Some(url)
            }
            _ => {
                self.problems.push(format!(
                    "{name}={raw:?} is not valid: expected an http(s) URL like {default}"
                ));
                None
            }
        }
    }

    pub(super) fn list<T, E: fmt::Display>(
        &mut self,
        name: &str,
        parse: fn(&str) -> Result<T, E>,
    ) -> Vec<T> {
        let raw = self.optional(name).unwrap_or_default();
        let mut items = Vec::new();
        for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match parse(item) {
                Ok(value) => items.push(value),
                Err(e) => self
                    .problems
                    .push(format!("{name}: item {item:?} is not valid: it {e}")),
            }
        }
        items
    }

    /// `DINGTALK_EVENT_TOKEN` and `DINGTALK_EVENT_AES_KEY`, the HTTP event push's secrets:
    /// both or neither (`Some(None)`: the push is off). Their values are never shown.
    pub(super) fn event_secrets(&mut self) -> Option<Option<EventSecrets>> {
        const TOKEN: &str = "DINGTALK_EVENT_TOKEN";
        const KEY: &str = "DINGTALK_EVENT_AES_KEY";
        let (token, key) = match (self.optional(TOKEN), self.optional(KEY)) {
            (None, None) => return Some(None),
            (Some(token), Some(key)) => (token, key),
            _ => {
                self.problems.push(format!(
                    "{TOKEN} and {KEY} go together: set both (事件订阅's HTTP push: 签名 token and 加密 aes_key) or neither"
                ));
                return None;
            }
        };
        let mut ok = true;
        if token.len() > 128 || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
            self.problems.push(format!(
                "{TOKEN} is not valid: expected the console's token (letters and digits)"
            ));
            ok = false;
        }
        let secrets = EventSecrets::new(SecretString::from(token), &SecretString::from(key));
        if secrets.is_err() {
            self.problems.push(format!(
                "{KEY} is not valid: expected the console's aes_key, exactly 43 letters and digits"
            ));
        }
        secrets.ok().filter(|_| ok).map(Some)
    }

    pub(super) fn database(&mut self) -> Option<Database> {
        let raw = self
            .optional("QUNGUAN_DATABASE_URL")
            .unwrap_or_else(|| super::DEFAULT_DATABASE_URL.to_owned());
        match parse_database_url(&raw) {
            Ok(db) => Some(db),
            Err(why) => {
                let shown = without_password(&raw);
                self.problems.push(format!(
                    "QUNGUAN_DATABASE_URL={shown:?} is not valid: {why}"
                ));
                None
            }
        }
    }
}

/// Whether `raw` reads as libpq's `host=… password=…` (which would otherwise be taken
/// for a file name, and shown and created as one).
fn is_connection_string(raw: &str) -> bool {
    const KEYS: [&str; 6] = ["host", "hostaddr", "port", "dbname", "user", "password"];
    raw.split_whitespace().any(|word| {
        word.split_once('=')
            .is_some_and(|(key, _)| KEYS.contains(&key.to_ascii_lowercase().as_str()))
    })
}

/// Accepts `sqlite::memory:`, `sqlite://PATH`, `sqlite:PATH` or a plain file path.
pub(super) fn parse_database_url(raw: &str) -> Result<Database, String> {
    if raw == "sqlite::memory:" {
        return Ok(Database::SqliteMemory);
    }
    let path = match raw.split_once(':') {
        Some(("postgres" | "postgresql", rest)) if rest.starts_with("//") => {
            let url = url::Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
            if url.host_str().is_none_or(str::is_empty) {
                return Err("the PostgreSQL URL names no host".into());
            }
            return Ok(Database::Postgres(PostgresUrl(raw.to_owned())));
        }
        Some(("sqlite", rest)) => rest.strip_prefix("//").unwrap_or(rest),
        Some((scheme, rest)) if rest.starts_with("//") => {
            return Err(format!(
                "scheme `{scheme}` is not supported; use sqlite://PATH (a file), sqlite::memory: or postgres://USER:PASSWORD@HOST:PORT/DB"
            ));
        }
        _ if is_connection_string(raw) => {
            return Err(
                "a key=value connection string is not supported; use postgres://USER:PASSWORD@HOST:PORT/DB".into(),
            );
        }
        _ => raw,
    };
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() {
        return Err("the SQLite file path is empty".into());
    }
    Ok(Database::SqliteFile(PathBuf::from(path)))
}
