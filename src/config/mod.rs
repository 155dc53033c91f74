//! Configuration from environment variables (and a `.env` file), validated in one pass.
//!
//! [`Config::from_lookup`] takes any `name -> value` function, so tests build configs from a
//! map and never touch the process environment. Every problem is collected before failing,
//! so an operator fixes a broken deployment in one round.

use std::{collections::HashMap, fmt, net::SocketAddr, path::PathBuf, time::Duration};

use secrecy::SecretString;
use url::Url;

use crate::{
    crypto::EventSecrets,
    i18n::Lang,
    ids::{ChatId, StaffId},
};

mod parse;
mod redact;

use parse::Parser;
pub use redact::without_password;

/// Everything qunguan needs to run, parsed and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DINGTALK_APP_KEY`: the AppKey (ClientId) of the internal app that owns the robot.
    pub app_key: String,
    /// `DINGTALK_APP_SECRET`: verifies callback signatures and mints access tokens.
    pub app_secret: SecretString,
    /// `DINGTALK_ROBOT_CODE`: what the OpenAPI group-send fallback sends as `robotCode`.
    pub robot_code: String,
    /// `DINGTALK_OAPI_URL`: old-style API base; also the only origin a sessionWebhook may have.
    pub oapi_url: Url,
    /// `DINGTALK_API_URL`: new-style API base (`api.dingtalk.com`).
    pub api_url: Url,
    /// `DINGTALK_TOP_URL`: the TOP gateway.
    pub top_url: Url,
    /// `QUNGUAN_LISTEN`: the address the HTTP server binds.
    pub listen: SocketAddr,
    /// `QUNGUAN_DATABASE_URL`: where bindings and seen msgIds are kept.
    pub database: Database,
    /// `QUNGUAN_ADMINS`: staff ids that may run changing commands in every group.
    pub admins: Vec<StaffId>,
    /// `QUNGUAN_TRUST_ORG_ADMINS`: whether the callback's `isAdmin` grants admin rights.
    pub trust_org_admins: bool,
    /// `QUNGUAN_GROUPS`: chatids converted and bound at start-up.
    pub groups: Vec<ChatId>,
    /// `QUNGUAN_LANG`: reply language.
    pub lang: Lang,
    /// `QUNGUAN_SIGNATURE_WINDOW_SECS`: the largest accepted |now − timestamp|.
    pub signature_window: Duration,
    /// `QUNGUAN_MAX_IN_FLIGHT`: commands and group events handled in the background at
    /// once; past it, `/callback` and `/events` answer 503 (Stream: no ack, or `LATER`) so
    /// DingTalk delivers again later.
    pub max_in_flight: usize,
    /// `QUNGUAN_COMMAND_TIMEOUT_SECS`: how long one command (its DingTalk calls and reply) may take.
    pub command_timeout: Duration,
    /// `QUNGUAN_RATE_LIMIT_PER_SEC`: calls per second to each DingTalk API, for the whole
    /// app (DingTalk's budget is per app); more wait.
    pub rate_limit_per_sec: u32,
    /// `QUNGUAN_REPLICAS`: how many replicas share that budget; each takes its share.
    pub replicas: u32,
    /// `QUNGUAN_DRAIN_SECS`: how long shutdown waits for acknowledged commands.
    pub drain_timeout: Duration,
    /// `QUNGUAN_HEADER_TIMEOUT_SECS`: how long a connection may take to deliver a request's
    /// headers, counted from when it opens or its previous response was sent; an idle
    /// keep-alive connection is closed after it too.
    pub header_timeout: Duration,
    /// `QUNGUAN_MAX_CONNECTIONS`: HTTP connections open at once; more are closed at once.
    pub max_connections: usize,
    /// `QUNGUAN_CONFIRM_SECS`: how long a `/kick` or `/transfer-owner` waits for its
    /// `/confirm`.
    pub confirm_timeout: Duration,
    /// `QUNGUAN_MODE`: how messages arrive (HTTP callbacks, a Stream connection, or both).
    pub mode: Mode,
    /// `QUNGUAN_STREAM_KEEPALIVE_SECS`: a WebSocket ping after this long without inbound
    /// traffic; no answer within as long again means the socket is half-open.
    pub stream_keepalive: Duration,
    /// `QUNGUAN_TIMEZONE`: the IANA zone schedules' times are in.
    pub timezone: jiff::tz::TimeZone,
    /// `QUNGUAN_SCHEDULE_GRACE_SECS`: a run missed while qunguan was down still runs at
    /// start-up if it is at most this late; otherwise it is skipped.
    pub schedule_grace: Duration,
    /// `QUNGUAN_STORE_TIMEOUT_SECS`: how long one store call may take; past it the
    /// database counts as unavailable (a callback answers 503, a frame is left
    /// unacknowledged).
    pub store_timeout: Duration,
    /// `QUNGUAN_MAX_REMEMBERED_MSGIDS`: the replay defence's ceiling; when it is full,
    /// `/callback` answers 503 with `Retry-After` until old msgIds expire.
    pub max_remembered_msg_ids: usize,
    /// `DINGTALK_EVENT_TOKEN` and `DINGTALK_EVENT_AES_KEY`: the HTTP event push's secrets;
    /// without them `/events` does not exist.
    pub events: Option<EventSecrets>,
}

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file, created if missing.
    SqliteFile(PathBuf),
    /// An in-memory SQLite database (`sqlite::memory:`), gone at exit.
    SqliteMemory,
    /// A PostgreSQL database shared by several replicas.
    Postgres(PostgresUrl),
}

