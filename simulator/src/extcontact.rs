//! External contacts: extcontact/get, listlabelgroups, and extcontact.update on the TOP
//! gateway.

use axum::response::Response;
use serde_json::{Value, json};

use super::{Request, Simulator, json_ok, lock, oapi_error};

/// The method name the TOP gateway serves here.
const UPDATE_METHOD: &str = "dingtalk.corp.extcontact.update";

impl Simulator {
    pub(super) fn extcontact_get(&self, r: &Request) -> Response {
        let body = r.json();
        let Some(id) = body["user_id"].as_str() else {
            return oapi_error(40035, "缺少参数 user_id");
        };
        match lock(&self.inner.contacts).get(id) {
            Some(c) => json_ok(json!({"errcode": 0, "errmsg": "ok", "result": c})),
            None => oapi_error(40000, "外部联系人不存在"),
        }
    }

    pub(super) fn list_label_groups(&self, r: &Request) -> Response {
        let body = r.json();
        let size = body["size"].as_u64().unwrap_or(100);
        if !(1..=100).contains(&size) {
            return oapi_error(40035, "size 超出范围");
        }
        let offset = body["offset"].as_u64().unwrap_or(0);
        let page: Vec<Value> = lock(&self.inner.label_groups)
            .iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(size).unwrap_or(100))
            .cloned()
            .collect();
        json_ok(json!({"errcode": 0, "errmsg": "ok", "results": page}))
    }

    /// The TOP gateway as far as `dingtalk.corp.extcontact.update` goes: it insists on the
    /// system parameters in the query, the session token, and `contact` as a form field.
    pub(super) fn top_gateway(&self, r: &Request) -> Response {
        let q = |name: &str| r.query(name);
        if q("method") != Some(UPDATE_METHOD) {
            return top_error(22, "Invalid method", "");
        }
        if q("v") != Some("2.0") || q("format") != Some("json") || q("timestamp").is_none() {
            return top_error(40, "Missing required arguments", "isv.missing-parameter");
        }
        if !self.oapi_token_ok(q("session")) {
            return top_error(27, "Invalid session", "");
        }
        let form: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(&r.body).into_owned().collect();
        let Some(contact) = form
            .get("contact")
            .and_then(|c| serde_json::from_str::<Value>(c).ok())
            .filter(Value::is_object)
        else {
            return top_error(41, "Invalid arguments:contact", "isv.invalid-parameter");
        };
        for required in ["user_id", "name", "follower_user_id", "label_ids"] {
            if contact.get(required).is_none() {
                return top_error(41, "Invalid arguments", "isv.missing-parameter");
            }
        }
        let id = contact["user_id"].as_str().unwrap_or_default();
        let request_id = {
            let mut n = lock(&self.inner.top_calls);
            *n += 1;
            format!("top-req-{n}")
        };
        let mut contacts = lock(&self.inner.contacts);
        let Some(stored) = contacts.get_mut(id) else {
            return update_result(40000, "外部联系人不存在", &request_id);
        };
        for (key, value) in contact.as_object().into_iter().flatten() {
            let key = if key == "user_id" { "userid" } else { key };
            stored[key] = value.clone();
        }
        update_result(0, "成功", &request_id)
    }
}

/// A gateway or protocol error.
fn top_error(code: i64, msg: &str, sub_code: &str) -> Response {
    json_ok(json!({"error_response": {
        "code": code, "msg": msg, "sub_code": sub_code, "request_id": "top-err"}}))
}

/// The method's own answer: HTTP 200 with `result.success`.
fn update_result(errcode: i64, message: &str, request_id: &str) -> Response {
    json_ok(json!({"dingtalk_corp_extcontact_update_response": {
        "result": {"ding_open_errcode": errcode, "error_msg": message, "success": errcode == 0},
        "request_id": request_id}}))
}
