//! The HTTP server: routes, start-up (the open-file limit, store, start-up bindings,
//! housekeeping) and graceful shutdown that lets acknowledged commands finish.
//! [`connections`] accepts and bounds the connections themselves.

pub mod connections;
mod open_files;

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{DefaultBodyLimit, State},
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tower_http::trace::TraceLayer;

use crate::{
    app::{App, StartError},
    callback,
    clock::now_ms,
    config::Config,
    events,
    stream::{self, Stream},
};

/// How long start-up spends binding `QUNGUAN_GROUPS` before serving anyway.
const STARTUP_BINDING_DEADLINE: Duration = Duration::from_secs(15);
/// How often expired msgIds are deleted.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// The routes, over a built [`App`]. `/callback` exists only where HTTP callbacks are
/// the mode (`http`, `both`): in `stream` mode nothing runs from an unsigned path. Each
/// request runs in a `request` span at INFO; `/callback` records the msgId on it once the
/// body is decoded, and its command runs in the same span, so every log line of one
/// message carries its msgId.
pub fn router(app: Arc<App>) -> Router {
    let routes = Router::new();
    let routes = if app.config.mode.http() {
        routes.route(
            "/callback",
            post(callback::handle).layer(DefaultBodyLimit::max(callback::MAX_BODY_BYTES)),
        )
    } else {
        routes
    };
    // Group events pushed over HTTP, whatever the mode, once their secrets are set.
    let routes = if app.event_crypto.is_some() {
        routes.route(
            "/events",
            post(events::http::handle_push)
                .layer(DefaultBodyLimit::max(events::http::MAX_BODY_BYTES)),
        )
    } else {
        routes
    };
    // A request span on the routes that log; not on the probes and scrapes.
    routes
        .route("/readyz", get(readyz))
        .route_layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                // qunguan logs its own failures (503s included) once, throttled.
                .on_failure(()),
        )
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .with_state(app)
}

/// The span of one HTTP request; the msgId is recorded by `/callback` when it is known.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        msg_id = tracing::field::Empty,
    )
}

/// How long `/readyz` waits for the store: less than the second a probe is given by
/// default (Kubernetes' `timeoutSeconds`), so a hung database is reported, not waited on.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_millis(800);

async fn readyz(State(app): State<Arc<App>>) -> impl IntoResponse {
    if app.config.mode.stream() && app.metrics.stream().open_now() == 0 {
        return (StatusCode::SERVICE_UNAVAILABLE, "no Stream connection open");
    }
    match tokio::time::timeout(READY_WITHIN, app.store.check()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "store is not usable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
        }
        Err(_) => {
            tracing::error!("store did not answer within {READY_WITHIN:?}");
            (StatusCode::SERVICE_UNAVAILABLE, "store not answering")
        }
    }
}

async fn metrics(State(app): State<Arc<App>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.render(),
    )
}

/// A server running in the background (used by tests and `main`).
pub struct RunningServer {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    stream: Option<Stream>,
}

impl RunningServer {
    /// Resolves if the Stream transport cannot work at all (refused credentials), with
    /// the operator's message; never in HTTP mode.
    pub async fn failed(&mut self) -> String {
        match &mut self.stream {
            Some(stream) => stream.failed().await,
            None => std::future::pending().await,
        }
    }

    /// Stops reading Stream frames (closing the WebSocket), stops accepting callbacks,
    /// waits for running commands, and returns.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stream) = self.stream.take() {
            stream.stop().await;
        }
        let _ = self.stop.send(());
        self.task
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    }
}

/// Builds the app, binds `QUNGUAN_GROUPS`, listens on `config.listen`, and serves in the
/// background until [`RunningServer::stop`].
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let addr = config.listen;
    open_files::raise();
    tracing::info!(
        listen = %addr,
        oapi = %crate::telemetry::redacted_url(&config.oapi_url),
        api = %crate::telemetry::redacted_url(&config.api_url),
        database = ?config.database,
        admins = config.admins.len(),
        groups = config.groups.len(),
        trust_org_admins = config.trust_org_admins,
        lang = ?config.lang,
        "configuration loaded"
    );
    let app = Arc::new(App::build(config).await?);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Listen {
        addr: addr.to_string(),
        source,
    })?;
    bind_configured_groups(&app).await;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app.clone(), async move {
        let _ = stopped.await;
    }));
    tracing::info!(%addr, mode = ?app.config.mode, "qunguan is listening");
    let stream = app.config.mode.stream().then(|| stream::start(app.clone()));
    Ok(RunningServer {
        addr,
        app,
        stop,
        task,
        stream,
    })
}

/// Serves until `shutdown` resolves, then drains running commands.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let pruner = tokio::spawn(prune_seen_messages(app.clone()));
    let scheduler = tokio::spawn(crate::scheduler::run(app.clone()));
    let limits = connections::Limits {
        header_timeout: app.config.header_timeout,
        max_connections: app.config.max_connections,
    };
    connections::serve(
        listener,
        router(app.clone()),
        limits,
        app.metrics.clone(),
        shutdown,
    )
    .await;
    pruner.abort();
    // Runs it already started are on the worker, which the drain below waits for.
    scheduler.abort();
    tracing::info!("no longer accepting callbacks; waiting for running commands");
    let deadline = tokio::time::Instant::now() + app.config.drain_timeout;
    for msg_id in app.worker.drain(app.config.drain_timeout).await {
        tracing::error!(%msg_id, "interrupted: the shutdown deadline passed before this command finished");
    }
    // Then the welcomes the events just handled made due.
    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
    app.greeter.drain(left).await;
    app.store.flush_messages().await;
    Ok(())
}

async fn prune_seen_messages(app: Arc<App>) {
    let mut tick = tokio::time::interval(PRUNE_INTERVAL);
    loop {
        tick.tick().await;
        match app.store.forget_messages(now_ms()).await {
            Ok(n) if n > 0 => tracing::debug!(forgotten = n, "expired msgIds deleted"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot delete expired msgIds"),
        }
        if let Some(remembered) = app.store.messages_in_memory() {
            app.metrics.remembered_msg_ids(remembered);
        }
    }
}

/// Converts and binds each `QUNGUAN_GROUPS` chatid. Failures are logged, not fatal.
async fn bind_configured_groups(app: &App) {
    let work = futures_util::future::join_all(app.config.groups.iter().map(|chat| async move {
        let cid = match app.dingtalk.open_conversation_id(chat).await {
            Ok(cid) => cid,
            Err(e) => {
                tracing::error!(chatid = %chat, error = %e, "QUNGUAN_GROUPS: cannot convert chatid; not bound");
                return;
            }
        };
        match app.store.bind(&cid, chat, now_ms()).await {
            Ok(outcome) => tracing::info!(chatid = %chat, cid = %cid, ?outcome, "QUNGUAN_GROUPS: bound"),
            Err(e) => tracing::error!(chatid = %chat, error = %e, "QUNGUAN_GROUPS: cannot store binding"),
        }
    }));
    if tokio::time::timeout(STARTUP_BINDING_DEADLINE, work)
        .await
        .is_err()
    {
        tracing::error!("QUNGUAN_GROUPS: binding did not finish in time; serving anyway");
    }
}
