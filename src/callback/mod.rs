//! `POST /callback`, the HTTP transport: verify → decode → [`admission`] → 2xx (or 503
//! with `Retry-After` when there is no room). Nothing happens before the signature is
//! verified; DingTalk gets its answer without waiting for DingTalk APIs.

pub mod signature;

use std::sync::Arc;

use crate::{
    admission::{self, Admission},
    app::App,
    clock::now_ms,
    incoming::Incoming,
};
use axum::{
    body::Bytes,
    extract::{FromRequestParts, State, rejection::BytesRejection},
    http::{StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};

/// The largest accepted body, in bytes (65,536 accepted, 65,537 refused with 413).
pub const MAX_BODY_BYTES: usize = crate::incoming::MAX_MESSAGE_BYTES;
/// Asked of DingTalk when all command slots are busy.
const RETRY_AFTER_SECS: &str = "5";

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
                app.metrics.callback("http", "unauthorized");
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
            app.metrics.callback("http", outcome);
            return status.into_response();
        }
    };
    let incoming = match Incoming::from_json(&body) {
        Ok(incoming) => incoming,
        Err(e) => {
            app.metrics.callback("http", "bad_request");
            if let Some(suppressed) = app.rejections.admit(now_ms()) {
                tracing::warn!(error = %e, suppressed, "callback rejected: undecodable body");
            }
            return (StatusCode::BAD_REQUEST, "undecodable callback body").into_response();
        }
    };
    tracing::Span::current().record("msg_id", tracing::field::display(&incoming.msg_id));
    let admission = admission::admit(&app, incoming).await;
    app.metrics.callback("http", admission.label());
    match admission {
        Admission::Accepted(work) => {
            work.start();
            ack()
        }
        Admission::Ignored | Admission::Duplicate => ack(),
        Admission::Busy | Admission::DedupeFull | Admission::Unavailable => busy(),
    }
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