/// A `postgres://` URL. It holds the password: shown (Debug, Display) without it.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

impl PostgresUrl {
    /// The whole URL, for connecting.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&without_password(&self.0))
    }
}

impl std::fmt::Display for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&without_password(&self.0))
    }
}

/// Every problem found in the configuration, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "invalid configuration ({} problems):",
            self.problems.len()
        )?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        write!(f, "see .env.example for what each variable means")
    }
}

/// Default SQLite file, relative to the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://qunguan.db";
/// Default `QUNGUAN_LISTEN`.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";

/// Looks settings up in the process environment, then in `.env` in the working directory
/// for names the environment does not set; an empty value counts as unset.
pub fn env_lookup() -> Result<impl Fn(&str) -> Option<String>, ConfigError> {
    let dotenv = read_dotenv(".env")?;
    Ok(move |name: &str| {
        std::env::var(name)
            .ok()
            .or_else(|| dotenv.get(name).cloned())
            .filter(|v| !v.trim().is_empty())
    })
}

impl Config {
    /// Reads the settings through [`env_lookup`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(env_lookup()?)
    }

    /// Builds a config from any lookup function; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut p = Parser {
            lookup: &|name| lookup(name).filter(|v| !v.trim().is_empty()),
            problems: Vec::new(),
        };
        let app_key = p.required("DINGTALK_APP_KEY", "the app's AppKey (ClientId)");
        let app_secret = p.required("DINGTALK_APP_SECRET", "the app's AppSecret (ClientSecret)");
        let robot_code = p
            .optional("DINGTALK_ROBOT_CODE")
            .or_else(|| app_key.clone());
        let oapi_url = p.url("DINGTALK_OAPI_URL", "https://oapi.dingtalk.com");
        let api_url = p.url("DINGTALK_API_URL", "https://api.dingtalk.com");
        let top_url = p.url("DINGTALK_TOP_URL", "https://eco.taobao.com/router/rest");
        let listen = p.parsed(
            "QUNGUAN_LISTEN",
            DEFAULT_LISTEN,
            "an address like 0.0.0.0:8080",
        );
        let database = p.database();
        let admins = p.list("QUNGUAN_ADMINS", StaffId::parse);
        let trust_org_admins = p.boolean("QUNGUAN_TRUST_ORG_ADMINS", true);
        let groups = p.list("QUNGUAN_GROUPS", ChatId::parse);
        let lang = p.parsed("QUNGUAN_LANG", "zh", "`zh` or `en`");
        let window = p.positive("QUNGUAN_SIGNATURE_WINDOW_SECS", 3600, 86_400);
        let max_in_flight = p.positive("QUNGUAN_MAX_IN_FLIGHT", 1024, 1_000_000);
        let timeout = p.positive("QUNGUAN_COMMAND_TIMEOUT_SECS", 30, 3600);
        let rate_limit = p.positive("QUNGUAN_RATE_LIMIT_PER_SEC", 20, 1_000_000);
        let replicas = p.positive("QUNGUAN_REPLICAS", 1, 1000);
        let drain = p.positive("QUNGUAN_DRAIN_SECS", 30, 3600);
        let header_timeout = p.positive("QUNGUAN_HEADER_TIMEOUT_SECS", 10, 600);
        let max_connections = p.positive("QUNGUAN_MAX_CONNECTIONS", 512, 1_000_000);
        let max_remembered = p.positive("QUNGUAN_MAX_REMEMBERED_MSGIDS", 2_000_000, 1_000_000_000);
        let confirm = p.positive("QUNGUAN_CONFIRM_SECS", 120, 3600);
        let mode = p.parsed("QUNGUAN_MODE", "http", "`http`, `stream` or `both`");
        let keepalive = p.positive("QUNGUAN_STREAM_KEEPALIVE_SECS", 20, 600);
        let timezone = p.timezone("QUNGUAN_TIMEZONE", "Asia/Shanghai");
        let grace = p.positive("QUNGUAN_SCHEDULE_GRACE_SECS", 600, 7 * 86_400);
        let store_timeout = p.positive("QUNGUAN_STORE_TIMEOUT_SECS", 5, 300);
        let events = p.event_secrets();
        if !p.problems.is_empty() {
            return Err(ConfigError {
                problems: p.problems,
            });
        }
        // Every `None` above pushed a problem, so these unwraps cannot fail.
        Ok(Config {
            app_key: app_key.unwrap(),
            app_secret: SecretString::from(app_secret.unwrap()),
            robot_code: robot_code.unwrap(),
            oapi_url: oapi_url.unwrap(),
            api_url: api_url.unwrap(),
            top_url: top_url.unwrap(),
            listen: listen.unwrap(),
            database: database.unwrap(),
            admins,
            trust_org_admins: trust_org_admins.unwrap(),
            groups,
            lang: lang.unwrap(),
            signature_window: Duration::from_secs(window.unwrap()),
            max_in_flight: max_in_flight.unwrap() as usize,
            command_timeout: Duration::from_secs(timeout.unwrap()),
            rate_limit_per_sec: rate_limit.unwrap() as u32,
            replicas: replicas.unwrap() as u32,
            drain_timeout: Duration::from_secs(drain.unwrap()),
            header_timeout: Duration::from_secs(header_timeout.unwrap()),
            max_connections: max_connections.unwrap() as usize,
            max_remembered_msg_ids: max_remembered.unwrap() as usize,
            confirm_timeout: Duration::from_secs(confirm.unwrap()),
            mode: mode.unwrap(),
            stream_keepalive: Duration::from_secs(keepalive.unwrap()),
            timezone: timezone.unwrap(),
            schedule_grace: Duration::from_secs(grace.unwrap()),
            store_timeout: Duration::from_secs(store_timeout.unwrap()),
            events: events.unwrap(),
        })
    }
}

