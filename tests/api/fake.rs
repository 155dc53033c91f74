//! A fake DingTalk on 127.0.0.1: old-style API, new-style API and the sessionWebhook on one
//! origin (as qunguan's webhook origin rule expects). It keeps a little state (groups,
//! tokens, friending switches), records every request, and can be scripted to answer the
//! next request to a path with anything, after a delay.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A canned answer for the next request to a path.
struct Scripted {
    status: u16,
    body: String,
    delay: Duration,
}

/// A group the fake knows.
#[derive(Debug, Clone)]
pub struct FakeGroup {
    pub cid: String,
    pub info: Value,
    pub friending_locked: Option<bool>,
}

#[derive(Default)]
struct FakeState {
    requests: Mutex<Vec<Recorded>>,
    arrived: Notify,
    groups: Mutex<HashMap<String, FakeGroup>>,
    scripts: Mutex<HashMap<String, VecDeque<Scripted>>>,
    tokens: Mutex<Tokens>,
    /// External contacts by userid, as extcontact/get returns them.
    contacts: Mutex<HashMap<String, Value>>,
    label_groups: Mutex<Vec<Value>>,
    top_requests: Mutex<u32>,
}

#[derive(Default)]
struct Tokens {
    oapi_issued: u32,
    api_issued: u32,
    oapi_valid: Option<String>,
    api_valid: Option<String>,
}

/// The fake server; dropped with the test.
pub struct FakeDingTalk {
    pub addr: SocketAddr,
    state: Arc<FakeState>,
}

impl FakeDingTalk {
    pub async fn start() -> Self {
        let state = Arc::new(FakeState::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(handle).with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { addr, state }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A sessionWebhook URL on this fake; `session` tells replies apart.
    pub fn webhook_url(&self, session: &str) -> String {
        format!("http://{}/robot/sendBySession?session={session}", self.addr)
    }

    /// Adds a group: `chatid` converts to `cid`; chat/get reports `owner` and `members`.
    pub fn add_group(&self, chatid: &str, cid: &str, owner: &str, members: &[&str]) {
        let info = json!({
            "name": format!("group {chatid}"), "owner": owner, "useridlist": members,
            "conversationTag": 2, "chatBannedType": 0, "searchable": 1, "validationType": 0,
            "mentionAllAuthority": 1, "managementType": 0, "showHistoryType": 1, "status": 1,
            "icon": "@lADP", "chatid": chatid,
        });
        self.state.groups.lock().unwrap().insert(
            chatid.into(),
            FakeGroup {
                cid: cid.into(),
                info,
                friending_locked: None,
            },
        );
    }

    pub fn group(&self, chatid: &str) -> FakeGroup {
        self.state.groups.lock().unwrap()[chatid].clone()
    }

    /// Adds an external contact (extcontact/get's `result`, keyed by its `userid`).
    pub fn add_contact(&self, contact: Value) {
        let id = contact["userid"].as_str().unwrap().to_owned();
        self.state.contacts.lock().unwrap().insert(id, contact);
    }

    pub fn contact(&self, userid: &str) -> Value {
        self.state.contacts.lock().unwrap()[userid].clone()
    }

    /// Sets the label groups: `[(group name, [(label id, label name)])]`.
    pub fn set_label_groups(&self, groups: &[(&str, &[(i64, &str)])]) {
        *self.state.label_groups.lock().unwrap() = groups
            .iter()
            .map(|(name, labels)| {
                let labels: Vec<Value> = labels
                    .iter()
                    .map(|(id, n)| json!({"id": id, "name": n}))
                    .collect();
                json!({"name": name, "color": -1, "labels": labels})
            })
            .collect();
    }

    /// Answers the next `method path` request with `status` and `body`, after `delay`.
    pub fn script(&self, method: &str, path: &str, status: u16, body: Value, delay: Duration) {
        let body = if body.is_string() {
            body.as_str().unwrap().to_owned()
        } else {
            body.to_string()
        };
        self.state
            .scripts
            .lock()
            .unwrap()
            .entry(format!("{method} {path}"))
            .or_default()
            .push_back(Scripted {
                status,
                body,
                delay,
            });
    }

    /// Makes every token issued so far invalid, as DingTalk does when one expires early.
    pub fn revoke_tokens(&self) {
        let mut tokens = self.state.tokens.lock().unwrap();
        tokens.oapi_valid = None;
        tokens.api_valid = None;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    /// Runs `f` on the recorded requests without copying them.
    pub fn with_requests<T>(&self, f: impl FnOnce(&[Recorded]) -> T) -> T {
        f(&self.state.requests.lock().unwrap())
    }

    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.with_requests(|rs| rs.iter().filter(|r| r.path == path).cloned().collect())
    }

    pub fn count(&self, path: &str) -> usize {
        self.with_requests(|rs| rs.iter().filter(|r| r.path == path).count())
    }

    /// Waits until `pred` holds for the recorded requests, or panics after `within`.
    pub async fn wait_until(
        &self,
        what: &str,
        within: Duration,
        pred: impl Fn(&[Recorded]) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let notified = self.state.arrived.notified();
            if self.with_requests(&pred) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let paths: Vec<String> = self.requests().iter().map(|r| r.path.clone()).collect();
                panic!("timed out waiting for {what}; requests so far: {paths:?}");
            }
        }
    }

