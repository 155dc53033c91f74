//! One turn of the conversation: a signed @mention to `/callback`, and the reply as it
//! reaches the simulated group, rendered.

use std::io::Write;

use tokio::sync::broadcast;

use qunguan_simulator::{Delivered, Destination, SESSION_WEBHOOK_PATH};

use super::{Demo, DemoMode, render, sample};
use crate::{
    clock::now_ms,
    commands::Outcome,
    i18n::Lang,
    tools::signed::{self, Draft, random_hex},
};

impl Demo {
    /// `line` with `{code}` standing for the last confirmation code given.
    pub(super) fn expand(&self, line: &str) -> String {
        match &self.last_code {
            Some(code) => line.replace("{code}", code),
            None => line.to_owned(),
        }
    }

    /// Sends `text` as the current sender's @mention and prints the reply.
    pub(super) async fn say(&mut self, text: &str) -> bool {
        match self.exchange(text).await {
            Ok(parts) => {
                let mut ok = true;
                for part in &parts {
                    ok &= !is_failure_title(&part.title);
                    if let Some(code) = confirmation_code(&part.text) {
                        self.last_code = Some(code);
                    }
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
    pub(super) async fn exchange(&mut self, text: &str) -> Result<Vec<Delivered>, String> {
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
        // `@李娜` is a real mention: DingTalk lists the member beside the bot.
        let mut body = draft.body(now_ms());
        if let Some(at) = body["atUsers"].as_array_mut() {
            at.extend(super::client::mentions_in(text));
        }
        // Whatever arrived after an earlier reply was given up on is not this reply.
        while self.outbox.try_recv().is_ok() {}
        match self.mode {
            DemoMode::Stream => {
                self.sim
                    .push_message(&body)
                    .ok_or("qunguan has no Stream connection")?;
            }
            DemoMode::Http => {
                let url = format!("http://{}/callback", self.server.addr);
                let response = signed::post(&self.http, &url, &self.secret, &body)
                    .await
                    .map_err(|e| format!("could not reach qunguan: {e}"))?;
                if !response.status().is_success() {
                    return Err(format!("qunguan answered HTTP {}", response.status()));
                }
            }
        }
        let mut parts = Vec::new();
        loop {
            let part = tokio::time::timeout(self.reply_wait, self.next_reply(&session))
                .await
                .ok()
                .flatten()
                .ok_or_else(|| format!("no reply within {} s", self.reply_wait.as_secs()))?;
            let more = more_parts_follow(&part.title);
            parts.push(part);
            if !more {
                return Ok(parts);
            }
        }
    }

    /// The next message to this turn's webhook, or to the group if qunguan fell back.
    pub(super) async fn next_reply(&mut self, session: &str) -> Option<Delivered> {
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

    pub(super) fn show(&self, m: &Delivered) {
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

/// The code in a reply that asks for `/confirm <code>`.
fn confirmation_code(text: &str) -> Option<String> {
    let rest = &text[text.find("/confirm ")? + "/confirm ".len()..];
    let code: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!code.is_empty()).then_some(code)
}
/// Whether a message titled `title` is a part of a split reply with more parts after it
/// (the reading side of [`crate::reply::part_title`]).
fn more_parts_follow(title: &str) -> bool {
    let counter = title
        .strip_suffix(')')
        .and_then(|t| t.rsplit_once(" ("))
        .and_then(|(_, c)| c.split_once('/'));
    match counter {
        Some((i, n)) => matches!((i.parse::<u32>(), n.parse::<u32>()), (Ok(i), Ok(n)) if i < n),
        None => false,
    }
}

/// Whether a reply titled `title` (in either language) says nothing was done, for whoever
/// only sees the reply, as the group does.
fn is_failure_title(title: &str) -> bool {
    [Lang::Zh, Lang::En].iter().any(|lang| {
        Outcome::ALL
            .iter()
            .any(|o| o.is_failure() && o.title(lang.texts()) == title)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_titles_say_whether_more_parts_follow() {
        use crate::reply::part_title;
        assert!(more_parts_follow(&part_title("群管", 0, 2)));
        assert!(!more_parts_follow(&part_title("群管", 1, 2)));
        assert!(!more_parts_follow(&part_title("群管", 0, 1)));
        assert!(!more_parts_follow("qunguan (note)"));
    }

    #[test]
    fn refusal_and_error_titles_read_as_failures_in_both_languages() {
        assert!(is_failure_title(Lang::Zh.texts().title_refused));
        assert!(is_failure_title(Lang::En.texts().title_error));
        assert!(!is_failure_title(Lang::Zh.texts().title_reply));
        assert!(!is_failure_title(Lang::En.texts().title_reply));
    }
}
