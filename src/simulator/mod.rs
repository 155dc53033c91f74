//! A DingTalk simulator on 127.0.0.1, for `qunguan demo` and the end-to-end tests.
//!
//! It answers the APIs qunguan calls in DingTalk's wire formats (see the protocol notes):
//! both token endpoints, chat/get, friendswitch/update, convertToOpenConversationId, the
//! extcontact reads, the TOP gateway's extcontact.update, the sessionWebhook and the
//! OpenAPI sends. Errors come back the way DingTalk sends them: HTTP 200 with an errcode on
//! oapi, an HTTP error with a `code` on the new API, `error_response` on TOP. Old-style,
//! new-style and webhook paths share one origin, as qunguan's webhook origin rule expects
//! when `DINGTALK_OAPI_URL` points here.
//!
//! State (groups, friending switches, external contacts, labels) lives in memory and
//! changes as qunguan calls the writing APIs; every message sent to a group or member is
//! published to [`Simulator::subscribe`].

mod extcontact;

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::broadcast, task::JoinHandle};

/// The webhook path; its `session` query parameter names the conversation turn.
pub const SESSION_WEBHOOK_PATH: &str = "/robot/sendBySession";

/// One HTTP request as the simulator sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Request {
    pub fn new(method: Method, uri: &Uri, headers: HeaderMap, body: Bytes) -> Self {
        let query = uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        Self {
            method,
            path: uri.path().to_owned(),
            query,
            headers,
            body,
        }
    }

    /// The body as JSON (`Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }
}

/// A group the simulator holds.
#[derive(Debug, Clone)]
pub struct Group {
    pub chatid: String,
    pub cid: String,
    /// chat/get's `chat_info`.
    pub info: Value,
    /// The last `is_prohibit` set through friendswitch/update; `None` if never set.
    pub friending_locked: Option<bool>,
}

/// Where a delivered message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The sessionWebhook with this `session`.
    Session(String),
    /// The OpenAPI group send to this openConversationId.
    Group(String),
    /// The OpenAPI 1:1 send to these userids.
    Members(Vec<String>),
}

/// A message the bot sent, as the group (or member) would see it.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub to: Destination,
    pub title: String,
    /// Markdown (or plain text for a text message).
    pub text: String,
    /// `at.atUserIds`.
    pub at_user_ids: Vec<String>,
}

#[derive(Default)]
struct Tokens {
    oapi_issued: u32,
    api_issued: u32,
    oapi_valid: Option<String>,
    api_valid: Option<String>,
}

struct Inner {
    credentials: Mutex<Option<(String, String)>>,
    tokens: Mutex<Tokens>,
    groups: Mutex<HashMap<String, Group>>,
    sessions: Mutex<HashSet<String>>,
    /// External contacts by userid, as extcontact/get returns them.
    contacts: Mutex<HashMap<String, Value>>,
    label_groups: Mutex<Vec<Value>>,
    top_calls: Mutex<u32>,
    outbox: broadcast::Sender<Delivered>,
}

/// The simulator's state; cheap to clone, all clones share it.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