    /// Waits for the webhook reply carrying `session` and returns its JSON body.
    pub async fn webhook_reply(&self, session: &str) -> Value {
        let is_it = |r: &Recorded| {
            r.path == "/robot/sendBySession"
                && r.query.get("session").map(String::as_str) == Some(session)
        };
        self.wait_until(
            &format!("webhook reply {session}"),
            Duration::from_secs(10),
            |rs| rs.iter().any(is_it),
        )
        .await;
        self.requests().into_iter().find(is_it).unwrap().json()
    }
}

async fn handle(
    State(state): State<Arc<FakeState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: HashMap<String, String> = uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let path = uri.path().to_owned();
    let recorded = Recorded {
        method: method.clone(),
        path: path.clone(),
        query,
        headers,
        body,
    };
    let scripted = state
        .scripts
        .lock()
        .unwrap()
        .get_mut(&format!("{method} {path}"))
        .and_then(VecDeque::pop_front);
    state.requests.lock().unwrap().push(recorded.clone());
    state.arrived.notify_waiters();
    if let Some(s) = scripted {
        tokio::time::sleep(s.delay).await;
        return (StatusCode::from_u16(s.status).unwrap(), s.body).into_response();
    }
    default_answer(&state, &recorded)
}

fn default_answer(state: &FakeState, r: &Recorded) -> Response {
    let oapi_token_ok = || {
        let t = state.tokens.lock().unwrap();
        t.oapi_valid.is_some() && r.query.get("access_token") == t.oapi_valid.as_ref()
    };
    let api_token_ok = || {
        let t = state.tokens.lock().unwrap();
        let given = r
            .headers
            .get("x-acs-dingtalk-access-token")
            .and_then(|v| v.to_str().ok());
        t.api_valid.is_some() && given == t.api_valid.as_deref()
    };
    let bad_oapi_token = || json_ok(json!({"errcode": 40014, "errmsg": "不合法的access_token"}));
    let bad_api_token = || {
        (StatusCode::UNAUTHORIZED, json!({"code": "InvalidAuthentication", "message": "不合法的access_token", "requestid": "rq"}).to_string()).into_response()
    };
    match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/gettoken") => {
            let mut t = state.tokens.lock().unwrap();
            t.oapi_issued += 1;
            let token = format!("oapi-token-{}", t.oapi_issued);
            t.oapi_valid = Some(token.clone());
            json_ok(
                json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}),
            )
        }
        ("POST", "/v1.0/oauth2/accessToken") => {
            let mut t = state.tokens.lock().unwrap();
            t.api_issued += 1;
            let token = format!("api-token-{}", t.api_issued);
            t.api_valid = Some(token.clone());
            json_ok(json!({"accessToken": token, "expireIn": 7200}))
        }
        ("GET", "/chat/get") => {
            if !oapi_token_ok() {
                return bad_oapi_token();
            }
            let chatid = r.query.get("chatid").cloned().unwrap_or_default();
            match state.groups.lock().unwrap().get(&chatid) {
                Some(g) => json_ok(json!({"errcode": 0, "errmsg": "ok", "chat_info": g.info})),
                None => json_ok(json!({"errcode": 40016, "errmsg": "无效的chatid"})),
            }
        }
        ("POST", "/topapi/chat/member/friendswitch/update") => {
            if !oapi_token_ok() {
                return bad_oapi_token();
            }
            let body = r.json();
            let chatid = body["chatid"].as_str().unwrap_or_default().to_owned();
            match state.groups.lock().unwrap().get_mut(&chatid) {
                Some(g) => {
                    g.friending_locked = body["is_prohibit"].as_bool();
                    json_ok(
                        json!({"success": true, "errcode": 0, "errmsg": "ok", "request_id": "req-friendswitch"}),
                    )
                }
                None => json_ok(json!({"errcode": 34001, "errmsg": "无效的chatid"})),
            }
        }
        ("POST", "/topapi/extcontact/get") => {
            if !oapi_token_ok() {
                return bad_oapi_token();
            }
            let id = r.json()["user_id"].as_str().unwrap_or_default().to_owned();
            match state.contacts.lock().unwrap().get(&id) {
                Some(c) => json_ok(json!({"errcode": 0, "errmsg": "ok", "result": c})),
                None => json_ok(json!({"errcode": 40000, "errmsg": "外部联系人不存在"})),
            }
        }
        ("POST", "/topapi/extcontact/listlabelgroups") => {
            if !oapi_token_ok() {
                return bad_oapi_token();
            }
            let body = r.json();
            let (size, offset) = (
                body["size"].as_u64().unwrap_or(100) as usize,
                body["offset"].as_u64().unwrap_or(0) as usize,
            );
            let page: Vec<Value> = state
                .label_groups
                .lock()
                .unwrap()
                .iter()
                .skip(offset)
                .take(size)
                .cloned()
                .collect();
            json_ok(json!({"errcode": 0, "errmsg": "ok", "results": page}))
        }
        ("POST", "/router/rest") => top_gateway(state, r),
        ("POST", "/robot/sendBySession") => json_ok(json!({"errcode": 0, "errmsg": "ok"})),
        ("POST", "/v1.0/robot/groupMessages/send" | "/v1.0/robot/oToMessages/batchSend") => {
            if !api_token_ok() {
                return bad_api_token();
            }
            json_ok(json!({"processQueryKey": "pqk"}))
        }
        ("POST", path)
            if path.starts_with("/v1.0/im/chat/")
                && path.ends_with("/convertToOpenConversationId") =>
        {
            if !api_token_ok() {
                return bad_api_token();
            }
            let chatid = path
                .trim_start_matches("/v1.0/im/chat/")
                .trim_end_matches("/convertToOpenConversationId");
            match state.groups.lock().unwrap().get(chatid) {
                Some(g) => json_ok(json!({"openConversationId": g.cid})),
                None => (
                    StatusCode::BAD_REQUEST,
                    json!({"code": "invalidParameter.chatId", "message": "chatId不存在"})
                        .to_string(),
                )
                    .into_response(),
            }
        }
        _ => (StatusCode::NOT_FOUND, "no such fake route").into_response(),
    }
}

