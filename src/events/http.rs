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
use crate::{app::App, clock::now_ms, crypto::random_chars};

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
    let refuse = |status: StatusCode, why: &'static str| {
        app.metrics.event("unknown", refusal(status));
        if let Some(suppressed) = app.rejections.admit(now_ms()) {
            tracing::warn!(why, suppressed, "event push refused");
        }
        status.into_response()
    };
    let push = match body.ok().filter(|b| b.len() <= MAX_BODY_BYTES) {
        None => return refuse(StatusCode::BAD_REQUEST, "a body over the size limit"),
        Some(body) => match serde_json::from_slice::<Push>(&body) {
            Ok(push) => push,
            Err(_) => return refuse(StatusCode::BAD_REQUEST, "a body without `encrypt`"),
        },
    };
    let signature = query.msg_signature.or(query.signature);
    let timestamp = query.timestamp.or(query.time_stamp);
    let (Some(signature), Some(timestamp), Some(nonce)) = (signature, timestamp, query.nonce)
    else {
        return refuse(StatusCode::UNAUTHORIZED, "no signature, timestamp or nonce");
    };
    if !crypto.verify(&signature, &timestamp, &nonce, &push.encrypt) {
        return refuse(StatusCode::UNAUTHORIZED, "a bad signature");
    }
    if !fresh(&timestamp, app.config.signature_window) {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "a timestamp outside the signature window",
        );
    }
    let event = match crypto.decrypt(&push.encrypt) {
        Ok(plain) => GroupEvent::from_http(&plain),
        Err(_) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "a body that does not decrypt for this app",
            );
        }
    };
    let Ok(event) = event else {
        return refuse(StatusCode::BAD_REQUEST, "an event that is not JSON");
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
