//! What the demo's members do in the (simulated) DingTalk client rather than by typing to
//! the bot: `:add`, `:remove`, `:rename`, `:event`. The simulator reports each as the
//! group event DingTalk would push: over the Stream connection in `--mode stream`, and in
//! HTTP mode through the demo, which encrypts it as DingTalk does and POSTs it to
//! qunguan's `/events`. Whatever qunguan sends the group in answer (a welcome) is shown.

use std::{io::Write, time::Duration};

use qunguan_simulator::{Destination, SimEvent, Simulator};
use serde_json::{Value, json};

use super::{Demo, DemoMode, sample};
use crate::crypto::EventCrypto;

impl Demo {
    /// `:add`, `:remove`, `:rename` or `:event`, done by the current speaker; `None` if the
    /// line is none of them.
    pub(super) async fn client(&mut self, words: &[&str]) -> Option<bool> {
        let by = self.sender.clone();
        let chat = sample::CHATID;
        let event = match words {
            ["add", who, name @ ..] => {
                if !name.is_empty() {
                    self.sim.set_name(who, &name.join(" "));
                }
                self.sim.client_add(chat, &by, &[who])
            }
            ["remove", who] => self.sim.client_remove(chat, &by, &[who]),
            ["rename", name @ ..] if !name.is_empty() => {
                self.sim.client_rename(chat, &by, &name.join(" "))
            }
            ["event", kind, fields @ ..] => self.sim.emit_event(kind, chat, fields_of(fields, &by)),
            ["add" | "remove" | "rename" | "event", ..] => {
                out!(
                    "  expected :add <staffId> [name], :remove <staffId>, :rename <name> or :event <type> [key=value…]"
                );
                return Some(false);
            }
            _ => return None,
        };
        let Some(event) = event else {
            out!("  the sample group is gone");
            return Some(false);
        };
        out!(
            "  (done in the DingTalk client by {}: DingTalk pushes the event {})",
            self.speaker(),
            event.event_type
        );
        Some(self.delivered(&event).await)
    }

    /// Hands the event to qunguan (in HTTP mode: the Stream gateway has pushed it already)
    /// and shows what qunguan sent the group because of it.
    async fn delivered(&mut self, event: &SimEvent) -> bool {
        while self.outbox.try_recv().is_ok() {}
        if self.mode == DemoMode::Http {
            if let Err(problem) = forward(&self.http, self.server.addr, &self.events, event).await {
                out!("  ✗ {problem}");
                return false;
            }
        }
        // A welcome follows the event by a moment (and waits its turn after another).
        tokio::time::sleep(Duration::from_millis(300)).await;
        while let Ok(m) = self.outbox.try_recv() {
            if matches!(&m.to, Destination::Group(cid) if cid == sample::CID) {
                self.show(&m);
            }
        }
        true
    }
}

/// `key=value` words as an event's data; the operator is the speaker unless given.
fn fields_of(words: &[&str], by: &str) -> Value {
    let mut fields = json!({"operator": by});
    for word in words {
        if let Some((key, value)) = word.split_once('=') {
            fields[key] = match key {
                "userId" | "UserId" => json!(value.split(',').collect::<Vec<_>>()),
                _ => json!(value),
            };
        }
    }
    fields
}

/// POSTs `event` to qunguan's `/events`, encrypted and signed as DingTalk pushes it.
async fn forward(
    http: &reqwest::Client,
    qunguan: std::net::SocketAddr,
    crypto: &EventCrypto,
    event: &SimEvent,
) -> Result<(), String> {
    let (query, body) = crypto.push(&event.http_body().to_string(), crate::clock::now_ms());
    let response = http
        .post(format!("http://{qunguan}/events?{query}"))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("could not reach qunguan: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "qunguan answered the event push with HTTP {}",
            response.status()
        ))
    }
}

/// The members' names, so qunguan shows people by name.
pub fn name_members(sim: &Simulator) {
    for m in &sample::MEMBERS {
        sim.set_name(m.staff_id, m.name);
    }
}

/// `atUsers` for every `@name` (or `@staffId`) of a member in `text`, as DingTalk puts a
/// real mention in the callback: the member's staff id beside the bot's own entry.
pub fn mentions_in(text: &str) -> Vec<Value> {
    text.split_whitespace()
        .filter_map(|word| word.strip_prefix(['@', '＠']))
        .filter_map(|who| {
            sample::MEMBERS
                .iter()
                .find(|m| m.name == who || m.staff_id == who)
        })
        .map(|m| json!({"dingtalkId": format!("$:LWCP_v1:${}", m.staff_id), "staffId": m.staff_id}))
        .collect()
}
