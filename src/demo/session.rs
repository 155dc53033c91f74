//! The demo's session: starting the simulator and qunguan, the banner, and the prompt's
//! own `:` commands.

use std::{collections::HashMap, io::Write, time::Duration};

use secrecy::SecretString;

use super::{Demo, DemoError, DemoMode, client, fleet, sample};
use qunguan_simulator::Simulator;

use crate::{
    config::Config,
    crypto::{EventCrypto, random_chars},
    i18n::Lang,
    server,
    tools::signed::random_hex,
};

impl Demo {
    pub(super) async fn start(lang: Lang, color: bool, mode: DemoMode) -> Result<Self, DemoError> {
        let start = |e: String| DemoError::Start(e);
        let sim = Simulator::new();
        sample::populate(&sim);
        client::name_members(&sim);
        fleet::populate(&sim);
        let app_key = "dingdemoappkey";
        let secret = random_hex(40);
        sim.require_credentials(app_key, &secret);
        let (sim_addr, _task) = sim.serve().await.map_err(|e| start(e.to_string()))?;
        sim.serve_gateway()
            .await
            .map_err(|e| start(e.to_string()))?;
        let sim_url = format!("http://{sim_addr}");
        // The HTTP event push's secrets, made up for this run.
        let (event_token, event_key) = (random_chars(16), random_chars(43));
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
            ("DINGTALK_EVENT_TOKEN", event_token.clone()),
            ("DINGTALK_EVENT_AES_KEY", event_key.clone()),
            // The simulator has no rate limit; a policy over the fleet need not wait.
            ("QUNGUAN_RATE_LIMIT_PER_SEC", "1000".to_owned()),
            (
                "QUNGUAN_LANG",
                if lang == Lang::En { "en" } else { "zh" }.to_owned(),
            ),
            (
                "QUNGUAN_MODE",
                if mode == DemoMode::Stream {
                    "stream"
                } else {
                    "http"
                }
                .to_owned(),
            ),
        ]
        .into_iter()
        .collect();
        let config = Config::from_lookup(|name| settings.get(name).cloned())
            .map_err(|e| start(e.to_string()))?;
        let events = config
            .events
            .as_ref()
            .map(|secrets| EventCrypto::new(secrets, app_key))
            .ok_or_else(|| start("the event push is not configured".into()))?;
        let reply_wait = config.command_timeout + Duration::from_secs(5);
        let outbox = sim.subscribe();
        let server = server::start(config)
            .await
            .map_err(|e| start(e.to_string()))?;
        if mode == DemoMode::Stream {
            wait_for_stream(&sim).await.map_err(start)?;
        }
        let demo = Self {
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
            last_code: None,
            mode,
            script_dir: None,
            events,
        };
        demo.bind_fleet().await.map_err(start)?;
        Ok(demo)
    }

    pub(super) fn banner(&self, interactive: bool) {
        let b = |s: &str| self.style("\x1b[1m", s);
        out!(
            "{} a simulated DingTalk group on {} (no DingTalk account needed)",
            b("qunguan demo:"),
            self.sim_url
        );
        match self.mode {
            DemoMode::Http => out!(
                "qunguan is listening on http://{}/callback; group {} is bound.",
                self.server.addr,
                b(sample::GROUP_NAME)
            ),
            DemoMode::Stream => out!(
                "qunguan is connected to the simulated Stream gateway (no /callback); group {} is bound.",
                b(sample::GROUP_NAME)
            ),
        }
        self.who();
        if interactive {
            out!(
                "Try /help, /info, /mute-all, /rename 新群名, /kick {m} then /confirm {{code}}, \
                 /contact {c}, /contact-update {c} title=采购总监 --dry-run, /audit.",
                c = sample::CONTACT,
                m = sample::MEMBER
            );
            out!("Type :help for the prompt's own commands; Ctrl-D exits.\n");
        } else {
            out!();
        }
    }

    pub(super) fn who(&self) {
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

    pub(super) fn speaker(&self) -> String {
        match sample::name_of(&self.sender) {
            Some(name) => format!("{name} ({})", self.sender),
            None => self.sender.clone(),
        }
    }

    pub(super) fn prompt(&self) {
        let _ = write!(
            std::io::stdout(),
            "{} › ",
            self.style("\x1b[1m", &self.speaker())
        );
        let _ = std::io::stdout().flush();
    }

    pub(super) fn echo(&self, line: &str) {
        out!("{} › {line}", self.style("\x1b[1m", &self.speaker()));
    }

    pub(super) fn style(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("{code}{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    /// Handles one line; false if it failed (a refused or failed command, no reply, or a
    /// prompt command that was not understood).
    pub(super) async fn line(&mut self, line: &str) -> bool {
        let Some(command) = line.strip_prefix(':') else {
            return self.say(line).await;
        };
        let all: Vec<&str> = command.split_whitespace().collect();
        if let Some(ok) = self.client(&all).await {
            return ok;
        }
        match all.as_slice() {
            ["at", rest @ ..] => return self.at(rest).await,
            ["policy", verb, file] => return self.policy(verb, file).await,
            _ => {}
        }
        let mut words = command.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some("help"), None, _) => {
                out!("  :as <staffId>  speak as another member (:who lists them)");
                out!("  :who           the group's members and who may change settings");
                out!("  :state         what the simulated DingTalk holds now");
                out!("  :at [YYYY-MM-DD] HH:MM   move the clock there: due schedules run");
                out!(
                    "  :policy check|apply FILE   a policy file over the sample group and {} more",
                    fleet::FLEET
                );
                out!(
                    "  :add <staffId> [name]   the speaker adds someone in DingTalk (a welcome follows)"
                );
                out!("  :remove <staffId>       the speaker removes someone in DingTalk");
                out!("  :rename <name>          the speaker renames the group in DingTalk");
                out!("  :event <type> [key=value…]   DingTalk pushes any group event");
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
    pub(super) fn state(&self) {
        if let Some(group) = self.sim.group(sample::CHATID) {
            let friending = match group.friending_locked {
                Some(true) => "locked (members may not add each other as friends)",
                Some(false) => "unlocked",
                None => "never set by the bot (DingTalk's default: unlocked)",
            };
            out!("  group {}: friending {friending}", group.chatid);
            let info = &group.info;
            let flag = |key: &str| info[key].as_i64().map_or("?".to_owned(), |v| v.to_string());
            out!(
                "  name {} · owner {} · members {} · muted {} · searchable {} · history {}",
                info["name"].as_str().unwrap_or("?"),
                info["owner"].as_str().unwrap_or("?"),
                info["useridlist"],
                flag("chatBannedType"),
                flag("searchable"),
                flag("showHistoryType"),
            );
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
}

/// Waits for qunguan's Stream connection to the simulated gateway.
async fn wait_for_stream(sim: &Simulator) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sim.stream_links().open == 0 {
        if tokio::time::Instant::now() > deadline {
            return Err("qunguan did not open its Stream connection within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
