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

mod render;
mod sample;

use std::{
    collections::HashMap,
    io::{BufRead, IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
    time::Duration,
};

use secrecy::SecretString;
use tokio::sync::{broadcast, mpsc};

use crate::{
    app::now_ms,
    config::Config,
    i18n::{Lang, is_failure_title},
    server::{self, RunningServer},
    simulator::{Delivered, Destination, SESSION_WEBHOOK_PATH, Simulator},
    telemetry,
    tools::signed::{self, Draft, random_hex},
};

/// What `qunguan demo` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run these lines instead of prompting.
    pub script: Option<PathBuf>,
    /// Reply language; `QUNGUAN_LANG` or Chinese when unset.
    pub lang: Option<Lang>,
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
    super::block_on(async {
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
    let mut demo = Demo::start(lang, color).await?;
    demo.banner(script.is_none());
    let mut summary = Summary::default();
    match script {
        Some(lines) => {
            for (n, line) in lines {
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
                let line = line.trim();
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
}

impl Demo {
    async fn start(lang: Lang, color: bool) -> Result<Self, DemoError> {
        let start = |e: String| DemoError::Start(e);
        let sim = Simulator::new();
        sample::populate(&sim);
        let app_key = "dingdemoappkey";
        let secret = random_hex(40);
        sim.require_credentials(app_key, &secret);
        let (sim_addr, _task) = sim.serve().await.map_err(|e| start(e.to_string()))?;
        let sim_url = format!("http://{sim_addr}");
        let settings: HashMap<&str, String> = [
            ("DINGTALK_APP_KEY", app_key.to_owned()),
            ("DINGTALK_APP_SECRET", secret.clone()),
            ("DINGTALK_ROBOT_CODE", app_key.to_owned()),
            ("DINGTALK_OAPI_URL", sim_url.clone()),
            ("DINGTALK_API_URL", sim_url.clone()),
            ("DINGTALK_TOP_URL", format!("{sim_url}/router/rest")),
            ("QUNGUAN_LISTEN", "127.0.0.1:0".to_owned()),
            ("QUNGUAN_DATABASE_URL", "sqlite::memory:".to_owned()),
            ("QUNGUAN_ADMINS", sample::IT_ADMIN.to_owned()),
            ("QUNGUAN_GROUPS", sample::CHATID.to_owned()),
            (
                "QUNGUAN_LANG",
                if lang == Lang::En { "en" } else { "zh" }.to_owned(),
            ),
        ]
        .into_iter()
        .collect();
        let config = Config::from_lookup(|name| settings.get(name).cloned())
            .map_err(|e| start(e.to_string()))?;
        let reply_wait = config.command_timeout + Duration::from_secs(5);
        let outbox = sim.subscribe();
        let server = server::start(config)
            .await
            .map_err(|e| start(e.to_string()))?;
        Ok(Self {
            sim,
            sim_url,
            server,
            http: reqwest::Client::new(),
            secret: SecretString::from(secret),
            outbox,
            sender: sample::OWNER.to_owned(),
            lang,
            color,
            reply_wait,
        })
    }

    fn banner(&self, interactive: bool) {
        let b = |s: &str| self.style("\x1b[1m", s);
        out!(
            "{} a simulated DingTalk group on {} (no DingTalk account needed)",
            b("qunguan demo:"),
            self.sim_url
        );
        out!(
            "qunguan is listening on http://{}/callback; group {} is bound.",
            self.server.addr,
            b(sample::GROUP_NAME)
        );
        self.who();
        if interactive {
            out!(
                "Try /help, /info, /lock-friending, /contact {c}, /labels, \
                 /contact-update {c} title=采购总监 --dry-run, /audit.",
                c = sample::CONTACT
            );
            out!("Type :help for the prompt's own commands; Ctrl-D exits.\n");
        } else {
            out!();
        }
    }

    fn who(&self) {
        for m in &sample::MEMBERS {
            let marker = if m.staff_id == self.sender {
                "▶"
            } else {
                " "
            };
            let role = if self.lang == Lang::En {
                m.role[1]
            } else {
                m.role[0]
            };
            out!("  {marker} {} ({}): {role}", m.name, m.staff_id);
        }
    }

    fn speaker(&self) -> String {
        match sample::name_of(&self.sender) {
            Some(name) => format!("{name} ({})", self.sender),
            None => self.sender.clone(),
        }
    }

    fn prompt(&self) {
        let _ = write!(
            std::io::stdout(),
            "{} › ",
            self.style("\x1b[1m", &self.speaker())
        );
        let _ = std::io::stdout().flush();
    }

    fn echo(&self, line: &str) {
        out!("{} › {line}", self.style("\x1b[1m", &self.speaker()));
    }

    fn style(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("{code}{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    /// Handles one line; false if it failed (a refused or failed command, no reply, or a
    /// prompt command that was not understood).
    async fn line(&mut self, line: &str) -> bool {
        let Some(command) = line.strip_prefix(':') else {
            return self.say(line).await;
        };
        let mut words = command.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("help"), None, _) => {
                out!("  :as <staffId>  speak as another member (:who lists them)");
                out!("  :who           the group's members and who may change settings");
                out!("  :state         what the simulated DingTalk holds now");
                out!("  :help          this list");
                out!("  :quit, Ctrl-D  leave the demo");
                out!("  anything else is sent to the group as an @mention of the bot");
                true
            }
            (Some("as"), Some(staff_id), None) => {
                self.sender = staff_id.to_owned();
                if sample::name_of(staff_id).is_none() {
                    out!("  {staff_id} is not a member of the sample group (:who lists them)");
                }
                true
            }
            (Some("who"), None, _) => {
                self.who();
                true
            }
            (Some("state"), None, _) => {
                self.state();
                true
            }
            _ => {
                out!("  `:{command}` is not a prompt command; :help lists them");
                false
            }
        }
    }

    /// Prints the simulator's state: the group's friending switch and the contact.
    fn state(&self) {
        if let Some(group) = self.sim.group(sample::CHATID) {
            let friending = match group.friending_locked {
                Some(true) => "locked (members may not add each other as friends)",
                Some(false) => "unlocked",
                None => "never set by the bot (DingTalk's default: unlocked)",
            };
            out!("  group {}: friending {friending}", group.chatid);
        }
        if let Some(c) = self.sim.contact(sample::CONTACT) {
            let field = |name: &str| match &c[name] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out!(
                "  contact {}: {} · {} · {} · labels {} · follower {} · remark {}",
                sample::CONTACT,
                field("name"),
                field("title"),
                field("company_name"),
                field("label_ids"),
                field("follower_user_id"),
                field("remark")
            );
        }
    }

    /// Sends `text` as the current sender's @mention and prints the reply.
    async fn say(&mut self, text: &str) -> bool {
        match self.exchange(text).await {
            Ok(parts) => {
                let mut ok = true;
                for part in &parts {
                    ok &= !is_failure_title(&part.title);
                    self.show(part);
                }
                ok
            }
            Err(problem) => {
                out!("  ✗ {problem}");
                false
            }
        }
    }

    /// Posts the callback and collects the reply's parts.
    async fn exchange(&mut self, text: &str) -> Result<Vec<Delivered>, String> {
        let session = random_hex(32);
        self.sim.open_session(&session);
        let draft = Draft {
            msg_id: format!("msgDEMO{}==", random_hex(24)),
            conversation_id: sample::CID.to_owned(),
            direct: false,
            sender_staff_id: self.sender.clone(),
            sender_nick: sample::name_of(&self.sender)
                .unwrap_or(&self.sender)
                .to_owned(),
            is_admin: false,
            text: text.to_owned(),
            session_webhook: format!("{}{SESSION_WEBHOOK_PATH}?session={session}", self.sim_url),
        };
        // Whatever arrived after an earlier reply was given up on is not this reply.
        while self.outbox.try_recv().is_ok() {}
        let url = format!("http://{}/callback", self.server.addr);
        let response = signed::post(&self.http, &url, &self.secret, &draft.body(now_ms()))
            .await
            .map_err(|e| format!("could not reach qunguan: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("qunguan answered HTTP {}", response.status()));
        }
        let mut parts = Vec::new();
        loop {
            let part = tokio::time::timeout(self.reply_wait, self.next_reply(&session))
                .await
                .ok()
                .flatten()
                .ok_or_else(|| format!("no reply within {} s", self.reply_wait.as_secs()))?;
            let more = more_parts(&part.title);
            parts.push(part);
            if !more {
                return Ok(parts);
            }
        }
    }

    /// The next message to this turn's webhook, or to the group if qunguan fell back.
    async fn next_reply(&mut self, session: &str) -> Option<Delivered> {
        loop {
            match self.outbox.recv().await {
                Ok(m) => match &m.to {
                    Destination::Session(s) if s == session => return Some(m),
                    Destination::Group(cid) if cid == sample::CID => return Some(m),
                    _ => {}
                },
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    fn show(&self, m: &Delivered) {
        let via = match m.to {
            Destination::Session(_) => "",
            _ => " (via the OpenAPI group send: no @)",
        };
        let title = if is_failure_title(&m.title) {
            self.style("\x1b[31m", &m.title)
        } else {
            self.style("\x1b[2m", &m.title)
        };
        out!(
            "{} [{title}]{via}",
            self.style("\x1b[1;32m", "群管 qunguan")
        );
        let text = render::render(&m.text, &sample::mentions(), self.color);
        for line in text.lines() {
            if line.is_empty() {
                out!();
            } else {
                out!("  {line}");
            }
        }
        out!();
    }
}

/// Whether a part titled `title` says more parts follow: "… (1/3)".
fn more_parts(title: &str) -> bool {
    let Some(counter) = title
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once(" ("))
        .map(|(_, c)| c)
    else {
        return false;
    };
    match counter.split_once('/') {
        Some((i, n)) => matches!((i.parse::<u32>(), n.parse::<u32>()), (Ok(i), Ok(n)) if i < n),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::more_parts;

    #[test]
    fn split_reply_titles_say_whether_more_follow() {
        assert!(more_parts("群管 (1/2)"));
        assert!(!more_parts("群管 (2/2)"));
        assert!(!more_parts("群管"));
        assert!(!more_parts("qunguan (note)"));
    }
}
