//! The DingTalk client: one `reqwest::Client`, base URLs from config, token caches, and the
//! retry loop every API call goes through, at most [`MAX_CONNECTIONS_PER_HOST`] at once
//! per host ([`outbound`]). Each API family has its own file.

mod chat;
mod conversation;
pub mod envelope;
pub mod error;
mod extcontact;
mod gateway;
mod group;
mod outbound;
mod robot;
pub mod token;
mod user;

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use governor::{DefaultKeyedRateLimiter, Quota};
use reqwest::{RequestBuilder, redirect};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, de::DeserializeOwned};
use url::Url;

pub use chat::{ChatInfo, ChatInfoCache};
pub use error::{Api, DingTalkError, ErrorKind};
pub use extcontact::{ExtContact, Label, LabelCache, LabelGroup};
pub use gateway::{BOT_MESSAGE_TOPIC, EVENT_TOPIC, StreamTicket};
pub use group::{GroupUpdate, ManagementOptions};
pub use outbound::MAX_CONNECTIONS_PER_HOST;
pub use robot::OpenApiTarget;
use token::{AccessToken, AccessTokenCache, FetchedToken};

use crate::{config::Config, metrics::Metrics};

/// Attempts per call, the first included.
const MAX_ATTEMPTS: u32 = 3;
/// First backoff; doubled per attempt, with jitter.
const BACKOFF_BASE: Duration = Duration::from_millis(100);
/// Backoff after a throttling answer (DingTalk's limits are per second).
const THROTTLE_BACKOFF: Duration = Duration::from_millis(1000);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(8);

/// Which token a call needs.
#[derive(Debug, Clone, Copy)]
enum Auth {
    /// No token (token endpoints, the sessionWebhook).
    None,
    /// Old-style token, in the `access_token` query parameter.
    Oapi,
    /// New-style token, in the `x-acs-dingtalk-access-token` header.
    Api,
    /// Old-style token as the TOP gateway's `session` query parameter.
    TopSession,
}

/// Handle to DingTalk; cheap to clone.
#[derive(Clone)]
pub struct DingTalkClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    oapi_url: Url,
    api_url: Url,
    top_url: Url,
    app_key: String,
    app_secret: SecretString,
    robot_code: String,
    oapi_token: AccessTokenCache,
    api_token: AccessTokenCache,
    chats: ChatInfoCache,
    labels: LabelCache,
    names: user::NameCache,
    /// One token bucket per API: DingTalk limits internal apps per API (20/s documented).
    limiter: DefaultKeyedRateLimiter<Api>,
    /// The connections each DingTalk host may have at once.
    outbound: outbound::Outbound,
    metrics: Metrics,
}

