//! `POST /callback`: verify → decode → dedupe → acknowledge, then run the command in the
//! background and reply. Nothing happens before the signature is verified; DingTalk gets
//! its 2xx without waiting for DingTalk APIs.

pub mod model;
pub mod signature;

use std::{sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    extract::{FromRequestParts, State, rejection::BytesRejection},
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use tracing::Instrument;

use crate::{
    app::{App, now_ms},
    commands::dispatch,
    dedupe::Claim,
    reply,
};
use model::{Content, ConversationKind, Incoming};

/// The largest accepted body, in bytes (65,536 accepted, 65,537 refused with 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Asked of DingTalk when all command slots are busy.
const RETRY_AFTER_SECS: &str = "5";
/// How long delivering one reply may take, fallback included.
const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// Proof that the request's `timestamp` and `sign` headers verified. As an extractor it
/// runs before the body is read, so an unverified request gets a 401 and nothing else.
pub struct Verified;

impl FromRequestParts<Arc<App>> for Verified {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, StatusCode> {
        let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let window_ms = app.config.signature_window.as_millis() as i64;
        match signature::verify(
            header("timestamp"),
            header("sign"),
            &app.config.app_secret,
            now_ms(),
            window_ms,
        ) {
            Ok(_) => Ok(Verified),
            Err(e) => {
                app.metrics.callback("unauthorized");
                app.metrics.signature_failure(e.reason());
                if let Some(suppressed) = app.rejections.admit(now_ms()) {
                    tracing::warn!(reason = e.reason(), detail = %e, suppressed, "callback rejected: bad signature");
                }
                Err(StatusCode::UNAUTHORIZED)
            }
        }
    }
}

/// The `/callback` handler.
pub async fn handle(
    State(app): State<Arc<App>>,
    _verified: Verified,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            let outcome = if status == StatusCode::PAYLOAD_TOO_LARGE {
                "too_large"
            } else {
                "bad_request"
            };
            app.metrics.callback(outcome);
            return status.into_response();
        }
    };
    let incoming = match Incoming::from_json(&body) {
        Ok(incoming) => incoming,
        Err(e) => {
            app.metrics.callback("bad_request");
            if let Some(suppressed) = app.rejections.admit(now_ms()) {
                tracing::warn!(error = %e, suppressed, "callback rejected: undecodable body");
            }
            return (StatusCode::BAD_REQUEST, "undecodable callback body").into_response();
        }
    };
    if incoming.kind == ConversationKind::Group && matches!(incoming.content, Content::Other(_)) {
        app.metrics.callback("ignored");
        return ack();
    }
    let Some(slot) = app.worker.reserve() else {
        app.metrics.callback("busy");
        if let Some(suppressed) = app.overloaded.admit(now_ms()) {
            tracing::warn!(msg_id = %incoming.msg_id, suppressed, "all command slots busy; asking DingTalk to retry");
        }
        return busy();
    };
    match app.dedupe.claim(&incoming.msg_id, now_ms()) {
        Claim::New => {}
        Claim::Seen => {
            app.metrics.callback("duplicate");
            if let Some(suppressed) = app.duplicates.admit(now_ms()) {
                tracing::info!(msg_id = %incoming.msg_id, suppressed, "duplicate msgId acknowledged, not run again");
            }
            return ack();
        }
        Claim::Full => {
            app.metrics.callback("dedupe_full");
            if let Some(suppressed) = app.overloaded.admit(now_ms()) {
                tracing::warn!(msg_id = %incoming.msg_id, suppressed, "QUNGUAN_MAX_REMEMBERED_MSGIDS reached; asking DingTalk to retry");
            }
            return busy();
        }
    }
    app.metrics.callback("accepted");
    // DEBUG: at INFO, a span and a line per command cost a fifth of the throughput, and
    // metrics and the audit trail already account for every command.
    let span = tracing::debug_span!("command", msg_id = %incoming.msg_id);
    let msg_id = incoming.msg_id.clone();
    let work = process(app.clone(), incoming).instrument(span);
    app.worker.spawn(slot, msg_id, work);
    ack()
}

fn ack() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], "{}").into_response()
}

fn busy() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER_SECS)],
    )
        .into_response()
}

/// Runs one acknowledged command and delivers its reply.
async fn process(app: Arc<App>, incoming: Incoming) {
    let _in_flight = app.metrics.in_flight();
    let started = std::time::Instant::now();
    let executed = dispatch::execute(&app, &incoming).await;
    app.metrics
        .command(executed.command, executed.outcome.label());
    let delivery = tokio::time::timeout(
        REPLY_TIMEOUT,
        reply::deliver(
            &app.dingtalk,
            &app.metrics,
            &incoming,
            &executed.reply,
            now_ms(),
        ),
    )
    .await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let msg_id = &incoming.msg_id;
    match delivery {
        Ok(Ok(path)) => tracing::debug!(
            %msg_id,
            command = executed.command,
            outcome = executed.outcome.label(),
            ?path,
            elapsed_ms,
            "command answered"
        ),
        Ok(Err(e)) => {
            tracing::error!(%msg_id, command = executed.command, error = %e, "reply could not be delivered")
        }
        Err(_) => tracing::error!(%msg_id, command = executed.command, "reply delivery timed out"),
    }
}