impl Default for Simulator {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Simulator {
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                credentials: Mutex::new(None),
                tokens: Mutex::default(),
                groups: Mutex::default(),
                sessions: Mutex::default(),
                contacts: Mutex::default(),
                label_groups: Mutex::default(),
                top_calls: Mutex::new(0),
                outbox: broadcast::channel(64).0,
            }),
        }
    }

    /// Token requests must carry this app key and secret (otherwise any are accepted).
    pub fn require_credentials(&self, app_key: &str, app_secret: &str) {
        *lock(&self.inner.credentials) = Some((app_key.to_owned(), app_secret.to_owned()));
    }

    /// Adds a group: `chatid` converts to `cid`; chat/get reports `owner` and `members`.
    pub fn add_group(&self, chatid: &str, cid: &str, name: &str, owner: &str, members: &[&str]) {
        let info = json!({
            "name": name, "owner": owner, "useridlist": members,
            "conversationTag": 2, "chatBannedType": 0, "searchable": 1, "validationType": 0,
            "mentionAllAuthority": 1, "managementType": 0, "showHistoryType": 1, "status": 1,
            "icon": "@lADPDeC2uGvNHYTNAcjNAcg", "chatid": chatid,
        });
        let group = Group {
            chatid: chatid.into(),
            cid: cid.into(),
            info,
            friending_locked: None,
        };
        lock(&self.inner.groups).insert(chatid.into(), group);
    }

    pub fn group(&self, chatid: &str) -> Option<Group> {
        lock(&self.inner.groups).get(chatid).cloned()
    }

    /// Adds an external contact (extcontact/get's `result`, keyed by its `userid`).
    pub fn add_contact(&self, contact: Value) {
        let id = contact["userid"].as_str().unwrap_or_default().to_owned();
        lock(&self.inner.contacts).insert(id, contact);
    }

    pub fn contact(&self, userid: &str) -> Option<Value> {
        lock(&self.inner.contacts).get(userid).cloned()
    }

    /// Sets the label groups: `[(group name, [(label id, label name)])]`.
    pub fn set_label_groups(&self, groups: &[(&str, &[(i64, &str)])]) {
        *lock(&self.inner.label_groups) = groups
            .iter()
            .map(|(name, labels)| {
                let labels: Vec<Value> = labels
                    .iter()
                    .map(|(id, n)| json!({"id": id, "name": n}))
                    .collect();
                json!({"name": name, "color": -15_220_075, "labels": labels})
            })
            .collect();
    }

    /// Makes `session` a live sessionWebhook session; others get errcode 300001.
    pub fn open_session(&self, session: &str) {
        lock(&self.inner.sessions).insert(session.to_owned());
    }

    /// Makes every token issued so far invalid, as DingTalk does when one expires early.
    pub fn revoke_tokens(&self) {
        let mut tokens = lock(&self.inner.tokens);
        tokens.oapi_valid = None;
        tokens.api_valid = None;
    }

    /// Every message sent from now on (messages sent while nobody listens are dropped).
    pub fn subscribe(&self) -> broadcast::Receiver<Delivered> {
        self.inner.outbox.subscribe()
    }

    /// Serves the simulator on `127.0.0.1:0` in the background.
    pub async fn serve(&self) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new().fallback(handle).with_state(self.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok((addr, task))
    }

    /// DingTalk's answer to `r`, changing the simulator's state as the real API would.
    pub fn answer(&self, r: &Request) -> Response {
        match (r.method.as_str(), r.path.as_str()) {
            ("GET", "/gettoken") => self.gettoken(r),
            ("POST", "/v1.0/oauth2/accessToken") => self.oauth2_token(r),
            ("POST", SESSION_WEBHOOK_PATH) => self.send_by_session(r),
            ("GET" | "POST", path) if path.starts_with("/topapi/") || path == "/chat/get" => {
                if !self.oapi_token_ok(r.query("access_token")) {
                    return oapi_error(40014, "不合法的access_token");
                }
                match path {
                    "/chat/get" => self.chat_get(r),
                    "/topapi/chat/member/friendswitch/update" => self.friendswitch(r),
                    "/topapi/extcontact/get" => self.extcontact_get(r),
                    "/topapi/extcontact/listlabelgroups" => self.list_label_groups(r),
                    _ => not_found(),
                }
            }
            ("POST", "/router/rest") => self.top_gateway(r),
            ("POST", path) if path.starts_with("/v1.0/") => {
                let token = r
                    .headers
                    .get("x-acs-dingtalk-access-token")
                    .and_then(|v| v.to_str().ok());
                if !self.api_token_ok(token) {
                    return api_error(
                        StatusCode::UNAUTHORIZED,
                        "InvalidAuthentication",
                        "不合法的access_token",
                    );
                }
                match path {
                    "/v1.0/robot/groupMessages/send" => self.openapi_send(r, true),
                    "/v1.0/robot/oToMessages/batchSend" => self.openapi_send(r, false),
                    _ => match path
                        .strip_prefix("/v1.0/im/chat/")
                        .and_then(|p| p.strip_suffix("/convertToOpenConversationId"))
                    {
                        Some(chatid) => self.convert(chatid),
                        None => not_found(),
                    },
                }
            }
            _ => not_found(),
        }
    }

    fn credentials_ok(&self, key: Option<&str>, secret: Option<&str>) -> bool {
        match &*lock(&self.inner.credentials) {
            Some((k, s)) => key == Some(k) && secret == Some(s),
            None => true,
        }
    }

    fn gettoken(&self, r: &Request) -> Response {
        if !self.credentials_ok(r.query("appkey"), r.query("appsecret")) {
            return oapi_error(40089, "不合法的appKey或appSecret");
        }
        let mut t = lock(&self.inner.tokens);
        // Within its life the same token comes back (reference §3).
        let token = match &t.oapi_valid {
            Some(token) => token.clone(),
            None => {
                t.oapi_issued += 1;
                let token = format!("oapi-token-{}", t.oapi_issued);
                t.oapi_valid = Some(token.clone());
                token
            }
        };
        json_ok(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}))
    }

    fn oauth2_token(&self, r: &Request) -> Response {
        let body = r.json();
        if !self.credentials_ok(body["appKey"].as_str(), body["appSecret"].as_str()) {
            return api_error(
                StatusCode::BAD_REQUEST,
                "invalidClientIdOrSecret",
                "无效的clientId或者clientSecret",
            );
        }
        let mut t = lock(&self.inner.tokens);
        let token = match &t.api_valid {
            Some(token) => token.clone(),
            None => {
                t.api_issued += 1;
                let token = format!("api-token-{}", t.api_issued);
                t.api_valid = Some(token.clone());
                token
            }
        };
        json_ok(json!({"accessToken": token, "expireIn": 7200}))
    }

    fn oapi_token_ok(&self, given: Option<&str>) -> bool {
        let t = lock(&self.inner.tokens);
        t.oapi_valid.is_some() && given == t.oapi_valid.as_deref()
    }

    fn api_token_ok(&self, given: Option<&str>) -> bool {
        let t = lock(&self.inner.tokens);
        t.api_valid.is_some() && given == t.api_valid.as_deref()
    }

    fn chat_get(&self, r: &Request) -> Response {
        let Some(chatid) = r.query("chatid").filter(|c| !c.is_empty()) else {
            return oapi_error(49000, "缺少参数 chatid");
        };
        match lock(&self.inner.groups).get(chatid) {
            Some(g) => json_ok(json!({"errcode": 0, "errmsg": "ok", "chat_info": g.info})),
            None => oapi_error(40016, "不合法的chatid"),
        }
    }

    fn friendswitch(&self, r: &Request) -> Response {
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

    fn convert(&self, chatid: &str) -> Response {
        match lock(&self.inner.groups).get(chatid) {
            Some(g) => json_ok(json!({"openConversationId": g.cid})),
            None => api_error(
                StatusCode::BAD_REQUEST,
                "invalidParameter.chatId",
                "chatId不存在",
            ),
        }
    }

    fn send_by_session(&self, r: &Request) -> Response {
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
    fn openapi_send(&self, r: &Request, group: bool) -> Response {
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

    fn publish(&self, message: Delivered) {
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

async fn handle(
    State(sim): State<Simulator>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    sim.answer(&Request::new(method, &uri, headers, body))
}

fn json_ok(v: Value) -> Response {
    ([("content-type", "application/json")], v.to_string()).into_response()
}

/// Old-style APIs fail with HTTP 200 and an errcode.
fn oapi_error(errcode: i64, errmsg: &str) -> Response {
    json_ok(json!({"errcode": errcode, "errmsg": errmsg}))
}

/// New-style APIs fail with an HTTP error and a `code`.
fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        [("content-type", "application/json")],
        json!({"code": code, "message": message, "requestid": "rq-simulated"}).to_string(),
    )
        .into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "no such DingTalk API in the simulator",
    )
        .into_response()
}
