//! The robot's sends: the sessionWebhook and the OpenAPI group and 1:1 sends. Each
//! delivered message is published to the simulator's subscribers.

use axum::{http::StatusCode, response::Response};
use serde_json::{Value, json};

use super::{Delivered, Destination, Request, Simulator, api_error, json_ok, lock, oapi_error};

impl Simulator {
    pub(super) fn send_by_session(&self, r: &Request) -> Response {
        let session = r.query("session").unwrap_or_default().to_owned();
        if !lock(&self.inner.sessions).contains(&session) {
            return oapi_error(300001, "session 不存在");
        }
        let body = r.json();
        let Some((title, text)) = message_content(&body["msgtype"], &body) else {
            return oapi_error(40035, "不合法的参数");
        };
        let at_user_ids = body["at"]["atUserIds"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| id.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        self.publish(Delivered {
            to: Destination::Session(session),
            title,
            text,
            at_user_ids,
        });
        json_ok(json!({"errcode": 0, "errmsg": "ok"}))
    }

    /// The OpenAPI group send (`group`) or 1:1 batch send.
    pub(super) fn openapi_send(&self, r: &Request, group: bool) -> Response {
        let body = r.json();
        if body["robotCode"].as_str().is_none_or(str::is_empty) {
            return api_error(
                StatusCode::BAD_REQUEST,
                "invalidParameter.robotCode.empty",
                "robotCode不能为空",
            );
        }
        // msgParam is a JSON *string*.
        let param = body["msgParam"]
            .as_str()
            .and_then(|p| serde_json::from_str::<Value>(p).ok());
        let content = param.as_ref().and_then(|p| {
            let kind = match body["msgKey"].as_str() {
                Some("sampleMarkdown") => "markdown",
                Some("sampleText") => "text",
                _ => return None,
            };
            message_content(&json!(kind), &json!({ kind: p }))
        });
        let Some((title, text)) = content else {
            return api_error(
                StatusCode::BAD_REQUEST,
                "invalidParameter.msgParam.invalid",
                "msgParam必须是JSON",
            );
        };
        let to = if group {
            let cid = body["openConversationId"].as_str().unwrap_or_default();
            if !lock(&self.inner.groups).values().any(|g| g.cid == cid) {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "invalid.openConversationId",
                    "openConversationId无效",
                );
            }
            Destination::Group(cid.to_owned())
        } else {
            let ids: Vec<String> = body["userIds"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if ids.is_empty() || ids.len() > 20 {
                return api_error(
                    StatusCode::BAD_REQUEST,
                    "invalidParameter.userIds",
                    "userIds为1到20个",
                );
            }
            Destination::Members(ids)
        };
        self.publish(Delivered {
            to,
            title,
            text,
            at_user_ids: Vec::new(),
        });
        json_ok(json!({"processQueryKey": "pqk-simulated"}))
    }

    pub(super) fn publish(&self, message: Delivered) {
        // No subscriber is fine: nobody is watching the group.
        let _ = self.inner.outbox.send(message);
    }
}

/// A webhook-style message's title and text, if it is a well-formed text or markdown one.
fn message_content(msgtype: &Value, body: &Value) -> Option<(String, String)> {
    match msgtype.as_str()? {
        "markdown" => {
            let title = body["markdown"]["title"].as_str()?;
            let text = body["markdown"]["text"].as_str()?;
            Some((title.to_owned(), text.to_owned()))
        }
        "text" => {
            let text = body["text"]["content"].as_str()?;
            Some((String::new(), text.to_owned()))
        }
        _ => None,
    }
}
