//! The message both transports deliver, whatever door it came through: a verified robot
//! message with its ids, sender, mentions, content and reply webhook. Below the HTTP
//! callback and the Stream connection alike; everything downstream works from [`Incoming`].
//!
//! The robot message's JSON (the HTTP callback body, and the `data` of a Stream frame) is
//! decoded leniently by [`wire`], then checked into an [`Incoming`].

mod unique_keys;
pub mod wire;

/// The largest robot message accepted, in bytes of JSON, whatever the transport.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

use crate::ids::{MsgId, OpenConversationId, StaffId};

/// A 1:1 chat with the bot, or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationKind {
    Direct,
    Group,
}

/// What the member sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// A `text` message's content.
    Text(String),
    /// The text segments of a `richText` message (HarmonyOS sends commands this way).
    RichText(Vec<String>),
    /// Anything else (picture, audio, file, richText without text…), by msgtype.
    Other(String),
}

/// The sender as far as permissions care.
#[derive(Debug, Clone)]
pub struct Sender {
    /// `senderStaffId`; `None` for external or cross-org members.
    pub staff_id: Option<StaffId>,
    pub nick: String,
    /// The callback's `isAdmin` flag (an org admin, not the group owner).
    pub is_org_admin: bool,
}

/// A member @mentioned in the message (the bot itself excluded).
#[derive(Debug, Clone)]
pub struct Mention {
    pub dingtalk_id: String,
    pub staff_id: Option<StaffId>,
}

/// The temporary reply URL that came with the message.
#[derive(Debug, Clone)]
pub struct SessionWebhook {
    pub url: String,
    /// `sessionWebhookExpiredTime`, epoch milliseconds.
    pub expires_at_ms: Option<i64>,
}

/// A verified, decoded callback: everything downstream works from this.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub msg_id: MsgId,
    pub conversation: OpenConversationId,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub sender: Sender,
    pub mentions: Vec<Mention>,
    pub content: Content,
    pub webhook: Option<SessionWebhook>,
    /// What sent it when no member typed it just now (a schedule: `schedule #3`); kept in
    /// the audit trail. `None` for every message DingTalk delivers.
    pub source: Option<String>,
}

/// Why a decoded body is not a usable callback (answered with 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("body is not a JSON object: {0:?}")]
    Json(String),
    #[error("key {0:?} appears twice in one object")]
    DuplicateKey(String),
    #[error("field `{0}` is missing or invalid")]
    Field(&'static str),
}

impl Incoming {
    /// Decodes and checks a callback body. A key given twice in any object, at any depth,
    /// makes the body ambiguous, so it is refused, as serde refuses it at the top level.
    pub fn from_json(body: &[u8]) -> Result<Self, DecodeError> {
        unique_keys::check(body)?;
        let raw: wire::CallbackMessage =
            serde_json::from_slice(body).map_err(|e| DecodeError::Json(e.to_string()))?;
        Self::try_from(raw)
    }
}
