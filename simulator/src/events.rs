//! What the simulated DingTalk client does to a group (add, remove, rename, hand over,
//! dissolve) and the group events DingTalk pushes for it; and the members' names
//! (`topapi/v2/user/get`).
//!
//! An event goes to [`Simulator::subscribe_events`] (the demo forwards it over HTTP) and,
//! when the newest Stream connection subscribed to events, as an EVENT frame.

use axum::response::Response;
use serde_json::{Value, json};

use super::{Request, Simulator, json_ok, lock, now_ms_string, oapi_error};

/// A group event as DingTalk reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct SimEvent {
    /// `chat_add_member`, `chat_update_title`, …
    pub event_type: String,
    pub event_id: String,
    /// The event's data: `chatId`, `openConversationId`, `operator`, `userId`, …
    pub data: Value,
    /// The messageId of the EVENT frame the simulator pushed it in, when it did.
    pub pushed_as: Option<String>,
}

impl SimEvent {
    /// An event of `event_type` with `data`, and a new event id.
    pub fn new(event_type: &str, data: Value) -> Self {
        Self {
            event_type: event_type.to_owned(),
            event_id: format!("simev{:016x}", fastrand::u64(..)),
            data,
            pushed_as: None,
        }
    }

    /// The decrypted body of DingTalk's HTTP push: the headers flattened into the data.
    pub fn http_body(&self) -> Value {
        let mut body = self.data.clone();
        body["EventType"] = json!(self.event_type);
        body["eventId"] = json!(self.event_id);
        body["EventTime"] = json!(now_ms_string().parse::<i64>().unwrap_or(0));
        body
    }
}

impl Simulator {
    /// Events the simulated client causes, as they happen.
    pub fn subscribe_events(&self) -> tokio::sync::broadcast::Receiver<SimEvent> {
        self.inner.events.subscribe()
    }

    /// Reports `event_type` about the group `chatid` (its chatId and openConversationId,
    /// and `fields`): to the subscribers, and over Stream when subscribed there.
    pub fn emit_event(&self, event_type: &str, chatid: &str, fields: Value) -> Option<SimEvent> {
        let cid = self.group(chatid)?.cid;
        let mut data = json!({"chatId": chatid, "openConversationId": cid});
        if let (Some(data), Value::Object(fields)) = (data.as_object_mut(), fields) {
            data.extend(fields);
        }
        Some(self.report(event_type, data))
    }

    /// Reports an event with `data` (its corpId and time added).
    fn report(&self, event_type: &str, mut data: Value) -> SimEvent {
        data["corpId"] = json!("dingsimcorp");
        data["timeStamp"] = json!(now_ms_string().parse::<i64>().unwrap_or(0));
        let mut event = SimEvent::new(event_type, data);
        if self.events_subscribed() {
            event.pushed_as = self.push_event(&event);
        }
        let _ = self.inner.events.send(event.clone());
        event
    }

    /// `operator` adds `users` to the group in the client.
    pub fn client_add(&self, chatid: &str, operator: &str, users: &[&str]) -> Option<SimEvent> {
        self.change_members(chatid, |members| {
            for user in users {
                if !members.contains(&json!(user)) {
                    members.push(json!(user));
                }
            }
        })?;
        self.emit_event(
            "chat_add_member",
            chatid,
            json!({"operator": operator, "userId": users}),
        )
    }

    /// `operator` removes `users` from the group in the client.
    pub fn client_remove(&self, chatid: &str, operator: &str, users: &[&str]) -> Option<SimEvent> {
        self.change_members(chatid, |members| {
            members.retain(|m| !users.iter().any(|u| m == u));
        })?;
        self.emit_event(
            "chat_remove_member",
            chatid,
            json!({"operator": operator, "userId": users}),
        )
    }

    /// `operator` renames the group in the client.
    pub fn client_rename(&self, chatid: &str, operator: &str, title: &str) -> Option<SimEvent> {
        self.set_group_field(chatid, "name", json!(title));
        self.emit_event(
            "chat_update_title",
            chatid,
            json!({"operator": operator, "title": title}),
        )
    }

    /// The group's ownership passes to `owner` in the client (the event names no chatId,
    /// as DingTalk's example does not).
    pub fn client_transfer(&self, chatid: &str, owner: &str) -> Option<SimEvent> {
        let cid = self.group(chatid)?.cid;
        self.set_group_field(chatid, "owner", json!(owner));
        let data = json!({"openConversationId": cid, "owner": owner});
        Some(self.report("chat_update_owner", data))
    }

    /// `operator` dissolves the group in the client.
    pub fn client_disband(&self, chatid: &str, operator: &str) -> Option<SimEvent> {
        self.set_group_field(chatid, "status", json!(2));
        self.emit_event("chat_disband", chatid, json!({"operator": operator}))
    }

    fn change_members(&self, chatid: &str, change: impl FnOnce(&mut Vec<Value>)) -> Option<()> {
        let mut groups = lock(&self.inner.groups);
        let group = groups.get_mut(chatid)?;
        let mut members = group.info["useridlist"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        change(&mut members);
        group.info["useridlist"] = Value::Array(members);
        Some(())
    }

    /// The name `topapi/v2/user/get` gives `userid`; people without one are not found.
    pub fn set_name(&self, userid: &str, name: &str) {
        lock(&self.inner.names).insert(userid.to_owned(), name.to_owned());
    }

    pub(super) fn user_get(&self, r: &Request) -> Response {
        let body = r.json();
        let name = body["userid"]
            .as_str()
            .and_then(|u| lock(&self.inner.names).get(u).cloned());
        match (body["userid"].as_str(), name) {
            (Some(userid), Some(name)) => json_ok(json!({
                "errcode": 0, "errmsg": "ok", "request_id": "req-user",
                "result": {"userid": userid, "name": name},
            })),
            _ => oapi_error(60121, "找不到该用户"),
        }
    }
}
