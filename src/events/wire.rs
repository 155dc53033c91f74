//! A group event as DingTalk sends it, read leniently into a [`GroupEvent`].
//!
//! DingTalk's pages spell the same fields two ways (`chatId` and `ChatId`, `eventType` and
//! `EventType`, …) and leave different ones out in each example, so every field is looked
//! up by both spellings and may be missing. Over Stream the event's headers
//! (`eventType`, `eventId`, `eventBornTime`, all strings) come apart from its `data` (a
//! JSON string); over HTTP they are flattened into one object with the data.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{
    crypto::hex,
    ids::{ChatId, MsgId, OpenConversationId, StaffId},
};

/// The largest event accepted, in bytes of JSON, whatever the transport.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;
/// The most members one event names (a group holds at most 1,000).
const MAX_MEMBERS: usize = 1000;
/// The most characters of a group name kept.
const MAX_TITLE_CHARS: usize = 256;

/// What happened, by `eventType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `chat_add_member`: people were added.
    MembersAdded,
    /// `chat_remove_member`: people were removed.
    MembersRemoved,
    /// `chat_quit`: someone left by themselves (the operator).
    Quit,
    /// `chat_update_owner`: the group has a new owner.
    OwnerChanged,
    /// `chat_update_title`: the group was renamed.
    Renamed,
    /// `chat_disband`: the group was dissolved.
    Disbanded,
    /// `check_url`: the console checking the HTTP push URL.
    CheckUrl,
    /// Anything else: acknowledged, and used only to bind its group.
    Other,
}

impl EventKind {
    fn of(event_type: &str) -> Self {
        match event_type {
            "chat_add_member" => EventKind::MembersAdded,
            "chat_remove_member" => EventKind::MembersRemoved,
            "chat_quit" => EventKind::Quit,
            "chat_update_owner" => EventKind::OwnerChanged,
            "chat_update_title" => EventKind::Renamed,
            "chat_disband" => EventKind::Disbanded,
            "check_url" => EventKind::CheckUrl,
            _ => EventKind::Other,
        }
    }

    /// The metric label and the audit trail's name for it.
    pub fn label(&self) -> &'static str {
        match self {
            EventKind::MembersAdded => "chat_add_member",
            EventKind::MembersRemoved => "chat_remove_member",
            EventKind::Quit => "chat_quit",
            EventKind::OwnerChanged => "chat_update_owner",
            EventKind::Renamed => "chat_update_title",
            EventKind::Disbanded => "chat_disband",
            EventKind::CheckUrl => "check_url",
            EventKind::Other => "other",
        }
    }
}

/// One group event, whichever way it came. Ids that do not parse are left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEvent {
    /// What identifies it across redeliveries and transports, claimed in the store like a
    /// msgId: `event-` and DingTalk's `eventId`, or a digest of the event where there is
    /// none (or none that reads).
    pub key: MsgId,
    pub kind: EventKind,
    pub chat: Option<ChatId>,
    pub group: Option<OpenConversationId>,
    /// Who did it (`operator`); for `chat_quit`, who left.
    pub operator: Option<StaffId>,
    /// Who was added or removed (`userId`).
    pub members: Vec<StaffId>,
    /// The new owner (`owner`).
    pub owner: Option<StaffId>,
    /// The new name (`title`), as DingTalk sent it.
    pub title: Option<String>,
    /// When it happened, epoch ms, if DingTalk said.
    pub at_ms: Option<i64>,
}

/// Why an event could not be read at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error("the event is larger than 64 KiB")]
    TooLarge,
    #[error("the event is not a JSON object")]
    NotJson,
}

impl Unreadable {
    pub fn label(self) -> &'static str {
        match self {
            Unreadable::TooLarge => "too_large",
            Unreadable::NotJson => "bad_data",
        }
    }
}

impl GroupEvent {
    /// An EVENT frame: its headers (`eventType`, `eventId`, `eventBornTime`) and `data`.
    pub fn from_stream(headers: &Map<String, Value>, data: &str) -> Result<Self, Unreadable> {
        let mut fields = object(data)?;
        for name in ["eventType", "eventId", "eventBornTime"] {
            if let Some(value) = headers.get(name) {
                fields.entry(name).or_insert_with(|| value.clone());
            }
        }
        Ok(Self::read(&fields, data))
    }

    /// The decrypted body of an HTTP push: the headers flattened into the data.
    pub fn from_http(body: &str) -> Result<Self, Unreadable> {
        Ok(Self::read(&object(body)?, body))
    }

    fn read(fields: &Map<String, Value>, raw: &str) -> Self {
        let text = |names: &[&str]| names.iter().find_map(|n| fields.get(*n)).and_then(as_text);
        let key = text(&["eventId", "EventId"])
            .filter(|id| !id.is_empty() && id.len() <= 128)
            .and_then(|id| MsgId::parse(&format!("event-{id}")).ok())
            .unwrap_or_else(|| digest(raw));
        let members = ["userId", "UserId"]
            .iter()
            .find_map(|n| fields.get(*n))
            .map(staff_ids)
            .unwrap_or_default();
        let title = text(&["title", "Title"]).map(|t| t.chars().take(MAX_TITLE_CHARS).collect());
        let at_ms = ["eventBornTime", "EventTime", "timeStamp", "TimeStamp"]
            .iter()
            .find_map(|n| fields.get(*n).and_then(as_millis));
        Self {
            key,
            kind: EventKind::of(&text(&["eventType", "EventType"]).unwrap_or_default()),
            chat: text(&["chatId", "ChatId"]).and_then(|c| ChatId::parse(&c).ok()),
            group: text(&["openConversationId", "OpenConversationId"])
                .and_then(|c| OpenConversationId::parse(&c).ok()),
            operator: text(&["operator", "Operator"]).and_then(|s| StaffId::parse(&s).ok()),
            members,
            owner: text(&["owner", "Owner"]).and_then(|s| StaffId::parse(&s).ok()),
            title,
            at_ms,
        }
    }
}

