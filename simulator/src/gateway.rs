//! DingTalk's Stream gateway: `POST /v1.0/gateway/connections/open` (credentials and
//! subscription checked, a one-time 90-second ticket issued) and the WebSocket on its own
//! listener, through which the tests and the demo push robot messages, pings and
//! disconnects, cut or stall a connection, and read what qunguan sent back.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{
        Query, State,
        ws::{Message, WebSocket, WebSocketUpgrade},
    },
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use tokio::{
    net::TcpListener,
    sync::{Notify, mpsc},
};

use super::{Request, Simulator, api_error, json_ok, lock};

/// How long a ticket admits a connection.
const TICKET_LIFETIME: Duration = Duration::from_secs(90);
/// The robot-message topic.
const BOT_TOPIC: &str = "/v1.0/im/bot/messages/get";

/// The gateway's connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLinks {
    pub open: usize,
    /// The most open at once.
    pub peak_open: usize,
    pub opened: usize,
    pub closed_by_client: usize,
}

/// What the gateway does to one connection.
enum Command {
    Send(String),
    /// Close the TCP connection without a close frame.
    Cut,
    /// Stop reading and writing (no pongs), keeping the socket open.
    Stall,
    /// A close frame, then the end.
    Close,
}

struct Link {
    id: u64,
    to: mpsc::UnboundedSender<Command>,
}

/// The gateway's state, part of the simulator.
#[derive(Default)]
pub(super) struct Gateway {
    addr: Mutex<Option<SocketAddr>>,
    /// The host connections/open names instead of 127.0.0.1 (a test of proxies).
    host: Mutex<Option<String>>,
    tickets: Mutex<HashMap<String, Instant>>,
    links: Mutex<Vec<Link>>,
    peak_open: AtomicUsize,
    opened: AtomicUsize,
    closed_by_client: AtomicUsize,
    next: AtomicU64,
    upstream: Mutex<Vec<Value>>,
    /// Text frames received in all, and a wake-up for each.
    received: AtomicUsize,
    arrived: Notify,
    /// Whether received frames are kept for [`Simulator::upstream`] (off for benchmarks).
    forget_upstream: AtomicBool,
    /// The subscriptions of the last connections/open.
    subscriptions: Mutex<Vec<Value>>,
}

impl Simulator {
    /// Serves the gateway's WebSocket on `127.0.0.1:0`; connections/open names it.
    pub async fn serve_gateway(&self) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        *lock(&self.inner.gateway.addr) = Some(addr);
        let app = Router::new()
            .route("/connect", get(upgrade))
            .with_state(self.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(addr)
    }

    pub(super) fn gateway_open(&self, r: &Request) -> Response {
        let body = r.json();
        let credentials = lock(&self.inner.credentials).clone();
        let (id, secret) = (body["clientId"].as_str(), body["clientSecret"].as_str());
        let known = match &credentials {
            Some((key, s)) => id == Some(key.as_str()) && secret == Some(s.as_str()),
            None => id.is_some_and(|i| !i.is_empty()) && secret.is_some_and(|s| !s.is_empty()),
        };
        if !known {
            return api_error(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthentication",
                "clientId 或 clientSecret 不正确",
            );
        }
        let subscriptions = body["subscriptions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let subscribed = subscriptions
            .iter()
            .any(|s| s["type"] == "CALLBACK" && s["topic"] == BOT_TOPIC);
        *lock(&self.inner.gateway.subscriptions) = subscriptions;
        if !subscribed {
            return api_error(
                StatusCode::BAD_REQUEST,
                "invalidParameter.subscriptions",
                "订阅不合法",
            );
        }
        let Some(addr) = *lock(&self.inner.gateway.addr) else {
            return api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "gateway.unavailable",
                "网关未启动",
            );
        };
        let ticket = format!("ticket-{:016x}", fastrand::u64(..));
        lock(&self.inner.gateway.tickets).insert(ticket.clone(), Instant::now());
        let host = lock(&self.inner.gateway.host)
            .clone()
            .unwrap_or_else(|| addr.ip().to_string());
        let endpoint = format!("ws://{host}:{}/connect", addr.port());
        json_ok(json!({"endpoint": endpoint, "ticket": ticket}))
    }

    /// Names the gateway by `host` (e.g. `localhost`) in connections/open answers.
    pub fn set_gateway_host(&self, host: &str) {
        *lock(&self.inner.gateway.host) = Some(host.to_owned());
    }

    /// Pushes a robot message (an HTTP callback body) to the newest connection as a
    /// CALLBACK frame; returns the frame's messageId, or `None` with no connection.
    pub fn push_message(&self, body: &Value) -> Option<String> {
        self.push_frame("CALLBACK", BOT_TOPIC, &body.to_string())
    }

    /// The subscriptions qunguan asked for when it last opened a connection.
    pub fn stream_subscriptions(&self) -> Vec<Value> {
        lock(&self.inner.gateway.subscriptions).clone()
    }

    /// Whether the last connection asked for events (`{"type":"EVENT","topic":"*"}`).
    pub fn events_subscribed(&self) -> bool {
        lock(&self.inner.gateway.subscriptions)
            .iter()
            .any(|s| s["type"] == "EVENT" && s["topic"] == "*")
    }

