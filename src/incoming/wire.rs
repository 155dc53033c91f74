//! The robot message's JSON, decoded leniently, then parsed into an [`Incoming`] message.
//!
//! DingTalk is inconsistent about types (`createAt` is documented as a string and sent as a
//! number; `conversationType` is a string), adds fields over time and omits others, so the
//! wire struct accepts numbers or strings where it matters, ignores unknown fields and makes
//! everything optional. [`Incoming::try_from`] then insists on what qunguan cannot do without.

use serde::{Deserialize, Deserializer, de::DeserializeOwned};
use serde_json::Value;

use super::{Content, ConversationKind, DecodeError, Incoming, Mention, Sender, SessionWebhook};
use crate::ids::{MsgId, OpenConversationId, StaffId};

/// The JSON body of a robot callback, as DingTalk sends it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CallbackMessage {
    #[serde(deserialize_with = "lenient_string")]
    pub msgtype: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub text: Option<TextBody>,
    pub content: Option<Value>,
    /// Only a JSON string: a number would go through f64 and two ids could become one.
    pub msg_id: Option<Value>,
    #[serde(deserialize_with = "lenient_i64")]
    pub create_at: Option<i64>,
    #[serde(deserialize_with = "lenient_string")]
    pub conversation_type: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub conversation_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub conversation_title: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub sender_nick: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub sender_staff_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub chatbot_user_id: Option<String>,
    #[serde(deserialize_with = "lenient")]
    pub at_users: Option<Vec<AtUserBody>>,
    #[serde(deserialize_with = "lenient_bool")]
    pub is_admin: Option<bool>,
    #[serde(deserialize_with = "lenient_string")]
    pub session_webhook: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub session_webhook_expired_time: Option<i64>,
}

/// `text` of a text message.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TextBody {
    #[serde(deserialize_with = "lenient_string")]
    pub content: Option<String>,
}

/// One entry of `atUsers`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AtUserBody {
    #[serde(deserialize_with = "lenient_string")]
    pub dingtalk_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub staff_id: Option<String>,
}

/// A field we can do without decodes to `None` when it has an unexpected shape.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    let value = Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    })
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) => match s.trim() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => Some(n.as_i64() == Some(1)),
        _ => None,
    })
}

impl TryFrom<CallbackMessage> for Incoming {
    type Error = DecodeError;

    fn try_from(raw: CallbackMessage) -> Result<Self, DecodeError> {
        let msg_id = match &raw.msg_id {
            Some(Value::String(s)) => MsgId::parse(s).ok(),
            _ => None,
        }
        .ok_or(DecodeError::Field("msgId"))?;
        let conversation = raw
            .conversation_id
            .as_deref()
            .and_then(|s| OpenConversationId::parse(s).ok())
            .ok_or(DecodeError::Field("conversationId"))?;
        let kind = match raw.conversation_type.as_deref().map(str::trim) {
            Some("1") => ConversationKind::Direct,
            Some("2") => ConversationKind::Group,
            _ => return Err(DecodeError::Field("conversationType")),
        };
        let bot = raw.chatbot_user_id.unwrap_or_default();
        let mentions = raw
            .at_users
            .unwrap_or_default()
            .into_iter()
            .filter_map(|u| {
                let dingtalk_id = u.dingtalk_id.unwrap_or_default();
                let staff_id = u.staff_id.as_deref().and_then(|s| StaffId::parse(s).ok());
                (dingtalk_id != bot || bot.is_empty()).then_some(Mention {
                    dingtalk_id,
                    staff_id,
                })
            })
            .collect();
        Ok(Incoming {
            msg_id,
            conversation,
            kind,
            title: raw.conversation_title,
            sender: Sender {
                staff_id: raw
                    .sender_staff_id
                    .as_deref()
                    .and_then(|s| StaffId::parse(s.trim()).ok()),
                nick: raw.sender_nick.unwrap_or_default(),
                is_org_admin: raw.is_admin.unwrap_or(false),
            },
            mentions,
            content: content_of(raw.msgtype.as_deref().unwrap_or(""), raw.text, raw.content),
            webhook: raw.session_webhook.map(|url| SessionWebhook {
                url,
                expires_at_ms: raw.session_webhook_expired_time,
            }),
            source: None,
        })
    }
}

