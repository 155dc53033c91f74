//! One Stream connection: read frames, acknowledge each at once, hand robot messages to
//! admission and group events to [`crate::events`], answer pings, watch for a half-open
//! socket. Each connection has its own cancellation, so nothing of an old socket reaches a
//! newer one. The reader never waits on the store: a message's admission (its msgId
//! claim) runs beside the reading, and is acknowledged when it is decided; an event is
//! handled on the background worker, which acknowledges it through the reader once its
//! state is written. Pings, pongs and other frames go on meanwhile, even with the database
//! hung.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt, stream::FuturesUnordered};
use tokio::{sync::oneshot, task::JoinHandle};
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::{
    dial::Socket,
    frame::{self, CALLBACK_ACK_DATA, EVENT_ACK_DATA, EVENT_LATER_DATA, Frame},
};
use crate::{
    admission::{self, Admission},
    app::App,
    clock::now_ms,
    dingtalk::BOT_MESSAGE_TOPIC,
    events::{self, GroupEvent},
    incoming::Incoming,
};

/// How long closing waits for the gateway's answer to our close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The gateway closed it with a close frame.
    Closed,
    /// The TCP connection broke or the WebSocket failed (the cause).
    Dropped(String),
    /// No answer to a ping within the keep-alive interval.
    HalfOpen,
    /// qunguan closed it (shutdown, or the end of draining).
    Stopped,
}

impl End {
    /// The reconnect reason label.
    pub fn label(&self) -> &'static str {
        match self {
            End::Closed => "closed",
            End::Dropped(_) => "dropped",
            End::HalfOpen => "half_open",
            End::Stopped => "stopped",
        }
    }
}

/// A running connection.
pub struct Link {
    /// Fires when DingTalk announced that it will close this connection.
    pub going_away: oneshot::Receiver<()>,
    pub task: JoinHandle<End>,
    pub cancel: CancellationToken,
    /// Whether any frame arrived on it (the backoff starts over once one has).
    pub heard: Arc<AtomicBool>,
}

/// Runs `socket` in its own task.
pub fn spawn(app: Arc<App>, socket: Socket, cancel: CancellationToken) -> Link {
    let (away_tx, going_away) = oneshot::channel();
    let heard = Arc::new(AtomicBool::new(false));
    let (acks, acks_due) = tokio::sync::mpsc::unbounded_channel();
    let reader = Reader {
        app,
        socket,
        cancel: cancel.clone(),
        away: Some(away_tx),
        heard: heard.clone(),
        acks,
        acks_due,
        admitting: FuturesUnordered::new(),
    };
    Link {
        going_away,
        task: tokio::spawn(reader.run()),
        cancel,
        heard,
    }
}

struct Reader {
    app: Arc<App>,
    socket: Socket,
    cancel: CancellationToken,
    away: Option<oneshot::Sender<()>>,
    heard: Arc<AtomicBool>,
    /// Acknowledgements of events, sent by their tasks once handled.
    acks: tokio::sync::mpsc::UnboundedSender<String>,
    acks_due: tokio::sync::mpsc::UnboundedReceiver<String>,
    /// Messages whose admission is being decided.
    admitting: FuturesUnordered<Deciding>,
}

/// A message's admission under way, with its frame's id and span.
type Deciding = Pin<Box<dyn Future<Output = (String, Admission, tracing::Span)> + Send>>;

impl Reader {
    async fn run(mut self) -> End {
        let end = self.read().await;
        // Messages still being admitted when the connection ended: one whose msgId is
        // claimed must still run (its redelivery will be a repeat), unacknowledged.
        let deciding = std::mem::take(&mut self.admitting);
        if !deciding.is_empty() {
            let metrics = self.app.metrics.clone();
            tokio::spawn(deciding.for_each(move |(_, admission, span)| {
                metrics.callback("stream", admission.label());
                if let Admission::Accepted(work) = admission {
                    span.in_scope(|| work.start());
                }
                std::future::ready(())
            }));
        }
        end
    }

