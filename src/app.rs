//! The running application's shared parts, and the background worker that runs commands
//! after their callbacks have been acknowledged.

use std::{
    future::Future,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

use crate::{
    config::Config,
    dingtalk::DingTalkClient,
    metrics::Metrics,
    store::{SqliteStore, Store, StoreError},
};

/// Milliseconds since the Unix epoch, the unit of every DingTalk timestamp.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `yyyy-MM-dd HH:mm:ss` in GMT+8 (China Standard Time, DingTalk's and TOP's clock).
pub fn format_gmt8(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::macros::offset!(+8))
        .format(&format)
        .unwrap_or_default()
}

/// Everything a callback or command needs, shared behind an `Arc`.
pub struct App {
    pub config: Config,
    pub dingtalk: DingTalkClient,
    pub store: Arc<dyn Store>,
    pub metrics: Metrics,
    pub worker: Worker,
}

/// Why the application could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot set up the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

impl App {
    /// Opens the store and builds the DingTalk client.
    pub fn build(config: Config) -> Result<Self, StartError> {
        let store = SqliteStore::open(&config.database)?;
        let metrics = Metrics::default();
        let dingtalk = DingTalkClient::new(&config, metrics.clone())?;
        let worker = Worker::new(config.max_in_flight);
        Ok(App {
            config,
            dingtalk,
            store: Arc::new(store),
            metrics,
            worker,
        })
    }

    /// How long a msgId is remembered: twice the signature window, because a captured
    /// (timestamp, sign) pair stays valid for the window on either side of its timestamp.
    pub fn dedupe_retention_ms(&self) -> i64 {
        2 * self.config.signature_window.as_millis() as i64
    }
}

/// Runs acknowledged commands in the background: bounded, tracked for shutdown.
pub struct Worker {
    tracker: TaskTracker,
    permits: Arc<Semaphore>,
}

impl Worker {
    pub fn new(max_in_flight: usize) -> Self {
        Self {
            tracker: TaskTracker::new(),
            permits: Arc::new(Semaphore::new(max_in_flight)),
        }
    }

    /// A slot for one more command, or `None` when `max_in_flight` are running.
    pub fn reserve(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Runs `work` in the background, holding `slot` until it ends.
    pub fn spawn(
        &self,
        slot: OwnedSemaphorePermit,
        work: impl Future<Output = ()> + Send + 'static,
    ) {
        self.tracker.spawn(async move {
            work.await;
            drop(slot);
        });
    }

    /// Stops taking work and waits up to `deadline` for running commands. Returns how
    /// many were still running when the deadline passed.
    pub async fn drain(&self, deadline: Duration) -> usize {
        self.tracker.close();
        if tokio::time::timeout(deadline, self.tracker.wait())
            .await
            .is_ok()
        {
            0
        } else {
            self.tracker.len()
        }
    }
}