fn content_of(msgtype: &str, text: Option<TextBody>, content: Option<Value>) -> Content {
    match msgtype {
        "text" => Content::Text(text.and_then(|t| t.content).unwrap_or_default()),
        "richText" => {
            let segments: Vec<String> = content
                .as_ref()
                .and_then(|c| c.get("richText"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|seg| seg.get("text").and_then(Value::as_str))
                .map(str::to_owned)
                .collect();
            if segments.is_empty() {
                Content::Other(msgtype.to_owned())
            } else {
                Content::RichText(segments)
            }
        }
        other => Content::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_group_sample_decodes() {
        let body = r#"{
          "conversationId": "cidQ3kY1v7Tq8mXwP2aB9cD4eF==",
          "atUsers": [ { "dingtalkId": "$:LWCP_v1:$Bot" },
                       { "dingtalkId": "$:LWCP_v1:$Usr1", "staffId": "user123" } ],
          "chatbotUserId": "$:LWCP_v1:$Bot",
          "msgId": "msgLICYeAbCdEfGhIjKlMnOpQ==", "senderNick": "张三", "isAdmin": false,
          "senderStaffId": "manager4220", "sessionWebhookExpiredTime": 1690367502152,
          "createAt": 1690362101894, "conversationType": "2", "conversationTitle": "项目协作群",
          "sessionWebhook": "https://oapi.dingtalk.com/robot/sendBySession?session=76da",
          "text": { "content": " /lock-friending" }, "msgtype": "text", "newField": [1, 2]
        }"#;
        let m = Incoming::from_json(body.as_bytes()).unwrap();
        assert_eq!(m.kind, ConversationKind::Group);
        assert_eq!(m.sender.staff_id.unwrap().as_str(), "manager4220");
        assert_eq!(m.content, Content::Text(" /lock-friending".into()));
        assert_eq!(m.mentions.len(), 1, "the bot is not a mention");
        assert_eq!(m.mentions[0].staff_id.as_ref().unwrap().as_str(), "user123");
        assert_eq!(m.webhook.unwrap().expires_at_ms, Some(1690367502152));
    }

    #[test]
    fn numbers_and_strings_are_interchangeable_where_dingtalk_varies() {
        let body = r#"{"msgId":"m1","conversationId":"cid1","conversationType":2,
            "createAt":"1690362101894","sessionWebhookExpiredTime":"1690367502152",
            "isAdmin":"true","msgtype":"text","text":{"content":"/info"}}"#;
        let m = Incoming::from_json(body.as_bytes()).unwrap();
        assert_eq!(m.kind, ConversationKind::Group);
        assert!(m.sender.is_org_admin);
        assert!(m.webhook.is_none(), "no sessionWebhook was sent");
    }

    #[test]
    fn rich_text_keeps_text_segments_only() {
        let body = r#"{"msgId":"m","conversationId":"cid1","conversationType":"2",
            "msgtype":"richText","content":{"richText":[{"text":"@群管机器人"},{"text":"/info"},
            {"type":"picture","downloadCode":"x"}]}}"#;
        let m = Incoming::from_json(body.as_bytes()).unwrap();
        assert_eq!(
            m.content,
            Content::RichText(vec!["@群管机器人".into(), "/info".into()])
        );
    }

    #[test]
    fn pictures_and_text_free_rich_text_are_other() {
        let pic = r#"{"msgId":"m","conversationId":"c","conversationType":"1","msgtype":"picture",
            "content":{"downloadCode":"x"}}"#;
        assert_eq!(
            Incoming::from_json(pic.as_bytes()).unwrap().content,
            Content::Other("picture".into())
        );
        let rich = r#"{"msgId":"m","conversationId":"c","conversationType":"1","msgtype":"richText",
            "content":{"richText":[{"type":"picture"}]}}"#;
        assert_eq!(
            Incoming::from_json(rich.as_bytes()).unwrap().content,
            Content::Other("richText".into())
        );
    }

    #[test]
    fn essential_fields_are_required() {
        let cases: [(&[u8], &str); 4] = [
            (br#"{"conversationId":"c","conversationType":"2"}"#, "msgId"),
            (br#"{"msgId":"m","conversationType":"2"}"#, "conversationId"),
            (
                br#"{"msgId":"m","conversationId":"c","conversationType":"3"}"#,
                "conversationType",
            ),
            (
                br#"{"msgId":"","conversationId":"c","conversationType":"2"}"#,
                "msgId",
            ),
        ];
        for (body, field) in cases {
            assert_eq!(
                Incoming::from_json(body).unwrap_err(),
                DecodeError::Field(field)
            );
        }
        assert!(Incoming::from_json(b"[1]").is_err());
        assert!(matches!(
            Incoming::from_json(b"not json"),
            Err(DecodeError::Json(_))
        ));
    }

    #[test]
    fn msg_ids_are_strings_only() {
        for id in [
            "42",
            "123456789012345678901234567890",
            "1e3",
            "true",
            "null",
            "[\"m\"]",
        ] {
            let body = format!(r#"{{"msgId":{id},"conversationId":"c","conversationType":"2"}}"#);
            assert_eq!(
                Incoming::from_json(body.as_bytes()).unwrap_err(),
                DecodeError::Field("msgId"),
                "{id}"
            );
        }
        let body = br#"{"msgId":"42","conversationId":"c","conversationType":"2"}"#;
        assert_eq!(Incoming::from_json(body).unwrap().msg_id.as_str(), "42");
    }

    #[test]
    fn a_key_given_twice_is_refused_at_every_level() {
        let base = r#""msgId":"m","conversationId":"c","conversationType":"2""#;
        for body in [
            format!(r#"{{{base},"msgId":"n"}}"#),
            format!(r#"{{{base},"text":{{"content":"/info","content":"/kick"}}}}"#),
            format!(r#"{{{base},"atUsers":[{{"staffId":"a","staffId":"b"}}]}}"#),
            format!(r#"{{{base},"x":{{"y":[{{"z":1,"z":2}}]}}}}"#),
        ] {
            assert!(
                matches!(
                    Incoming::from_json(body.as_bytes()),
                    Err(DecodeError::DuplicateKey(_))
                ),
                "{body}"
            );
        }
        let many: Vec<String> = (0..100).map(|i| format!(r#""k{i}":{i}"#)).collect();
        let wide = format!(r#"{{{base},"x":{{{},"k99":0}}}}"#, many.join(","));
        assert!(matches!(
            Incoming::from_json(wide.as_bytes()),
            Err(DecodeError::DuplicateKey(k)) if k == "k99"
        ));
        let escaped = format!(r#"{{{base},"x":{{"\u0061":1,"a":2}}}}"#);
        assert!(matches!(
            Incoming::from_json(escaped.as_bytes()),
            Err(DecodeError::DuplicateKey(_))
        ));
        let fine = format!(r#"{{{base},"a":{{"k":1}},"b":{{"k":1}}}}"#);
        assert!(Incoming::from_json(fine.as_bytes()).is_ok());
        assert!(matches!(
            Incoming::from_json(b"{} x"),
            Err(DecodeError::Json(_))
        ));
    }

    #[test]
    fn empty_staff_id_means_none() {
        let body =
            r#"{"msgId":"m","conversationId":"c","conversationType":"2","senderStaffId":""}"#;
        assert!(
            Incoming::from_json(body.as_bytes())
                .unwrap()
                .sender
                .staff_id
                .is_none()
        );
    }
}