/// The TOP gateway as far as `dingtalk.corp.extcontact.update` goes: it insists on the
/// system parameters in the query, the session token, and `contact` as a form field.
fn top_gateway(state: &FakeState, r: &Recorded) -> Response {
    let top_error = |code: i64, msg: &str, sub_code: &str| {
        json_ok(
            json!({"error_response": {"code": code, "msg": msg, "sub_code": sub_code, "request_id": "top-err"}}),
        )
    };
    let q = |name: &str| r.query.get(name).map(String::as_str);
    if q("method") != Some("dingtalk.corp.extcontact.update") {
        return top_error(22, "Invalid method", "");
    }
    if q("v") != Some("2.0") || q("format") != Some("json") || q("timestamp").is_none() {
        return top_error(40, "Missing required arguments", "isv.missing-parameter");
    }
    let session_ok = {
        let t = state.tokens.lock().unwrap();
        t.oapi_valid.is_some() && q("session") == t.oapi_valid.as_deref()
    };
    if !session_ok {
        return top_error(27, "Invalid session", "");
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&r.body).into_owned().collect();
    let Some(contact) = form
        .get("contact")
        .and_then(|c| serde_json::from_str::<Value>(c).ok())
    else {
        return top_error(41, "Invalid arguments:contact", "isv.invalid-parameter");
    };
    for required in ["user_id", "name", "follower_user_id", "label_ids"] {
        if contact.get(required).is_none() {
            return top_error(41, "Invalid arguments", "isv.missing-parameter");
        }
    }
    let id = contact["user_id"].as_str().unwrap_or_default().to_owned();
    let mut contacts = state.contacts.lock().unwrap();
    let Some(stored) = contacts.get_mut(&id) else {
        return json_ok(json!({"dingtalk_corp_extcontact_update_response": {
            "result": {"ding_open_errcode": 40000, "error_msg": "外部联系人不存在", "success": false}, "request_id": "top-missing"}}));
    };
    for (key, value) in contact.as_object().unwrap() {
        let key = if key == "user_id" {
            "userid"
        } else {
            key.as_str()
        };
        stored[key] = value.clone();
    }
    let mut n = state.top_requests.lock().unwrap();
    *n += 1;
    json_ok(json!({"dingtalk_corp_extcontact_update_response": {
        "result": {"ding_open_errcode": 0, "error_msg": "成功", "success": true}, "request_id": format!("top-req-{n}")}}))
}

fn json_ok(v: Value) -> Response {
    ([("content-type", "application/json")], v.to_string()).into_response()
}