    async fn read(&mut self) -> End {
        let _open = self.app.metrics.stream().connection_open();
        let keepalive = self.app.config.stream_keepalive;
        let mut tick = tokio::time::interval((keepalive / 4).max(Duration::from_millis(20)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_heard = Instant::now();
        let mut pinged: Option<Instant> = None;
        loop {
            tokio::select! {
                biased;
                _ = self.cancel.cancelled() => return self.close().await,
                message = self.socket.next() => {
                    let message = match message {
                        None => return End::Dropped("the connection ended without a close frame".into()),
                        Some(Err(e)) => return End::Dropped(crate::telemetry::causes(&e)),
                        Some(Ok(message)) => message,
                    };
                    last_heard = Instant::now();
                    pinged = None;
                    self.heard.store(true, Ordering::Relaxed);
                    match message {
                        Message::Text(text) => {
                            if let Err(end) = self.frame(text.as_str()).await {
                                return end;
                            }
                        }
                        Message::Binary(_) => self.reject("binary"),
                        Message::Close(_) => return End::Closed,
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
                    }
                }
                Some((message_id, admission, span)) = self.admitting.next(), if !self.admitting.is_empty() => {
                    if let Err(end) = self.admitted(&message_id, admission, span).await {
                        return end;
                    }
                }
                Some(ack) = self.acks_due.recv() => {
                    if let Err(e) = self.socket.send(Message::Text(ack.into())).await {
                        return End::Dropped(crate::telemetry::causes(&e));
                    }
                    self.app.metrics.stream().ack();
                }
                _ = tick.tick() => match pinged {
                    Some(at) if at.elapsed() >= keepalive => return End::HalfOpen,
                    Some(_) => {}
                    None if last_heard.elapsed() >= keepalive => {
                        if let Err(e) = self.socket.send(Message::Ping(Vec::new().into())).await {
                            return End::Dropped(crate::telemetry::causes(&e));
                        }
                        pinged = Some(Instant::now());
                    }
                    None => {}
                },
            }
        }
    }

    /// Handles one text frame; `Err` ends the connection (an acknowledgement could not
    /// be sent).
    async fn frame(&mut self, text: &str) -> Result<(), End> {
        let frame = match frame::parse(text) {
            Ok(frame) => frame,
            Err(why) => {
                self.reject(why.label());
                return Ok(());
            }
        };
        match frame {
            Frame::Callback {
                message_id,
                topic,
                data,
            } => {
                // As a request's span on HTTP: the command runs in it, and the msgId is
                // recorded once the message is decoded.
                let span = tracing::info_span!("frame", msg_id = tracing::field::Empty);
                self.callback(&message_id, &topic, data)
                    .instrument(span)
                    .await
            }
            Frame::Event {
                message_id,
                headers,
                data,
            } => self.event(message_id, &headers, data).await,
            Frame::Ping { message_id, data } => self.ack(&message_id, &data).await,
            Frame::System { message_id } => self.ack(&message_id, "").await,
            Frame::Disconnect { message_id } => {
                self.ack(&message_id, "").await?;
                tracing::info!("DingTalk will close this Stream connection; opening the next one");
                if let Some(away) = self.away.take() {
                    let _ = away.send(());
                }
                Ok(())
            }
        }
    }

    /// A CALLBACK frame: handed to admission, beside the reading ([`Reader::admitted`]
    /// takes it from there).
    async fn callback(
        &mut self,
        message_id: &str,
        topic: &str,
        data: Option<String>,
    ) -> Result<(), End> {
        if topic != BOT_MESSAGE_TOPIC {
            self.reject("unknown_topic");
            return self.ack(message_id, CALLBACK_ACK_DATA).await;
        }
        if data
            .as_ref()
            .is_some_and(|d| d.len() > crate::incoming::MAX_MESSAGE_BYTES)
        {
            // As large as `/callback` refuses with 413; it will not shrink when delivered again.
            self.reject("too_large");
            return self.ack(message_id, CALLBACK_ACK_DATA).await;
        }
        let incoming = data
            .as_deref()
            .ok_or(())
            .and_then(|d| Incoming::from_json(d.as_bytes()).map_err(|_| ()));
        let Ok(incoming) = incoming else {
            // It will not decode any better when delivered again.
            self.reject("bad_data");
            return self.ack(message_id, CALLBACK_ACK_DATA).await;
        };
        let span = tracing::Span::current();
        span.record("msg_id", tracing::field::display(&incoming.msg_id));
        let app = self.app.clone();
        let message_id = message_id.to_owned();
        let deciding = async move {
            let admission = admission::admit(&app, incoming).await;
            (message_id, admission, tracing::Span::current())
        };
        self.admitting.push(Box::pin(deciding.instrument(span)));
        Ok(())
    }

    /// A message whose admission is decided: acknowledged, then started. Past the
    /// in-flight bound (or with the replay defence full, or the database not answering in
    /// time) it is left unacknowledged, so DingTalk delivers it again later, as it does for
    /// HTTP's 503.
    async fn admitted(
        &mut self,
        message_id: &str,
        admission: Admission,
        span: tracing::Span,
    ) -> Result<(), End> {
        let metrics = self.app.metrics.clone();
        metrics.callback("stream", admission.label());
        match admission {
            Admission::Accepted(work) => {
                let acked = self.ack(message_id, CALLBACK_ACK_DATA).await;
                // Started even if the acknowledgement failed: its msgId is claimed, so a
                // delivery on the next connection is a duplicate and would never run.
                span.in_scope(|| work.start());
                acked
            }
            not_run @ (Admission::Busy | Admission::DedupeFull | Admission::Unavailable) => {
                metrics.stream().unacknowledged(not_run.label());
                Ok(())
            }
            Admission::Ignored | Admission::Duplicate => {
                self.ack(message_id, CALLBACK_ACK_DATA).await
            }
        }
    }

    /// An EVENT frame: handled on the background worker, acknowledged (`SUCCESS`, or `LATER`
    /// when its state could not be written) once handled. One that cannot be read is
    /// acknowledged at once: it will not read any better when pushed again.
    async fn event(
        &mut self,
        message_id: String,
        headers: &serde_json::Map<String, serde_json::Value>,
        data: Option<String>,
    ) -> Result<(), End> {
        let event = match GroupEvent::from_stream(headers, data.as_deref().unwrap_or("{}")) {
            Ok(event) => event,
            Err(why) => {
                self.reject(why.label());
                return self.ack(&message_id, EVENT_ACK_DATA).await;
            }
        };
        let acks = self.acks.clone();
        let span = tracing::info_span!("event", event = %event.key);
        span.in_scope(|| {
            events::start(&self.app, event, move |handled| {
                let data = if handled.acknowledged() {
                    EVENT_ACK_DATA
                } else {
                    EVENT_LATER_DATA
                };
                // Gone with its connection: DingTalk pushes the event again.
                let _ = acks.send(frame::ack(&message_id, data));
            })
        });
        Ok(())
    }

    async fn ack(&mut self, message_id: &str, data: &str) -> Result<(), End> {
        let ack = frame::ack(message_id, data);
        match self.socket.send(Message::Text(ack.into())).await {
            Ok(()) => {
                self.app.metrics.stream().ack();
                Ok(())
            }
            Err(e) => Err(End::Dropped(crate::telemetry::causes(&e))),
        }
    }

    fn reject(&self, reason: &'static str) {
        self.app.metrics.stream().rejected(reason);
        if let Some(suppressed) = self.app.rejections.admit(now_ms()) {
            tracing::warn!(reason, suppressed, "Stream frame not used");
        }
    }

    /// Sends a close frame and waits briefly for the gateway's.
    async fn close(&mut self) -> End {
        let _ = self.socket.send(Message::Close(None)).await;
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            while let Some(Ok(message)) = self.socket.next().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
        End::Stopped
    }
}
