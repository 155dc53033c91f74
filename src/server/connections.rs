//! Accepting HTTP connections, bounded: at most `QUNGUAN_MAX_CONNECTIONS` open (more are
//! closed as they arrive, so file descriptors stay free for `/healthz`, DingTalk and the
//! database), hyper's header-read timeout (a request's headers must arrive within
//! `QUNGUAN_HEADER_TIMEOUT_SECS` of the connection opening or of the previous response,
//! which also closes idle keep-alive connections), and graceful shutdown.

use std::{future::Future, sync::Arc, time::Duration};

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};

use crate::{clock::now_ms, log_throttle::LogThrottle, metrics::Metrics};

/// How long to wait after a failed accept (out of file descriptors, say) before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// What bounds the connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open connections
/// finish their requests (an idle or stalled one is closed by the header timeout).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    metrics: Metrics,
    shutdown: impl Future<Output = ()>,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let refusals = LogThrottle::default();
    let accept_errors = LogThrottle::default();
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    if let Some(suppressed) = accept_errors.admit(now_ms()) {
                        tracing::warn!(error = %e, suppressed, "cannot accept a connection");
                    }
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let Ok(permit) = open.clone().try_acquire_owned() else {
            metrics.connection_refused();
            if let Some(suppressed) = refusals.admit(now_ms()) {
                tracing::warn!(
                    max = limits.max_connections,
                    suppressed,
                    "QUNGUAN_MAX_CONNECTIONS are open; closing new connections"
                );
            }
            continue;
        };
        let _ = stream.set_nodelay(true);
        let counted = metrics.connection();
        let service = TowerToHyperService::new(router.clone());
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
            drop((permit, counted));
        });
    }
    drop(listener);
    let finish = limits.header_timeout + Duration::from_secs(1);
    if tokio::time::timeout(finish, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open at shutdown; closed");
    }
}
