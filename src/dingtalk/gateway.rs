//! Stream mode's one DingTalk call: a ticket for one WebSocket connection.

use secrecy::ExposeSecret;
use serde::Deserialize;
use url::Url;

use super::{Api, Auth, DingTalkClient, DingTalkError};

/// The topic of robot messages.
pub const BOT_MESSAGE_TOPIC: &str = "/v1.0/im/bot/messages/get";
/// Every event the app subscribes to in the console (the group events among them).
pub const EVENT_TOPIC: &str = "*";

/// Where to connect, and the ticket that admits one connection (once, within 90 s).
#[derive(Clone)]
pub struct StreamTicket {
    pub endpoint: Url,
    /// Never logged: it opens a connection as this app.
    pub ticket: String,
}

impl std::fmt::Debug for StreamTicket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTicket")
            .field("endpoint", &crate::telemetry::redacted_url(&self.endpoint))
            .finish_non_exhaustive()
    }
}

impl DingTalkClient {
    /// POST {api}/v1.0/gateway/connections/open with the app's credentials and two
    /// subscriptions: robot messages, and every event (the group events). The endpoint must
    /// be `wss://`; `ws://` only when the API itself is reached over plain http (tests, the
    /// demo).
    pub async fn open_stream(&self) -> Result<StreamTicket, DingTalkError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            endpoint: String,
            #[serde(default)]
            ticket: String,
        }
        let url = self.api("/v1.0/gateway/connections/open");
        let body = serde_json::json!({
            "clientId": self.inner.app_key,
            "clientSecret": self.inner.app_secret.expose_secret(),
            "subscriptions": [
                {"type": "CALLBACK", "topic": BOT_MESSAGE_TOPIC},
                {"type": "EVENT", "topic": EVENT_TOPIC},
            ],
            "ua": concat!("qunguan/", env!("CARGO_PKG_VERSION")),
        });
        let answer: Answer = self
            .call(Api::StreamOpen, Auth::None, |http| {
                http.post(&url)
                    .header("accept", "application/json")
                    .json(&body)
            })
            .await?;
        let unusable = |why: &str| DingTalkError::rejected(Api::StreamOpen, "decode", why);
        if answer.ticket.is_empty() {
            return Err(unusable("no ticket"));
        }
        let endpoint = Url::parse(&answer.endpoint).map_err(|_| unusable("no usable endpoint"))?;
        let plain_allowed = self.inner.api_url.scheme() == "http";
        match endpoint.scheme() {
            "wss" => {}
            "ws" if plain_allowed => {}
            _ => return Err(unusable("the endpoint is not wss://")),
        }
        Ok(StreamTicket {
            endpoint,
            ticket: answer.ticket,
        })
    }
}
