//! How many requests qunguan has open to each DingTalk host at once: at most
//! [`MAX_CONNECTIONS_PER_HOST`], each holding one connection, which goes back to the
//! client's pool (kept alive, [`MAX_CONNECTIONS_PER_HOST`] idle at most) for the next. So
//! the connections to DingTalk do not grow with the backlog of replies: a burst of
//! callbacks waits for a free connection instead of opening a socket each, which under a
//! 1,024 open-file limit ran the process out of file descriptors.
//!
//! Running out anyway (no permit within [`PERMIT_WAIT`], or the kernel's `EMFILE` or
//! `ENFILE`) is a local failure: nothing reached DingTalk, and the call waits and tries
//! again rather than counting it as DingTalk failing.

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use super::error::{Api, DingTalkError, ErrorKind};

/// Requests open at once to one host (scheme, host and port). DingTalk limits an app to
/// about 20 calls a second per API, and a sessionWebhook answers in tens of milliseconds,
/// so 64 carry more than DingTalk takes; three hosts' worth stay far below a 1,024
/// open-file limit beside `QUNGUAN_MAX_CONNECTIONS` (512) incoming ones.
pub const MAX_CONNECTIONS_PER_HOST: usize = 64;
/// How long a request waits for one of its host's connections before it is a local
/// failure (and is tried again). Requests wait in turn, and each holds its connection
/// for at most the 8 s request deadline, so the queue moves; the callers' own deadlines
/// (a command's, a reply's) come first. This only catches what should not happen.
const PERMIT_WAIT: Duration = Duration::from_secs(30);
/// The wait before a call that failed for a local reason is tried again (jittered).
const LOCAL_BACKOFF: Duration = Duration::from_millis(200);
/// How long one call keeps trying again after local failures before it gives up.
const LOCAL_WAIT_LIMIT: Duration = Duration::from_secs(10);
/// `EMFILE` and `ENFILE`: this process, or the whole system, has no file descriptor left
/// (the same numbers on Linux, the BSDs and macOS).
const OUT_OF_FILES: [i32; 2] = [24, 23];

/// One limit per upstream host, made for the hosts qunguan is configured with; a host
/// outside them (none today: a sessionWebhook must be on the oapi host) shares one more.
pub(super) struct Outbound {
    hosts: HashMap<String, Arc<Semaphore>>,
    other: Arc<Semaphore>,
    /// [`PERMIT_WAIT`], shorter in tests.
    wait: Duration,
}

impl Outbound {
    pub(super) fn new<'a>(bases: impl IntoIterator<Item = &'a Url>) -> Self {
        let hosts = bases
            .into_iter()
            .map(|url| (host_of(url), limit()))
            .collect();
        Self {
            hosts,
            other: limit(),
            wait: PERMIT_WAIT,
        }
    }

    /// A free connection to `url`'s host, held until the answer has been read; a local
    /// failure if none frees up within [`PERMIT_WAIT`].
    pub(super) async fn acquire(
        &self,
        api: Api,
        url: &Url,
    ) -> Result<OwnedSemaphorePermit, DingTalkError> {
        let limit = self.hosts.get(&host_of(url)).unwrap_or(&self.other);
        match tokio::time::timeout(self.wait, limit.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(local(
                api,
                "no_free_connection",
                "no free connection to DingTalk",
            )),
        }
    }
}

/// The waits of one call after its local failures.
#[derive(Default)]
pub(super) struct LocalWaits {
    since: Option<Instant>,
}

impl LocalWaits {
    /// Waits before the next try; `false` (at once) when the call has tried for
    /// [`LOCAL_WAIT_LIMIT`] and should give up.
    pub(super) async fn wait(&mut self) -> bool {
        let since = *self.since.get_or_insert_with(Instant::now);
        if since.elapsed() >= LOCAL_WAIT_LIMIT {
            return false;
        }
        tokio::time::sleep(LOCAL_BACKOFF / 2 + LOCAL_BACKOFF.mul_f64(fastrand::f64() / 2.0)).await;
        true
    }
}

fn limit() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(MAX_CONNECTIONS_PER_HOST))
}

fn host_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A failure here, before anything reached DingTalk, labelled `code`.
pub(super) fn local(api: Api, code: &str, message: &str) -> DingTalkError {
    DingTalkError {
        api,
        kind: ErrorKind::Local,
        code: code.to_owned(),
        message: message.to_owned(),
        request_id: None,
        not_sent: true,
    }
}

/// Whether `e` or one of its causes is the kernel refusing a file descriptor.
pub(super) fn out_of_files(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(cause) = source {
        let io = cause.downcast_ref::<std::io::Error>();
        if io
            .and_then(std::io::Error::raw_os_error)
            .is_some_and(|n| OUT_OF_FILES.contains(&n))
        {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("connect failed")]
    struct Wrapper(#[source] std::io::Error);

    #[test]
    fn emfile_and_enfile_are_found_among_the_causes() {
        for errno in OUT_OF_FILES {
            let e = Wrapper(std::io::Error::from_raw_os_error(errno));
            assert!(out_of_files(&e), "{errno}");
        }
        let refused = Wrapper(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(!out_of_files(&refused));
    }

    #[tokio::test]
    async fn a_host_has_at_most_its_connections_and_then_waits() {
        let base = Url::parse("http://127.0.0.1:9/prefix/").unwrap();
        let outbound = Outbound {
            wait: Duration::from_millis(10),
            ..Outbound::new([&base])
        };
        let webhook = Url::parse("http://127.0.0.1:9/robot/sendBySession?session=s").unwrap();
        let mut held = Vec::new();
        for _ in 0..MAX_CONNECTIONS_PER_HOST {
            held.push(
                outbound
                    .acquire(Api::SessionWebhook, &webhook)
                    .await
                    .unwrap(),
            );
        }
        let e = outbound
            .acquire(Api::SessionWebhook, &webhook)
            .await
            .unwrap_err();
        assert_eq!((e.kind, e.not_sent), (ErrorKind::Local, true));
        let elsewhere = Url::parse("http://127.0.0.1:10/x").unwrap();
        assert!(outbound.acquire(Api::GroupSend, &elsewhere).await.is_ok());
        held.pop();
        assert!(
            outbound
                .acquire(Api::SessionWebhook, &webhook)
                .await
                .is_ok()
        );
    }
}
