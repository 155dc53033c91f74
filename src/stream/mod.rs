//! Stream mode, the second transport: an outbound WebSocket to DingTalk's gateway that
//! delivers the same robot messages as HTTP callbacks, for sites without a public URL.
//!
//! A supervisor keeps one connection open: it fetches a fresh ticket for every connect,
//! reconnects single-flight with jittered exponential backoff (reset once a frame
//! arrives), and on DingTalk's `disconnect` opens the next connection while the old one
//! drains (make before break). However often the gateway says `disconnect`, there is at
//! most one dial at a time and one a second ([`DIAL_SPACING`]), and at most two
//! connections: the current one and the one draining (an older one is closed before the
//! next dial). A `disconnect` while a replacement is pending changes nothing. [`connection`]
//! reads frames and hands robot messages to the same admission as HTTP.

mod connection;
mod dial;
mod frame;

use std::{sync::Arc, sync::atomic::Ordering, time::Duration};

use tokio::{sync::oneshot, task::JoinHandle, time::Instant};
use tokio_util::sync::CancellationToken;

use crate::{app::App, dingtalk::ErrorKind, telemetry::redacted_url};
use connection::{End, Link};

/// How long opening the WebSocket may take (TCP, proxy, TLS and the handshake).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an announced-closing connection is read before qunguan closes it itself
/// (DingTalk closes it after about 10 s).
const DRAIN_DEADLINE: Duration = Duration::from_secs(15);
/// The first reconnect delay; doubled per failure up to [`BACKOFF_CAP`].
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(60);
/// The least time between two dials, whatever ends or replaces a connection: a gateway
/// repeating `disconnect` must not make qunguan dial in a loop (the official SDKs'
/// reconnect storms).
const DIAL_SPACING: Duration = Duration::from_secs(1);

/// The running Stream transport.
pub struct Stream {
    cancel: CancellationToken,
    task: JoinHandle<()>,
    fatal: oneshot::Receiver<String>,
}

/// Starts the supervisor.
pub fn start(app: Arc<App>) -> Stream {
    let cancel = CancellationToken::new();
    let (fatal_tx, fatal) = oneshot::channel();
    let task = tokio::spawn(supervise(app, cancel.clone(), fatal_tx));
    Stream {
        cancel,
        task,
        fatal,
    }
}

impl Stream {
    /// Resolves if Stream mode cannot work at all (DingTalk refused the credentials before
    /// any connection opened), with the message for the operator.
    pub async fn failed(&mut self) -> String {
        match (&mut self.fatal).await {
            Ok(message) => message,
            Err(_) => std::future::pending().await,
        }
    }

    /// Stops reading new frames and closes every connection with a close frame.
    pub async fn stop(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

async fn supervise(app: Arc<App>, cancel: CancellationToken, fatal: oneshot::Sender<String>) {
    let connector = dial::connector();
    let mut failures = 0u32;
    let mut connected_once = false;
    let mut draining: Vec<Draining> = Vec::new();
    let mut next_dial = Instant::now();
    let metrics = app.metrics.clone();
    while !cancel.is_cancelled() {
        if !pause(&cancel, next_dial.saturating_duration_since(Instant::now())).await {
            break;
        }
        next_dial = Instant::now() + DIAL_SPACING;
        draining.retain(|d| !d.task.is_finished());
        // The next connection and the newest draining one make two: older ones close first.
        while draining.len() > 1 {
            draining.remove(0).close().await;
        }
        let opened = tokio::select! {
            opened = app.dingtalk.open_stream() => opened,
            _ = cancel.cancelled() => break,
        };
        let ticket = match opened {
            Ok(ticket) => ticket,
            Err(e) if e.kind == ErrorKind::Credentials && !connected_once => {
                let _ = fatal.send(format!(
                    "DingTalk refused DINGTALK_APP_KEY / DINGTALK_APP_SECRET when opening a Stream connection ({}); check both in the developer console",
                    e.code
                ));
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot get a Stream ticket; retrying");
                metrics.stream().reconnect("open_failed");
                failures += 1;
                if !pause(&cancel, backoff(failures)).await {
                    break;
                }
                continue;
            }
        };
        let socket = tokio::select! {
            socket = dial::dial(&ticket, &connector, CONNECT_TIMEOUT) => socket,
            _ = cancel.cancelled() => break,
        };
        let socket = match socket {
            Ok(socket) => socket,
            Err(e) => {
                tracing::warn!(endpoint = %redacted_url(&ticket.endpoint), error = %e, "cannot open the Stream connection; retrying");
                metrics.stream().reconnect("connect_failed");
                failures += 1;
                if !pause(&cancel, backoff(failures)).await {
                    break;
                }
                continue;
            }
        };
        connected_once = true;
        tracing::info!(endpoint = %redacted_url(&ticket.endpoint), "Stream connection open");
        let mut link = connection::spawn(app.clone(), socket, cancel.child_token());
        tokio::select! {
            Ok(()) = &mut link.going_away => {
                metrics.stream().reconnect("disconnect");
                failures = 0;
                draining.push(Draining {
                    cancel: link.cancel.clone(),
                    task: tokio::spawn(drain(link)),
                });
            }
            end = &mut link.task => {
                let end = end.unwrap_or_else(|e| End::Dropped(e.to_string()));
                if end == End::Stopped {
                    break;
                }
                tracing::warn!(reason = end.label(), detail = ?end, "Stream connection ended; reconnecting");
                metrics.stream().reconnect(end.label());
                failures = if link.heard.load(Ordering::Relaxed) { 1 } else { failures + 1 };
                if !pause(&cancel, backoff(failures)).await {
                    break;
                }
            }
            _ = cancel.cancelled() => {
                let _ = link.task.await;
                break;
            }
        }
    }
    cancel.cancel();
    for d in draining {
        let _ = d.task.await;
    }
}

/// A connection DingTalk announced it will close, read until it does.
struct Draining {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl Draining {
    /// Closes it now (a close frame, briefly waiting for the gateway's).
    async fn close(self) {
        self.cancel.cancel();
        let _ = self.task.await;
    }
}

/// Reads an announced-closing connection until DingTalk closes it, or closes it itself
/// after [`DRAIN_DEADLINE`].
async fn drain(mut link: Link) {
    if tokio::time::timeout(DRAIN_DEADLINE, &mut link.task)
        .await
        .is_err()
    {
        link.cancel.cancel();
        let _ = link.task.await;
    }
    tracing::debug!("the old Stream connection is closed");
}

/// Waits `delay` unless cancelled first; `false` if cancelled.
async fn pause(cancel: &CancellationToken, delay: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(delay) => true,
        _ = cancel.cancelled() => false,
    }
}

/// About 1 s after the first failure, doubling to a 60 s cap, with "equal jitter" so
/// replicas that lost DingTalk together do not come back together.
fn backoff(failures: u32) -> Duration {
    let full = BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1)))
        .min(BACKOFF_CAP);
    full / 2 + full.mul_f64(fastrand::f64() / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_with_jitter() {
        for (failures, full) in [(1, 1), (2, 2), (3, 4), (7, 60), (40, 60)] {
            let full = Duration::from_secs(full);
            let d = backoff(failures);
            assert!(d >= full / 2 && d <= full, "{failures}: {d:?}");
        }
    }
}
