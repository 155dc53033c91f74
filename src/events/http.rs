//! `POST /events`: DingTalk's encrypted event push (HTTP), routed only when
//! `DINGTALK_EVENT_TOKEN` and `DINGTALK_EVENT_AES_KEY` are set.
//!
//! Query `msg_signature`, `timestamp`, `nonce` (also `signature`, `timeStamp`); body
//! `{"encrypt": "…"}`. The signature is checked first (in constant time), then the
//! ciphertext decrypted and its owner checked against `DINGTALK_APP_KEY`. A bad signature,
//! or a timestamp outside the signature window, is 401; a body that is too large, not
//! JSON, or does not decrypt is 400; neither changes anything. Every genuine push,
//! `check_url` included, is answered with the encrypted `success` within DingTalk's 2.5 s,
//! once qunguan's state reflects the event; when it cannot (the database is down) the
//! answer is 503, and DingTalk pushes the event again.

use std::{sync::Arc, time::Duration};

use axum::{
    Json,
    body::Bytes,
    extract::{Query, State, rejection::BytesRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{GroupEvent, MAX_EVENT_BYTES, start};
use crate::{
    app::App,
    clock::now_ms,
    crypto::{EventCrypto, random_chars},
};

/// How long a push waits for its event's state to be written: DingTalk gives up at 2.5 s.
const ANSWER_WITHIN: Duration = Duration::from_millis(2000);
/// The largest body accepted: the event's JSON, encrypted and Base64-encoded, and more.
pub const MAX_BODY_BYTES: usize = 2 * MAX_EVENT_BYTES;

/// The push's signature parameters, as either spelling DingTalk uses.
#[derive(Debug, Default, Deserialize)]
pub struct PushQuery {
    msg_signature: Option<String>,
    signature: Option<String>,
    timestamp: Option<String>,
    #[serde(rename = "timeStamp")]
    time_stamp: Option<String>,
    nonce: Option<String>,
}

#[derive(Deserialize)]
struct Push {
    encrypt: String,
}

/// The `/events` handler.
pub async fn handle_push(
    State(app): State<Arc<App>>,
    Query(query): Query<PushQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(crypto) = &app.event_crypto else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let event = match open(crypto, query, body, app.config.signature_window) {
        Ok(event) => event,
        Err((status, why)) => {
            app.metrics.event("unknown", refusal(status));
            if let Some(suppressed) = app.rejections.admit(now_ms()) {
                tracing::warn!(why, suppressed, "event push refused");
            }
            return status.into_response();
        }
    };
    // The event's state is written on the background worker: a push that waits too long,
    // or finds every slot busy, is answered 503 (DingTalk pushes it again), and work
    // already started still finishes.
    let (done, handled) = tokio::sync::oneshot::channel();
    start(&app, event, move |outcome| {
        let _ = done.send(outcome);
    });
    match tokio::time::timeout(ANSWER_WITHIN, handled).await {
        Ok(Ok(handled)) if handled.acknowledged() => {
            let answer = crypto.success(&now_ms().to_string(), &random_chars(16));
            Json(answer).into_response()
        }
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(axum::http::header::RETRY_AFTER, "10")],
        )
            .into_response(),
    }
}

/// The event a genuine push carries, or the status refusing it and why.
fn open(
    crypto: &EventCrypto,
    query: PushQuery,
    body: Result<Bytes, BytesRejection>,
    window: Duration,
) -> Result<GroupEvent, (StatusCode, &'static str)> {
    let bad = |why| (StatusCode::BAD_REQUEST, why);
    let unauthorized = |why| (StatusCode::UNAUTHORIZED, why);
    let body = body
        .ok()
        .filter(|b| b.len() <= MAX_BODY_BYTES)
        .ok_or(bad("a body over the size limit"))?;
    let push: Push = serde_json::from_slice(&body).map_err(|_| bad("a body without `encrypt`"))?;
    let signature = query.msg_signature.or(query.signature);
    let timestamp = query.timestamp.or(query.time_stamp);
    let (Some(signature), Some(timestamp), Some(nonce)) = (signature, timestamp, query.nonce)
    else {
        return Err(unauthorized("no signature, timestamp or nonce"));
    };
    if !crypto.verify(&signature, &timestamp, &nonce, &push.encrypt) {
        return Err(unauthorized("a bad signature"));
    }
    if !fresh(&timestamp, window) {
        return Err(unauthorized("a timestamp outside the signature window"));
    }
    let plain = crypto
        .decrypt(&push.encrypt)
        .map_err(|_| bad("a body that does not decrypt for this app"))?;
    GroupEvent::from_http(&plain).map_err(|_| bad("an event that is not JSON"))
}

/// The metric result of a refused push.
fn refusal(status: StatusCode) -> &'static str {
    if status == StatusCode::UNAUTHORIZED {
        "unauthorized"
    } else {
        "bad_request"
    }
}

/// Whether a push's timestamp (epoch ms) is within `window` of now, as a callback's must be.
fn fresh(timestamp: &str, window: Duration) -> bool {
    let Ok(at) = timestamp.trim().parse::<i64>() else {
        return false;
    };
    now_ms().abs_diff(at) <= window.as_millis() as u64
}