fn object(json: &str) -> Result<Map<String, Value>, Unreadable> {
    if json.len() > MAX_EVENT_BYTES {
        return Err(Unreadable::TooLarge);
    }
    match serde_json::from_str(json) {
        Ok(Value::Object(fields)) => Ok(fields),
        _ => Err(Unreadable::NotJson),
    }
}

/// A string, or a number as its digits.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Epoch milliseconds, as a number or a string of digits.
fn as_millis(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Staff ids from an array of them (or one); the ones that do not parse are left out.
fn staff_ids(value: &Value) -> Vec<StaffId> {
    let one = |v: &Value| v.as_str().and_then(|s| StaffId::parse(s).ok());
    match value {
        Value::Array(items) => items.iter().take(MAX_MEMBERS).filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

/// The key of an event DingTalk gave no id: the digest of what it sent.
fn digest(raw: &str) -> MsgId {
    let hash = Sha256::digest(raw.as_bytes());
    MsgId::parse(&format!("event-sha256-{}", hex(&hash[..16]))).expect("hex digits are a plain id")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_event_takes_its_type_and_id_from_the_headers() {
        let headers = serde_json::json!({"eventType": "chat_add_member", "eventId": "ev1",
            "eventBornTime": "1683533823336", "topic": "*"});
        let data = r#"{"timeStamp":1608027106990,"chatId":"chat9a","corpId":"ding1",
            "openConversationId":"cid9a==","userId":["u1","u2","bad id"],"operator":"boss"}"#;
        let e = GroupEvent::from_stream(headers.as_object().unwrap(), data).unwrap();
        assert_eq!(e.key.as_str(), "event-ev1");
        assert_eq!(e.kind, EventKind::MembersAdded);
        assert_eq!(e.chat.unwrap().as_str(), "chat9a");
        assert_eq!(e.group.unwrap().as_str(), "cid9a==");
        let members: Vec<_> = e.members.iter().map(StaffId::as_str).collect();
        assert_eq!(members, ["u1", "u2"]);
        assert_eq!(e.operator.unwrap().as_str(), "boss");
        assert_eq!(e.at_ms, Some(1_683_533_823_336));
    }

    #[test]
    fn an_http_event_reads_both_spellings_and_may_lack_anything() {
        let pascal = r#"{"EventType":"chat_update_title","ChatId":"chat1","OpenConversationId":"cid1",
            "Operator":"u9","Title":"新群名","TimeStamp":"1663143335567","eventId":"e2",
            "UserId":["u1"],"Owner":"u2"}"#;
        let e = GroupEvent::from_http(pascal).unwrap();
        assert_eq!((e.kind, e.key.as_str()), (EventKind::Renamed, "event-e2"));
        assert_eq!(e.chat.unwrap().as_str(), "chat1");
        assert_eq!(e.group.unwrap().as_str(), "cid1");
        assert_eq!(e.title.as_deref(), Some("新群名"));
        assert_eq!(e.operator.unwrap().as_str(), "u9");
        assert_eq!(e.members, [StaffId::parse("u1").unwrap()]);
        assert_eq!(e.owner.unwrap().as_str(), "u2");
        assert_eq!(e.at_ms, Some(1_663_143_335_567));
        let bare = GroupEvent::from_http(r#"{"EventType":"chat_update_owner"}"#).unwrap();
        assert_eq!(bare.kind, EventKind::OwnerChanged);
        assert!(bare.group.is_none() && bare.owner.is_none() && bare.members.is_empty());
        assert!(
            bare.key.as_str().starts_with("event-sha256-"),
            "no eventId: a digest of the body"
        );
        let spaced = GroupEvent::from_http(r#"{"EventType":"chat_quit","eventId":"e 3"}"#).unwrap();
        assert!(
            spaced.key.as_str().starts_with("event-sha256-"),
            "an eventId that is not a plain id: a digest too"
        );
        let check = GroupEvent::from_http(r#"{"EventType":"check_url"}"#).unwrap();
        assert_eq!(check.kind, EventKind::CheckUrl);
    }

    #[test]
    fn what_is_not_an_event_is_refused() {
        assert_eq!(GroupEvent::from_http("[1,2]"), Err(Unreadable::NotJson));
        assert_eq!(GroupEvent::from_http("nope"), Err(Unreadable::NotJson));
        let huge = format!(r#"{{"title":"{}"}}"#, "x".repeat(MAX_EVENT_BYTES));
        assert_eq!(GroupEvent::from_http(&huge), Err(Unreadable::TooLarge));
    }
}