    /// Pushes a group event to the newest connection as an EVENT frame (its type, id, corp
    /// and time in the headers, as strings; its data a JSON string); returns the frame's
    /// messageId, or `None` with no connection.
    pub fn push_event(&self, event: &super::SimEvent) -> Option<String> {
        let n = self.inner.gateway.next.fetch_add(1, Ordering::Relaxed);
        let message_id = format!("sim{n:x}_event");
        let frame = json!({
            "specVersion": "1.0", "type": "EVENT",
            "headers": {"appId": "sim-app", "connectionId": "sim-conn", "contentType": "application/json",
                        "messageId": message_id, "time": super::now_ms_string(), "topic": "*",
                        "eventType": event.event_type, "eventId": event.event_id,
                        "eventCorpId": "dingsimcorp", "eventBornTime": super::now_ms_string(),
                        "eventUnifiedAppId": "sim-unified"},
            "data": event.data.to_string(),
        });
        self.to_newest(Command::Send(frame.to_string()))
            .then_some(message_id)
    }

    /// Pushes a frame of `kind` and `topic` carrying `data`; returns its messageId.
    pub fn push_frame(&self, kind: &str, topic: &str, data: &str) -> Option<String> {
        let n = self.inner.gateway.next.fetch_add(1, Ordering::Relaxed);
        let message_id = format!("sim{n:x}_frame");
        let frame = json!({
            "specVersion": "1.0", "type": kind,
            "headers": {"appId": "sim-app", "connectionId": "sim-conn", "contentType": "application/json",
                        "messageId": message_id, "time": super::now_ms_string(), "topic": topic},
            "data": data,
        });
        self.to_newest(Command::Send(frame.to_string()))
            .then_some(message_id)
    }

    /// Sends `text` as it is (garbage, for the tests).
    pub fn push_raw(&self, text: &str) -> bool {
        self.to_newest(Command::Send(text.to_owned()))
    }

    /// A SYSTEM `disconnect` on the newest connection, closed `after` that.
    pub fn disconnect(&self, after: Duration) -> bool {
        let Some((id, to)) = self.newest() else {
            return false;
        };
        let _ = self.push_frame(
            "SYSTEM",
            "disconnect",
            r#"{"reason":"connection is expired"}"#,
        );
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = to.send(Command::Close);
            tracing::debug!(link = id, "gateway closed a disconnected link");
        });
        true
    }

    /// Cuts the newest connection's TCP connection without a close frame.
    pub fn cut(&self) -> bool {
        self.to_newest(Command::Cut)
    }

    /// Makes the newest connection silent: no frames, no pongs.
    pub fn stall(&self) -> bool {
        self.to_newest(Command::Stall)
    }

    /// Connections open now, the most open at once, opened in all, and closed by qunguan
    /// with a close frame.
    pub fn stream_links(&self) -> StreamLinks {
        let g = &self.inner.gateway;
        StreamLinks {
            open: lock(&g.links).len(),
            peak_open: g.peak_open.load(Ordering::Relaxed),
            opened: g.opened.load(Ordering::Relaxed),
            closed_by_client: g.closed_by_client.load(Ordering::Relaxed),
        }
    }

    /// Every text frame qunguan sent, as JSON (`Null` for what was not JSON).
    pub fn upstream(&self) -> Vec<Value> {
        lock(&self.inner.gateway.upstream).clone()
    }

    /// Text frames qunguan sent in all (acknowledgements, mostly).
    pub fn upstream_count(&self) -> usize {
        self.inner.gateway.received.load(Ordering::Relaxed)
    }

    /// Resolves when a text frame from qunguan arrives (or arrived since the last call:
    /// one wake-up is kept, so none is missed between a check and the wait).
    pub async fn upstream_arrived(&self) {
        self.inner.gateway.arrived.notified().await;
    }

    /// Stops keeping received frames (counted only), for long benchmark runs.
    pub fn forget_upstream(&self) {
        self.inner
            .gateway
            .forget_upstream
            .store(true, Ordering::Relaxed);
    }

    fn newest(&self) -> Option<(u64, mpsc::UnboundedSender<Command>)> {
        lock(&self.inner.gateway.links)
            .last()
            .map(|l| (l.id, l.to.clone()))
    }

    fn to_newest(&self, command: Command) -> bool {
        self.newest()
            .is_some_and(|(_, to)| to.send(command).is_ok())
    }
}

async fn upgrade(
    State(sim): State<Simulator>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let issued = query
        .get("ticket")
        .and_then(|t| lock(&sim.inner.gateway.tickets).remove(t));
    match issued {
        Some(at) if at.elapsed() < TICKET_LIFETIME => {}
        _ => return (StatusCode::UNAUTHORIZED, "unknown, used or expired ticket").into_response(),
    }
    ws.on_upgrade(move |socket| serve_link(sim, socket))
}

async fn serve_link(sim: Simulator, mut socket: WebSocket) {
    let gateway = &sim.inner.gateway;
    let id = gateway.next.fetch_add(1, Ordering::Relaxed);
    let (to, mut commands) = mpsc::unbounded_channel();
    let open = {
        let mut links = lock(&gateway.links);
        links.push(Link { id, to });
        links.len()
    };
    gateway.peak_open.fetch_max(open, Ordering::Relaxed);
    gateway.opened.fetch_add(1, Ordering::Relaxed);
    let mut stalled = false;
    loop {
        tokio::select! {
            message = socket.recv(), if !stalled => match message {
                Some(Ok(Message::Text(text))) => {
                    if !gateway.forget_upstream.load(Ordering::Relaxed) {
                        let value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                        lock(&gateway.upstream).push(value);
                    }
                    gateway.received.fetch_add(1, Ordering::Relaxed);
                    gateway.arrived.notify_one();
                }
                Some(Ok(Message::Close(_))) => {
                    gateway.closed_by_client.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            command = commands.recv() => match command {
                Some(Command::Send(text)) if !stalled => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Command::Send(_)) => {}
                Some(Command::Stall) => stalled = true,
                Some(Command::Close) => {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
                Some(Command::Cut) | None => break,
            },
        }
    }
    lock(&gateway.links).retain(|l| l.id != id);
}