/// How DingTalk's robot messages reach qunguan (`QUNGUAN_MODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Signed HTTP callbacks to `/callback` (a public HTTPS endpoint).
    Http,
    /// An outbound WebSocket to DingTalk's Stream gateway; `/callback` is not routed.
    Stream,
    /// Both at once, sharing the msgId dedupe.
    Both,
}

impl Mode {
    pub fn http(self) -> bool {
        matches!(self, Mode::Http | Mode::Both)
    }

    pub fn stream(self) -> bool {
        matches!(self, Mode::Stream | Mode::Both)
    }
}

impl std::str::FromStr for Mode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s.trim().to_ascii_lowercase().as_str() {
            "http" => Ok(Mode::Http),
            "stream" => Ok(Mode::Stream),
            "both" => Ok(Mode::Both),
            _ => Err(()),
        }
    }
}

impl Config {
    /// This replica's share of `QUNGUAN_RATE_LIMIT_PER_SEC`: the budget divided by
    /// `QUNGUAN_REPLICAS`, rounded down, at least 1 a second; so N replicas together never
    /// exceed the app's budget.
    pub fn rate_limit_share(&self) -> u32 {
        (self.rate_limit_per_sec / self.replicas.max(1)).max(1)
    }
}

/// Reads a `.env` file into a map; a missing file is an empty map, a malformed one an error.
pub fn read_dotenv(path: &str) -> Result<HashMap<String, String>, ConfigError> {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(e) if e.not_found() => return Ok(HashMap::new()),
        Err(e) => return Err(one_problem(format!("{path}: {e}"))),
    };
    iter.map(|item| item.map_err(|e| one_problem(format!("{path}: {e}"))))
        .collect()
}

