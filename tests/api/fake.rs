//! A fake DingTalk on 127.0.0.1: qunguan's own [`Simulator`] (old-style API, new-style
//! API, TOP and the sessionWebhook on one origin, with state), wrapped so that every
//! request is recorded and the next request to a path can be scripted to answer anything,
//! after a delay. It counts the connections qunguan opens to it, and can hold its
//! sessionWebhook answers, as a slow DingTalk would.

use std::{
    collections::{HashMap, VecDeque},
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use qunguan_simulator::{Group, Request, SESSION_WEBHOOK_PATH, Simulator};
use serde_json::Value;
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{Notify, watch},
};

/// One request the fake received.
pub type Recorded = Request;

/// A canned answer for the next request to a path.
struct Scripted {
    status: u16,
    body: String,
    delay: Duration,
}

#[derive(Default)]
struct FakeState {
    sim: Simulator,
    requests: Mutex<Vec<Recorded>>,
    arrived: Notify,
    scripts: Mutex<HashMap<String, VecDeque<Scripted>>>,
    /// `METHOD path`s whose next request is applied, then its answer lost.
    lost_answers: Mutex<Vec<String>>,
    /// Paths every request to which is answered this late.
    slow: Mutex<HashMap<String, Duration>>,
    /// Requests that wait until released, by their `chatid` or their path.
    held: Mutex<HashMap<String, watch::Sender<bool>>>,
    connections: Arc<Connections>,
}

/// The connections qunguan opened to the fake.
#[derive(Default)]
pub struct Connections {
    open: AtomicUsize,
    peak: AtomicUsize,
}

impl Connections {
    /// The most open at once.
    pub fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}

/// The fake server; dropped with the test.
pub struct FakeDingTalk {
    pub addr: SocketAddr,
    state: Arc<FakeState>,
}

