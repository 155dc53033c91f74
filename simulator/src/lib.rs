//! A DingTalk simulator on 127.0.0.1, for `qunguan demo` and qunguan's end-to-end tests. It
//! ships in its own crate, so the server's build can leave it out.
//!
//! It answers the APIs qunguan calls in DingTalk's wire formats (as qunguan's client decodes
//! them, `src/dingtalk/`):
//! both token endpoints, chat/get, friendswitch/update, convertToOpenConversationId, the
//! group administration APIs (group/update, subAdministrators, updategroupnick,
//! qrcode/get), the extcontact reads, the TOP gateway's extcontact.update, the
//! sessionWebhook and the OpenAPI sends. Errors come back the way DingTalk sends them: HTTP 200 with an errcode on
//! oapi, an HTTP error with a `code` on the new API, `error_response` on TOP. Old-style,
//! new-style and webhook paths share one origin, as qunguan's webhook origin rule expects
//! when `DINGTALK_OAPI_URL` points here.
//!
//! State (groups, friending switches, external contacts, labels) lives in memory and
//! changes as qunguan calls the writing APIs; every message sent to a group or member is
//! published to [`Simulator::subscribe`].

mod chat;
mod events;
mod extcontact;
mod gateway;
pub use events::SimEvent;
pub use gateway::StreamLinks;
pub use group::SETTINGS;
mod group;
mod robot;
mod tokens;

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
    /// Group admins set through subAdministrators (chat/get does not report them).
    pub admins: Vec<String>,
    /// Group nicknames set through updategroupnick, by userid.
    pub nicks: HashMap<String, String>,
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

struct Inner {
    credentials: Mutex<Option<(String, String)>>,
    /// The old-style token (oapi and TOP) and the new-style one.
    oapi_token: Mutex<tokens::Token>,
    api_token: Mutex<tokens::Token>,
    groups: Mutex<HashMap<String, Group>>,
    sessions: Mutex<HashSet<String>>,
    /// External contacts by userid, as extcontact/get returns them.
    contacts: Mutex<HashMap<String, Value>>,
    label_groups: Mutex<Vec<Value>>,
    top_calls: Mutex<u32>,
    outbox: broadcast::Sender<Delivered>,
    /// Group events the simulated client caused.
    events: broadcast::Sender<events::SimEvent>,
    /// Members' names, by userid.
    names: Mutex<HashMap<String, String>>,
    gateway: gateway::Gateway,
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
                oapi_token: Mutex::new(tokens::Token::new("oapi-token")),
                api_token: Mutex::new(tokens::Token::new("api-token")),
                groups: Mutex::default(),
                sessions: Mutex::default(),
                contacts: Mutex::default(),
                label_groups: Mutex::default(),
                top_calls: Mutex::new(0),
                outbox: broadcast::channel(64).0,
                events: broadcast::channel(64).0,
                names: Mutex::default(),
                gateway: gateway::Gateway::default(),
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
            admins: Vec::new(),
            nicks: HashMap::new(),
        };
        lock(&self.inner.groups).insert(chatid.into(), group);
    }

    /// Changes one field of a group's chat/get answer, as a change made in the DingTalk
    /// client would.
    pub fn set_group_field(&self, chatid: &str, key: &str, value: Value) {
        if let Some(g) = lock(&self.inner.groups).get_mut(chatid) {
            g.info[key] = value;
        }
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
        lock(&self.inner.oapi_token).revoke();
        lock(&self.inner.api_token).revoke();
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
            ("POST", "/v1.0/gateway/connections/open") => self.gateway_open(r),
            ("GET" | "POST", path) if path.starts_with("/topapi/") || path == "/chat/get" => {
                if !self.oapi_token_ok(r.query("access_token")) {
                    return oapi_error(40014, "不合法的access_token");
                }
                match path {
                    "/chat/get" => self.chat_get(r),
                    "/topapi/chat/member/friendswitch/update" => self.friendswitch(r),
                    "/topapi/chat/updategroupnick" => self.update_group_nick(r),
                    "/topapi/chat/qrcode/get" => self.qrcode_get(r),
                    "/topapi/extcontact/get" => self.extcontact_get(r),
                    "/topapi/extcontact/listlabelgroups" => self.list_label_groups(r),
                    "/topapi/v2/user/get" => self.user_get(r),
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
                    "/v1.0/im/group/update" => self.group_update(r),
                    "/v1.0/im/subAdministrators" => self.sub_administrators(r),
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

/// Now in epoch milliseconds, as a string (Stream headers carry strings).
fn now_ms_string() -> String {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    since_epoch.as_millis().to_string()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "no such DingTalk API in the simulator",
    )
        .into_response()
}

#[cfg(test)]
mod tests;