fn one_problem(problem: String) -> ConfigError {
    ConfigError {
        problems: vec![problem],
    }
}

#[cfg(test)]
mod tests {
    use super::parse::parse_database_url;
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    const MINIMAL: &[(&str, &str)] = &[("DINGTALK_APP_KEY", "key"), ("DINGTALK_APP_SECRET", "s")];

    #[test]
    fn defaults_follow_the_documented_table() {
        let c = config(MINIMAL).unwrap();
        assert_eq!(c.robot_code, "key");
        assert_eq!(c.oapi_url.as_str(), "https://oapi.dingtalk.com/");
        assert_eq!(c.api_url.as_str(), "https://api.dingtalk.com/");
        assert_eq!(c.top_url.as_str(), "https://eco.taobao.com/router/rest");
        assert_eq!(c.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(c.database, Database::SqliteFile("qunguan.db".into()));
        assert!(c.trust_org_admins);
        assert_eq!(c.lang, Lang::Zh);
        assert_eq!(c.signature_window, Duration::from_secs(3600));
        assert_eq!(c.max_in_flight, 1024);
        assert_eq!(c.rate_limit_per_sec, 20);
        assert_eq!(c.drain_timeout, Duration::from_secs(30));
    }

    #[test]
    fn every_problem_is_named_at_once() {
        let err = config(&[
            ("DINGTALK_OAPI_URL", "ftp://x"),
            ("QUNGUAN_LISTEN", "nowhere"),
            ("QUNGUAN_LANG", "fr"),
            ("QUNGUAN_GROUPS", "chat1,cidABC"),
            ("QUNGUAN_TRUST_ORG_ADMINS", "maybe"),
            ("QUNGUAN_SIGNATURE_WINDOW_SECS", "0"),
            ("QUNGUAN_DATABASE_URL", "mysql://db/q"),
        ])
        .unwrap_err();
        let text = err.to_string();
        for name in [
            "DINGTALK_APP_KEY",
            "DINGTALK_APP_SECRET",
            "DINGTALK_OAPI_URL",
            "QUNGUAN_LISTEN",
            "QUNGUAN_LANG",
            "cidABC",
            "QUNGUAN_TRUST_ORG_ADMINS",
            "QUNGUAN_SIGNATURE_WINDOW_SECS",
            "QUNGUAN_DATABASE_URL",
        ] {
            assert!(text.contains(name), "{name} missing from:\n{text}");
        }
        assert_eq!(err.problems.len(), 9, "{text}");
    }

    #[test]
    fn lists_are_split_on_commas_and_trimmed() {
        let mut pairs = MINIMAL.to_vec();
        pairs.push(("QUNGUAN_ADMINS", " alice, bob ,,"));
        pairs.push(("QUNGUAN_GROUPS", "chat1a,chat2b"));
        let c = config(&pairs).unwrap();
        assert_eq!(c.admins.len(), 2);
        assert_eq!(c.admins[1].as_str(), "bob");
        assert_eq!(c.groups[1].as_str(), "chat2b");
    }

    #[test]
    fn database_urls() {
        assert_eq!(
            parse_database_url("sqlite::memory:"),
            Ok(Database::SqliteMemory)
        );
        assert_eq!(
            parse_database_url("sqlite:///var/lib/q.db"),
            Ok(Database::SqliteFile("/var/lib/q.db".into()))
        );
        assert_eq!(
            parse_database_url("sqlite:q.db?mode=rwc"),
            Ok(Database::SqliteFile("q.db".into()))
        );
        assert_eq!(
            parse_database_url("/data/q.db"),
            Ok(Database::SqliteFile("/data/q.db".into()))
        );
        assert!(parse_database_url("mysql://x").is_err());
        assert!(parse_database_url("host=db user=q password=secret").is_err());
        assert!(parse_database_url("dbname=q").is_err());
        let pg =
            parse_database_url("postgresql://q:secret@db:5432/qunguan?sslmode=require").unwrap();
        assert!(matches!(&pg, Database::Postgres(u) if u.expose().contains("secret")));
        assert!(!format!("{pg:?}").contains("secret"), "{pg:?}");
        assert!(parse_database_url("postgres:///nohost").is_err());
    }

    #[test]
    fn schedules_take_an_iana_zone_and_a_grace_period() {
        let c = config(MINIMAL).unwrap();
        assert_eq!(c.timezone.iana_name(), Some("Asia/Shanghai"));
        assert_eq!(c.schedule_grace, Duration::from_secs(600));
        let e = config(&[
            ("DINGTALK_APP_KEY", "key"),
            ("DINGTALK_APP_SECRET", "secret"),
            ("QUNGUAN_TIMEZONE", "Mars/Olympus"),
            ("QUNGUAN_SCHEDULE_GRACE_SECS", "0"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("QUNGUAN_TIMEZONE=\"Mars/Olympus\" is not a time zone"),
            "{e}"
        );
        assert!(
            e.contains("QUNGUAN_SCHEDULE_GRACE_SECS=0 is out of range"),
            "{e}"
        );
    }

    #[test]
    fn the_event_push_takes_its_token_and_key_together_and_never_shows_them() {
        assert!(
            config(MINIMAL).unwrap().events.is_none(),
            "off without them"
        );
        let key = "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus";
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut all = MINIMAL.to_vec();
            all.extend_from_slice(pairs);
            config(&all)
        };
        let both = with(&[
            ("DINGTALK_EVENT_TOKEN", "tok3n"),
            ("DINGTALK_EVENT_AES_KEY", key),
        ]);
        assert!(both.unwrap().events.is_some());
        let alone = with(&[("DINGTALK_EVENT_TOKEN", "tok3n")])
            .unwrap_err()
            .to_string();
        assert!(
            alone.contains("DINGTALK_EVENT_TOKEN and DINGTALK_EVENT_AES_KEY go together"),
            "{alone}"
        );
        let short = &key[..42];
        let bad = with(&[
            ("DINGTALK_EVENT_TOKEN", "tok3n"),
            ("DINGTALK_EVENT_AES_KEY", short),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            bad.contains("DINGTALK_EVENT_AES_KEY is not valid") && bad.contains("43"),
            "{bad}"
        );
        assert!(
            !bad.contains(short) && !bad.contains("tok3n"),
            "no secret shown: {bad}"
        );
    }

    #[test]
    fn replicas_share_the_rate_limit() {
        let c = config(&[
            ("DINGTALK_APP_KEY", "key"),
            ("DINGTALK_APP_SECRET", "secret"),
            ("QUNGUAN_RATE_LIMIT_PER_SEC", "20"),
            ("QUNGUAN_REPLICAS", "3"),
        ])
        .unwrap();
        assert_eq!(c.rate_limit_share(), 6, "3 × 6 ≤ 20");
        assert_eq!(config(MINIMAL).unwrap().rate_limit_share(), 20);
    }

    #[test]
    fn a_database_password_never_reaches_a_configuration_error() {
        let e = config(&[
            ("DINGTALK_APP_KEY", "key"),
            ("DINGTALK_APP_SECRET", "secret"),
            ("QUNGUAN_DATABASE_URL", "mysql://qunguan:pa55word@db:3306/q"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("QUNGUAN_DATABASE_URL") && e.contains("qunguan:***@db"),
            "{e}"
        );
        assert!(!e.contains("pa55word"), "{e}");
    }

    #[test]
    fn debug_output_does_not_reveal_the_secret() {
        let c = config(&[
            ("DINGTALK_APP_KEY", "key"),
            ("DINGTALK_APP_SECRET", "hunter2-very-secret"),
        ])
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