impl FakeDingTalk {
    pub async fn start() -> Self {
        let state = Arc::new(FakeState::default());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = Counted {
            listener,
            connections: state.connections.clone(),
        };
        let app = Router::new().fallback(handle).with_state(state.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        state.sim.serve_gateway().await.unwrap();
        Self { addr, state }
    }

    /// The simulator behind the fake: its Stream gateway, its state.
    pub fn sim(&self) -> &Simulator {
        &self.state.sim
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A sessionWebhook URL on this fake; `session` tells replies apart.
    pub fn webhook_url(&self, session: &str) -> String {
        self.state.sim.open_session(session);
        format!(
            "http://{}{SESSION_WEBHOOK_PATH}?session={session}",
            self.addr
        )
    }

    /// Adds a group: `chatid` converts to `cid`; chat/get reports `owner` and `members`.
    pub fn add_group(&self, chatid: &str, cid: &str, owner: &str, members: &[&str]) {
        let name = format!("group {chatid}");
        self.state.sim.add_group(chatid, cid, &name, owner, members);
    }

    /// Changes a group as somebody in the DingTalk client would.
    pub fn set_group_field(&self, chatid: &str, key: &str, value: Value) {
        self.state.sim.set_group_field(chatid, key, value);
    }

    pub fn group(&self, chatid: &str) -> Group {
        self.state
            .sim
            .group(chatid)
            .expect("the fake holds this group")
    }

    /// Adds an external contact (extcontact/get's `result`, keyed by its `userid`).
    pub fn add_contact(&self, contact: Value) {
        self.state.sim.add_contact(contact);
    }

    pub fn contact(&self, userid: &str) -> Value {
        self.state
            .sim
            .contact(userid)
            .expect("the fake holds this contact")
    }

    /// Sets the label groups: `[(group name, [(label id, label name)])]`.
    pub fn set_label_groups(&self, groups: &[(&str, &[(i64, &str)])]) {
        self.state.sim.set_label_groups(groups);
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

    /// Holds every request about the group `key` (chat/get's `chatid` parameter), or
    /// every request to the path `key` names (`SESSION_WEBHOOK_PATH`), unanswered until
    /// [`FakeDingTalk::release`]: a group whose DingTalk calls hang, or replies that queue.
    pub fn hold(&self, key: &str) {
        let (gate, _) = watch::channel(false);
        self.state.held.lock().unwrap().insert(key.to_owned(), gate);
    }

    /// Applies the next `method path` request (the simulator changes its state) and then
    /// breaks the connection instead of answering: a change made whose answer was lost.
    pub fn lose_answer(&self, method: &str, path: &str) {
        self.state
            .lost_answers
            .lock()
            .unwrap()
            .push(format!("{method} {path}"));
    }

    /// Answers every request to `path` after `delay` (a DingTalk that is slow today).
    pub fn slow(&self, path: &str, delay: Duration) {
        self.state
            .slow
            .lock()
            .unwrap()
            .insert(path.to_owned(), delay);
    }

    /// Answers the requests [`FakeDingTalk::hold`] held, and the next ones at once.
    pub fn release(&self, key: &str) {
        if let Some(gate) = self.state.held.lock().unwrap().remove(key) {
            let _ = gate.send(true);
        }
    }

    /// The connections qunguan opened to the fake's HTTP side.
    pub fn connections(&self) -> &Connections {
        &self.state.connections
    }

    /// Makes every token issued so far invalid, as DingTalk does when one expires early.
    pub fn revoke_tokens(&self) {
        self.state.sim.revoke_tokens();
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
            r.path == SESSION_WEBHOOK_PATH
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
    let recorded = Request::new(method, &uri, headers, body);
    let gate = {
        let held = state.held.lock().unwrap();
        let chat = recorded.query.get("chatid").and_then(|chat| held.get(chat));
        chat.or_else(|| held.get(&recorded.path))
            .map(|g| g.subscribe())
    };
    let scripted = state
        .scripts
        .lock()
        .unwrap()
        .get_mut(&format!("{} {}", recorded.method, recorded.path))
        .and_then(VecDeque::pop_front);
    state.requests.lock().unwrap().push(recorded.clone());
    state.arrived.notify_waiters();
    if let Some(mut gate) = gate {
        let _ = gate.wait_for(|open| *open).await;
    }
    let slow = state.slow.lock().unwrap().get(&recorded.path).copied();
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    let key = format!("{} {}", recorded.method, recorded.path);
    let lose = {
        let mut lost = state.lost_answers.lock().unwrap();
        let found = lost.iter().position(|k| *k == key);
        found.map(|i| lost.remove(i)).is_some()
    };
    if lose {
        let _applied = state.sim.answer(&recorded);
        let broken = futures_util::stream::once(async {
            Err::<Bytes, _>(std::io::Error::other("connection lost"))
        });
        return Response::new(axum::body::Body::from_stream(broken));
    }
    if let Some(s) = scripted {
        tokio::time::sleep(s.delay).await;
        return (StatusCode::from_u16(s.status).unwrap(), s.body).into_response();
    }
    state.sim.answer(&recorded)
}

/// The fake's listener, counting connections as they open and close.
struct Counted {
    listener: TcpListener,
    connections: Arc<Connections>,
}

impl axum::serve::Listener for Counted {
    type Io = CountedStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (stream, addr) = axum::serve::Listener::accept(&mut self.listener).await;
        let c = &self.connections;
        let open = c.open.fetch_add(1, Ordering::Relaxed) + 1;
        c.peak.fetch_max(open, Ordering::Relaxed);
        let connections = self.connections.clone();
        (
            CountedStream {
                stream,
                connections,
            },
            addr,
        )
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
}

/// An accepted connection, counted open until dropped.
struct CountedStream {
    stream: TcpStream,
    connections: Arc<Connections>,
}

impl Drop for CountedStream {
    fn drop(&mut self) {
        self.connections.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl AsyncRead for CountedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
