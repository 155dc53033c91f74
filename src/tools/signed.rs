//! Building and posting a callback the way DingTalk does: the JSON body of an @mention
//! and the `timestamp` and `sign` headers.

use secrecy::SecretString;
use serde_json::{Value, json};

use crate::{callback::signature, clock::now_ms};

/// How long DingTalk keeps a sessionWebhook usable: `sessionWebhookExpiredTime` is about
/// 90 minutes after the message in every callback DingTalk documents.
const WEBHOOK_LIFETIME_MS: i64 = 90 * 60 * 1000;

/// The parts of a callback that differ from one message to the next.
#[derive(Debug, Clone)]
pub struct Draft {
    pub msg_id: String,
    /// The callback's `conversationId` (an openConversationId).
    pub conversation_id: String,
    /// A 1:1 chat with the bot rather than a group.
    pub direct: bool,
    pub sender_staff_id: String,
    pub sender_nick: String,
    pub is_admin: bool,
    /// What the member typed after the bot's @name (DingTalk removes the name itself).
    pub text: String,
    pub session_webhook: String,
}

impl Draft {
    /// The body DingTalk POSTs, with `createAt` and the webhook expiry at `now_ms`.
    pub fn body(&self, now_ms: i64) -> Value {
        let mut body = json!({
            "msgtype": "text",
            "text": { "content": format!(" {}", self.text) },
            "msgId": self.msg_id,
            "createAt": now_ms,
            "conversationType": if self.direct { "1" } else { "2" },
            "conversationId": self.conversation_id,
            "senderId": format!("$:LWCP_v1:${}", self.sender_staff_id),
            "senderNick": self.sender_nick,
            "senderStaffId": self.sender_staff_id,
            "chatbotUserId": "$:LWCP_v1:$qunguanbot",
            "isAdmin": self.is_admin,
            "sessionWebhook": self.session_webhook,
            "sessionWebhookExpiredTime": now_ms + WEBHOOK_LIFETIME_MS,
        });
        if !self.direct {
            let group = body.as_object_mut().expect("an object");
            group.insert("isInAtList".into(), json!(true));
            group.insert(
                "atUsers".into(),
                json!([{ "dingtalkId": "$:LWCP_v1:$qunguanbot" }]),
            );
        }
        body
    }
}

/// POSTs `body` to `url` signed with `secret` at the current time, as DingTalk does.
pub async fn post(
    http: &reqwest::Client,
    url: &str,
    secret: &SecretString,
    body: &Value,
) -> reqwest::Result<reqwest::Response> {
    let timestamp = now_ms().to_string();
    let sign = signature::sign(secret, &timestamp);
    http.post(url)
        .header("content-type", "application/json; charset=utf-8")
        .header("timestamp", timestamp)
        .header("sign", sign)
        .body(body.to_string())
        .send()
        .await
}

/// A random id of `len` characters from `[0-9a-f]`.
pub fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
        .collect()
}
