//! The running application's shared parts, and the background worker that runs commands
//! after their callbacks have been acknowledged.

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::task::TaskTracker;

use crate::{
    config::Config,
    crypto::EventCrypto,
    dingtalk::DingTalkClient,
    group::{Greeter, Turns},
    ids::MsgId,
    log_throttle::LogThrottle,
    metrics::Metrics,
    store::{self, Replay, Store, StoreError},
};

/// Everything a callback or command needs, shared behind an `Arc`.
pub struct App {
    pub config: Config,
    pub dingtalk: DingTalkClient,
    pub store: Arc<dyn Store>,
    pub metrics: Metrics,
    pub worker: Worker,
    /// Logs of rejected callbacks, which anyone can send.
    pub rejections: LogThrottle,
    /// Logs of duplicate msgIds, which a replayed (signed) callback can repeat at will.
    pub duplicates: LogThrottle,
    /// Logs of callbacks refused for lack of room (command slots, the dedupe ceiling).
    pub overloaded: LogThrottle,
    /// One change at a time per group (with the group's lease in the store, across
    /// replicas and processes too).
    pub turns: Turns,
    /// The people waiting for their group's welcome.
    pub greeter: Arc<Greeter>,
    /// The HTTP event push's signature and encryption, when its secrets are set.
    pub event_crypto: Option<EventCrypto>,
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
    /// Opens the store (which loads the msgIds it remembers) and builds the DingTalk client.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let store: Arc<dyn Store> = Arc::new(store::Bounded::new(
            store::open(&config.database, Replay::of(&config)).await?,
            config.store_timeout,
        ));
        let metrics = Metrics::default();
        let dingtalk = DingTalkClient::new(&config, metrics.clone())?;
        let worker = Worker::new(config.max_in_flight);
        let event_crypto = config
            .events
            .as_ref()
            .map(|secrets| EventCrypto::new(secrets, &config.app_key));
        let greeter = Arc::new(Greeter::new(dingtalk.clone(), store.clone(), config.lang));
        let turns = Turns::new(store.clone());
        let app = App {
            config,
            dingtalk,
            store,
            metrics,
            worker,
            rejections: LogThrottle::default(),
            duplicates: LogThrottle::default(),
            overloaded: LogThrottle::default(),
            turns,
            greeter,
            event_crypto,
        };
        Ok(app)
    }
}

/// Runs acknowledged commands in the background: bounded, tracked for shutdown.
pub struct Worker {
    tracker: TaskTracker,
    permits: Arc<Semaphore>,
    /// The msgIds of running commands, so a shutdown that cannot wait for them can say which.
    running: Arc<Mutex<HashMap<u64, MsgId>>>,
    next_id: AtomicU64,
}

impl Worker {
    pub fn new(max_in_flight: usize) -> Self {
        Self {
            tracker: TaskTracker::new(),
            permits: Arc::new(Semaphore::new(max_in_flight)),
            running: Arc::default(),
            next_id: AtomicU64::new(0),
        }
    }

    /// A slot for one more command, or `None` when `max_in_flight` are running.
    pub fn reserve(&self) -> Option<OwnedSemaphorePermit> {
        self.permits.clone().try_acquire_owned().ok()
    }

    /// Runs the command of `msg_id` in the background, holding `slot` until it ends.
    pub fn spawn(
        &self,
        slot: OwnedSemaphorePermit,
        msg_id: MsgId,
        work: impl Future<Output = ()> + Send + 'static,
    ) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.running
            .lock()
            .expect("worker lock poisoned")
            .insert(id, msg_id);
        let running = self.running.clone();
        self.tracker.spawn(async move {
            work.await;
            running.lock().expect("worker lock poisoned").remove(&id);
            drop(slot);
        });
    }

    /// How many commands are running now. A command counts from when its callback is
    /// acknowledged until its reply has been sent.
    pub fn running(&self) -> usize {
        self.running.lock().expect("worker lock poisoned").len()
    }

    /// Stops taking work and waits up to `deadline` for running commands. Returns the
    /// msgIds of those still running when the deadline passed.
    pub async fn drain(&self, deadline: Duration) -> Vec<MsgId> {
        self.tracker.close();
        if tokio::time::timeout(deadline, self.tracker.wait())
            .await
            .is_ok()
        {
            return Vec::new();
        }
        self.running
            .lock()
            .expect("worker lock poisoned")
            .values()
            .cloned()
            .collect()
    }
}
