//! Groups: chat/get, friendswitch/update and convertToOpenConversationId.

use axum::{http::StatusCode, response::Response};
use serde_json::json;

use super::{Request, Simulator, api_error, json_ok, lock, oapi_error};

impl Simulator {
    pub(super) fn chat_get(&self, r: &Request) -> Response {
        let Some(chatid) = r.query("chatid").filter(|c| !c.is_empty()) else {
            return oapi_error(49000, "缺少参数 chatid");
        };
        match lock(&self.inner.groups).get(chatid) {
            Some(g) => json_ok(json!({"errcode": 0, "errmsg": "ok", "chat_info": g.info})),
            None => oapi_error(40016, "不合法的chatid"),
        }
    }

    pub(super) fn friendswitch(&self, r: &Request) -> Response {
        let body = r.json();
        let (Some(chatid), Some(prohibit)) =
            (body["chatid"].as_str(), body["is_prohibit"].as_bool())
        else {
            return oapi_error(40036, "缺少必填参数");
        };
        match lock(&self.inner.groups).get_mut(chatid) {
            Some(g) => {
                g.friending_locked = Some(prohibit);
                json_ok(
                    json!({"success": true, "errcode": 0, "errmsg": "ok", "request_id": "req-friendswitch"}),
                )
            }
            None => oapi_error(34001, "无效的chatid"),
        }
    }

    pub(super) fn convert(&self, chatid: &str) -> Response {
        match lock(&self.inner.groups).get(chatid) {
            Some(g) => json_ok(json!({"openConversationId": g.cid})),
            None => api_error(
                StatusCode::BAD_REQUEST,
                "invalidParameter.chatId",
                "chatId不存在",
            ),
        }
    }
}
