//! Access-token caching: one token per kind (old-style `gettoken`, new-style oauth2),
//! refreshed ahead of expiry, fetched single-flight, and dropped when DingTalk says it is
//! no longer valid.

use std::{
    future::Future,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use secrecy::{ExposeSecret, SecretString};

use super::error::DingTalkError;

/// The longest we refresh ahead of expiry (DingTalk tokens live 7,200 s).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// A token handed to one call. `generation` lets a caller invalidate exactly the token it
/// used, so fifty calls failing with the same stale token cause one refresh, not fifty.
#[derive(Clone)]
pub struct AccessToken {
    value: Arc<SecretString>,
    generation: u64,
}

impl AccessToken {
    /// The token, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        self.value.expose_secret()
    }
}

/// A token as the token endpoint returned it.
pub struct FetchedToken {
    pub value: String,
    pub expires_in: Duration,
}

struct Cached {
    token: AccessToken,
    refresh_at: Instant,
}

/// When a token fetched at `fetched_at` should be replaced: five minutes before expiry, or
/// halfway through its life if it lives less than ten minutes.
pub fn refresh_at(fetched_at: Instant, expires_in: Duration) -> Instant {
    fetched_at + expires_in - REFRESH_MARGIN.min(expires_in / 2)
}

/// One cached token.
#[derive(Default)]
pub struct AccessTokenCache {
    /// Read on every call; a std lock because it is never held across an await.
    current: RwLock<Option<Cached>>,
    /// Held across the fetch so concurrent callers wait for one fetch instead of each
    /// starting their own (a tokio mutex, as it is held across `.await`).
    refreshing: tokio::sync::Mutex<()>,
    generations: AtomicU64,
}

impl AccessTokenCache {
    /// A fresh cached token, or the result of `fetch` (called by at most one caller at a time).
    pub async fn get<F, Fut>(&self, fetch: F) -> Result<AccessToken, DingTalkError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<FetchedToken, DingTalkError>>,
    {
        if let Some(token) = self.fresh(Instant::now()) {
            return Ok(token);
        }
        let _guard = self.refreshing.lock().await;
        if let Some(token) = self.fresh(Instant::now()) {
            return Ok(token);
        }
        let fetched = fetch().await?;
        let token = AccessToken {
            value: Arc::new(SecretString::from(fetched.value)),
            generation: self.generations.fetch_add(1, Ordering::Relaxed) + 1,
        };
        *self.current.write().expect("token lock poisoned") = Some(Cached {
            token: token.clone(),
            refresh_at: refresh_at(Instant::now(), fetched.expires_in),
        });
        Ok(token)
    }

    fn fresh(&self, now: Instant) -> Option<AccessToken> {
        let current = self.current.read().expect("token lock poisoned");
        current
            .as_ref()
            .filter(|c| now < c.refresh_at)
            .map(|c| c.token.clone())
    }

    /// Drops `token` if it is still the cached one (a newer token is kept).
    pub fn invalidate(&self, token: &AccessToken) {
        let mut current = self.current.write().expect("token lock poisoned");
        if current
            .as_ref()
            .is_some_and(|c| c.token.generation == token.generation)
        {
            *current = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn fetched(value: &str, secs: u64) -> FetchedToken {
        FetchedToken {
            value: value.into(),
            expires_in: Duration::from_secs(secs),
        }
    }

    #[test]
    fn tokens_are_refreshed_five_minutes_early_or_halfway() {
        let t0 = Instant::now();
        assert_eq!(
            refresh_at(t0, Duration::from_secs(7200)),
            t0 + Duration::from_secs(6900)
        );
        assert_eq!(
            refresh_at(t0, Duration::from_secs(120)),
            t0 + Duration::from_secs(60)
        );
    }

    #[tokio::test]
    async fn a_fresh_token_is_reused() {
        let cache = AccessTokenCache::default();
        let fetches = AtomicUsize::new(0);
        for _ in 0..3 {
            let t = cache
                .get(|| async {
                    fetches.fetch_add(1, Ordering::SeqCst);
                    Ok(fetched("t1", 7200))
                })
                .await
                .unwrap();
            assert_eq!(t.expose(), "t1");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_token_near_expiry_is_refetched() {
        let cache = AccessTokenCache::default();
        cache
            .get(|| async { Ok(fetched("short", 0)) })
            .await
            .unwrap();
        let t = cache
            .get(|| async { Ok(fetched("next", 7200)) })
            .await
            .unwrap();
        assert_eq!(t.expose(), "next");
    }

    #[tokio::test]
    async fn invalidating_a_stale_token_keeps_the_newer_one() {
        let cache = AccessTokenCache::default();
        let old = cache
            .get(|| async { Ok(fetched("old", 7200)) })
            .await
            .unwrap();
        cache.invalidate(&old);
        let new = cache
            .get(|| async { Ok(fetched("new", 7200)) })
            .await
            .unwrap();
        cache.invalidate(&old);
        let again = cache
            .get(|| async { Ok(fetched("unwanted", 7200)) })
            .await
            .unwrap();
        assert_eq!((new.expose(), again.expose()), ("new", "new"));
    }
}
