//! Stream frames: what the gateway sends (a JSON envelope whose `data` is a JSON string)
//! and the acknowledgements qunguan sends back.

use serde::Deserialize;
use serde_json::{Value, json};

/// A downstream frame, as far as qunguan reads it. Unknown keys are ignored.
#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(rename = "type")]
    kind: Option<String>,
    headers: Option<serde_json::Map<String, Value>>,
    data: Option<Value>,
}

/// A frame qunguan understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A CALLBACK frame; for robot messages `data` is the HTTP callback body.
    Callback {
        message_id: String,
        topic: String,
        data: Option<String>,
    },
    /// An EVENT frame: a group event, its `eventType`, `eventId` and the rest in the
    /// headers, its data a JSON string.
    Event {
        message_id: String,
        headers: serde_json::Map<String, Value>,
        data: Option<String>,
    },
    /// SYSTEM `ping`: answered with its data echoed.
    Ping { message_id: String, data: String },
    /// SYSTEM `disconnect`: DingTalk closes this connection in about 10 s.
    Disconnect { message_id: String },
    /// Any other SYSTEM frame with a messageId: a plain acknowledgement.
    System { message_id: String },
}

/// Why a frame was not usable; the metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    NotJson,
    NoHeaders,
    NoMessageId,
    UnknownType,
}

impl Rejected {
    pub fn label(self) -> &'static str {
        match self {
            Rejected::NotJson => "not_json",
            Rejected::NoHeaders => "no_headers",
            Rejected::NoMessageId => "no_message_id",
            Rejected::UnknownType => "unknown_type",
        }
    }
}

/// Reads one text frame.
pub fn parse(text: &str) -> Result<Frame, Rejected> {
    let envelope: Envelope = serde_json::from_str(text).map_err(|_| Rejected::NotJson)?;
    let headers = envelope.headers.ok_or(Rejected::NoHeaders)?;
    let header = |name: &str| headers.get(name).and_then(Value::as_str).map(str::to_owned);
    let message_id = header("messageId")
        .filter(|id| !id.is_empty())
        .ok_or(Rejected::NoMessageId)?;
    let data = match envelope.data {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let topic = header("topic").unwrap_or_default();
    Ok(match envelope.kind.as_deref() {
        Some("CALLBACK") => Frame::Callback {
            message_id,
            topic,
            data,
        },
        Some("EVENT") => Frame::Event {
            message_id,
            headers,
            data,
        },
        Some("SYSTEM") => match topic.as_str() {
            "ping" => Frame::Ping {
                message_id,
                data: data.unwrap_or_default(),
            },
            "disconnect" => Frame::Disconnect { message_id },
            _ => Frame::System { message_id },
        },
        _ => return Err(Rejected::UnknownType),
    })
}

/// The acknowledgement of `message_id`, carrying `data` (a JSON string).
pub fn ack(message_id: &str, data: &str) -> String {
    json!({
        "code": 200,
        "headers": {"messageId": message_id, "contentType": "application/json"},
        "message": "OK",
        "data": data,
    })
    .to_string()
}

/// `data` of a robot message's acknowledgement (DingTalk ignores it).
pub const CALLBACK_ACK_DATA: &str = r#"{"response":null}"#;
/// `data` of an event's acknowledgement: handled, do not deliver again.
pub const EVENT_ACK_DATA: &str = r#"{"status":"SUCCESS","message":"OK"}"#;
/// `data` of an event given back: its state could not be written, deliver it again.
pub const EVENT_LATER_DATA: &str = r#"{"status":"LATER","message":"not written yet"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_frames_are_read() {
        let callback = r#"{"specVersion":"1.0","type":"CALLBACK","headers":{"appId":"a","connectionId":"c",
            "contentType":"application/json","messageId":"m1","time":"1690362102194",
            "topic":"/v1.0/im/bot/messages/get"},"data":"{\"msgId\":\"x\"}","extra":1}"#;
        assert_eq!(
            parse(callback).unwrap(),
            Frame::Callback {
                message_id: "m1".into(),
                topic: "/v1.0/im/bot/messages/get".into(),
                data: Some(r#"{"msgId":"x"}"#.into())
            }
        );
        let ping = r#"{"type":"SYSTEM","headers":{"topic":"ping","messageId":"p"},"data":"{\"opaque\":\"1\"}"}"#;
        assert_eq!(
            parse(ping).unwrap(),
            Frame::Ping {
                message_id: "p".into(),
                data: r#"{"opaque":"1"}"#.into()
            }
        );
        let gone =
            r#"{"type":"SYSTEM","headers":{"topic":"disconnect","messageId":"d"},"data":"{}"}"#;
        assert_eq!(
            parse(gone).unwrap(),
            Frame::Disconnect {
                message_id: "d".into()
            }
        );
        let event = r#"{"type":"EVENT","headers":{"topic":"*","messageId":"e","eventType":"chat_quit",
            "eventId":"ev1"},"data":"{\"openConversationId\":\"cid1\"}"}"#;
        match parse(event).unwrap() {
            Frame::Event {
                message_id,
                headers,
                data,
            } => {
                assert_eq!(message_id, "e");
                assert_eq!(headers["eventType"], "chat_quit");
                assert_eq!(data.as_deref(), Some(r#"{"openConversationId":"cid1"}"#));
            }
            other => panic!("{other:?}"),
        }
        let other = r#"{"type":"SYSTEM","headers":{"topic":"KEEPALIVE","messageId":"k"}}"#;
        assert_eq!(
            parse(other).unwrap(),
            Frame::System {
                message_id: "k".into()
            }
        );
    }

    #[test]
    fn unusable_frames_say_why() {
        assert_eq!(parse("not json"), Err(Rejected::NotJson));
        assert_eq!(parse(r#"{"type":"CALLBACK"}"#), Err(Rejected::NoHeaders));
        assert_eq!(
            parse(r#"{"type":"CALLBACK","headers":{"messageId":7}}"#),
            Err(Rejected::NoMessageId)
        );
        assert_eq!(
            parse(r#"{"type":"NEW","headers":{"messageId":"m"}}"#),
            Err(Rejected::UnknownType)
        );
    }

    #[test]
    fn an_ack_echoes_the_message_id_and_carries_data_as_a_string() {
        let ack: Value = serde_json::from_str(&ack("m1", CALLBACK_ACK_DATA)).unwrap();
        assert_eq!(
            ack,
            json!({"code":200,"headers":{"messageId":"m1","contentType":"application/json"},
                   "message":"OK","data":"{\"response\":null}"})
        );
    }
}