impl DingTalkClient {
    /// Builds the client from config; fails only if TLS cannot be initialised.
    pub fn new(config: &Config, metrics: Metrics) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            // A sessionWebhook is checked before use; a redirect must not take us elsewhere.
            .redirect(redirect::Policy::none())
            // As many idle as may be busy, so each request in flight finds one to reuse.
            .pool_max_idle_per_host(MAX_CONNECTIONS_PER_HOST)
            .user_agent(concat!("qunguan/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                oapi_url: config.oapi_url.clone(),
                api_url: config.api_url.clone(),
                top_url: config.top_url.clone(),
                app_key: config.app_key.clone(),
                app_secret: config.app_secret.clone(),
                robot_code: config.robot_code.clone(),
                oapi_token: AccessTokenCache::default(),
                api_token: AccessTokenCache::default(),
                chats: ChatInfoCache::default(),
                labels: LabelCache::default(),
                names: user::NameCache::default(),
                limiter: DefaultKeyedRateLimiter::keyed(Quota::per_second(
                    NonZeroU32::new(config.rate_limit_share()).unwrap_or(NonZeroU32::MIN),
                )),
                outbound: outbound::Outbound::new([
                    &config.oapi_url,
                    &config.api_url,
                    &config.top_url,
                ]),
                metrics,
            }),
        })
    }

    /// `base` joined with `path` (which starts with `/`), keeping any path prefix of `base`.
    fn url(base: &Url, path: &str) -> String {
        format!("{}{}", base.as_str().trim_end_matches('/'), path)
    }

    fn oapi(&self, path: &str) -> String {
        Self::url(&self.inner.oapi_url, path)
    }

    fn api(&self, path: &str) -> String {
        Self::url(&self.inner.api_url, path)
    }

    /// Sends one request built by `build` with the token `auth` asks for, and decodes the
    /// answer. If DingTalk says the token is invalid, it is dropped and the call is made
    /// once more with a fresh one.
    async fn call<T: DeserializeOwned>(
        &self,
        api: Api,
        auth: Auth,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<T, DingTalkError> {
        let mut refreshed = false;
        loop {
            let token = self.token(auth).await?;
            let result = self
                .with_retries(api, || {
                    let request = build(&self.inner.http);
                    match (&token, auth) {
                        (Some(t), Auth::Oapi) => request.query(&[("access_token", t.expose())]),
                        (Some(t), Auth::TopSession) => request.query(&[("session", t.expose())]),
                        (Some(t), Auth::Api) => {
                            request.header("x-acs-dingtalk-access-token", t.expose())
                        }
                        _ => request,
                    }
                })
                .await;
            match (result, &token, self.cache(auth)) {
                (Err(e), Some(t), Some(cache))
                    if e.kind == ErrorKind::TokenInvalid && !refreshed =>
                {
                    cache.invalidate(t);
                    refreshed = true;
                }
                (result, ..) => return result,
            }
        }
    }

    /// Sends the request `build` makes, retrying transient failures with backoff. A local
    /// failure (nothing sent) is tried again after a short wait, for a while, without
    /// using up an attempt.
    async fn with_retries<T: DeserializeOwned>(
        &self,
        api: Api,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<T, DingTalkError> {
        let mut attempt = 0;
        let mut local = outbound::LocalWaits::default();
        loop {
            self.wait_for_slot(api).await;
            let error = match self.send_once(api, build()).await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            if error.kind == ErrorKind::Local {
                self.inner.metrics.local_wait(api.name());
                if local.wait().await {
                    continue;
                }
                return Err(error);
            }
            attempt += 1;
            if error.kind == ErrorKind::Throttled {
                self.inner.metrics.throttled(api.name());
            }
            if !error.retryable() || attempt >= MAX_ATTEMPTS {
                return Err(error);
            }
            tokio::time::sleep(backoff(attempt, error.kind)).await;
        }
    }

    /// Waits for `api`'s rate limit. The sessionWebhook is not an app API (each callback
    /// has its own), so it is not limited.
    async fn wait_for_slot(&self, api: Api) {
        if api == Api::SessionWebhook || self.inner.limiter.check_key(&api).is_ok() {
            return;
        }
        self.inner.metrics.rate_limited(api.name());
        self.inner.limiter.until_key_ready(&api).await;
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        api: Api,
        request: RequestBuilder,
    ) -> Result<T, DingTalkError> {
        let result = async {
            let (http, request) = request.build_split();
            let request = request.map_err(|e| envelope::transport_error(api, e))?;
            // Held until the answer is read, when its connection goes back to the pool.
            let _connection = self.inner.outbound.acquire(api, request.url()).await?;
            let response = http
                .execute(request)
                .await
                .map_err(|e| envelope::transport_error(api, e))?;
            let status = response.status();
            let body = response
                .bytes()
                .await
                .map_err(|e| envelope::transport_error(api, e))?;
            envelope::decode(api, status, &body)
        }
        .await;
        match &result {
            // Not DingTalk's answer: counted by `with_retries` as a wait.
            Err(e) if e.kind == ErrorKind::Local => {}
            _ => {
                let code = result.as_ref().err().map_or("0", |e| e.code.as_str());
                self.inner.metrics.dingtalk_call(api.name(), code);
            }
        }
        result
    }

    fn cache(&self, auth: Auth) -> Option<&AccessTokenCache> {
        match auth {
            Auth::None => None,
            Auth::Oapi | Auth::TopSession => Some(&self.inner.oapi_token),
            Auth::Api => Some(&self.inner.api_token),
        }
    }

    async fn token(&self, auth: Auth) -> Result<Option<AccessToken>, DingTalkError> {
        let token = match auth {
            Auth::None => return Ok(None),
            Auth::Oapi | Auth::TopSession => {
                self.inner
                    .oapi_token
                    .get(|| self.fetch_oapi_token())
                    .await?
            }
            Auth::Api => self.inner.api_token.get(|| self.fetch_api_token()).await?,
        };
        Ok(Some(token))
    }

    /// GET {oapi}/gettoken?appkey=&appsecret=
    async fn fetch_oapi_token(&self) -> Result<FetchedToken, DingTalkError> {
        #[derive(Deserialize)]
        struct Answer {
            access_token: String,
            expires_in: u64,
        }
        self.inner.metrics.token_fetch("oapi");
        let url = self.oapi("/gettoken");
        let a: Answer = self
            .with_retries(Api::GetToken, || {
                self.inner.http.get(&url).query(&[
                    ("appkey", self.inner.app_key.as_str()),
                    ("appsecret", self.inner.app_secret.expose_secret()),
                ])
            })
            .await?;
        Ok(FetchedToken {
            value: a.access_token,
            expires_in: Duration::from_secs(a.expires_in),
        })
    }

    /// POST {api}/v1.0/oauth2/accessToken {appKey, appSecret}
    async fn fetch_api_token(&self) -> Result<FetchedToken, DingTalkError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Answer {
            access_token: String,
            expire_in: u64,
        }
        self.inner.metrics.token_fetch("api");
        let url = self.api("/v1.0/oauth2/accessToken");
        let a: Answer = self
            .with_retries(Api::OAuthToken, || {
                self.inner.http.post(&url).json(&serde_json::json!({
                    "appKey": self.inner.app_key,
                    "appSecret": self.inner.app_secret.expose_secret(),
                }))
            })
            .await?;
        Ok(FetchedToken {
            value: a.access_token,
            expires_in: Duration::from_secs(a.expire_in),
        })
    }
}

/// Jittered exponential backoff before attempt `attempt` (1-based retries).
fn backoff(attempt: u32, kind: ErrorKind) -> Duration {
    let base = if kind == ErrorKind::Throttled {
        THROTTLE_BACKOFF
    } else {
        BACKOFF_BASE
    };
    let full = base * 2u32.pow(attempt.saturating_sub(1));
    // "Equal jitter": half fixed, half random, so retries of many commands spread out.
    full / 2 + full.mul_f64(fastrand::f64() / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_within_bounds() {
        for attempt in 1..=3 {
            let full = BACKOFF_BASE * 2u32.pow(attempt - 1);
            let d = backoff(attempt, ErrorKind::Transient);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        assert!(backoff(1, ErrorKind::Throttled) >= THROTTLE_BACKOFF / 2);
    }

    #[test]
    fn urls_keep_a_base_path_prefix() {
        let base = Url::parse("http://127.0.0.1:9/prefix/").unwrap();
        assert_eq!(
            DingTalkClient::url(&base, "/chat/get"),
            "http://127.0.0.1:9/prefix/chat/get"
        );
        let root = Url::parse("https://oapi.dingtalk.com").unwrap();
        assert_eq!(
            DingTalkClient::url(&root, "/gettoken"),
            "https://oapi.dingtalk.com/gettoken"
        );
    }
}
