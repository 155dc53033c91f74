//! Sending messages as the robot: the callback's sessionWebhook, or the OpenAPI group send.

use serde::de::IgnoredAny;
use serde_json::Value;
use url::Url;

use super::{Api, Auth, DingTalkClient, DingTalkError};
use crate::ids::{OpenConversationId, StaffId};

/// The only path a sessionWebhook may have.
const SESSION_WEBHOOK_PATH: &str = "/robot/sendBySession";

impl DingTalkClient {
    /// `url` parsed, if it may be POSTed to as a sessionWebhook: same scheme, host and
    /// port as `DINGTALK_OAPI_URL`, path `/robot/sendBySession`, no userinfo. The callback
    /// body is not signed, so anything else could point us at an arbitrary host (SSRF).
    pub fn allowed_webhook(&self, url: &str) -> Option<Url> {
        let url = Url::parse(url).ok()?;
        let base = &self.inner.oapi_url;
        let allowed = url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
            && url.path() == SESSION_WEBHOOK_PATH
            && url.username().is_empty()
            && url.password().is_none()
            && url.fragment().is_none();
        allowed.then_some(url)
    }

    /// POSTs a message to a sessionWebhook vetted by [`Self::allowed_webhook`].
    pub async fn send_by_session(&self, url: &Url, message: &Value) -> Result<(), DingTalkError> {
        let _: IgnoredAny = self
            .call(Api::SessionWebhook, Auth::None, |http| {
                http.post(url.clone()).json(message)
            })
            .await?;
        Ok(())
    }

    /// Sends a `sampleMarkdown` message through the OpenAPI: to a group with
    /// POST {api}/v1.0/robot/groupMessages/send, to one member (a 1:1 chat, which the group
    /// send does not reach) with POST {api}/v1.0/robot/oToMessages/batchSend. The OpenAPI
    /// cannot @mention anyone. `robotCode` is always `DINGTALK_ROBOT_CODE`.
    pub async fn send_markdown(
        &self,
        to: OpenApiTarget<'_>,
        title: &str,
        text: &str,
    ) -> Result<(), DingTalkError> {
        let mut body = serde_json::json!({
            "robotCode": self.inner.robot_code,
            "msgKey": "sampleMarkdown",
            "msgParam": serde_json::json!({ "title": title, "text": text }).to_string(),
        });
        let (api, path) = match to {
            OpenApiTarget::Group(cid) => {
                body["openConversationId"] = cid.as_str().into();
                (Api::GroupSend, "/v1.0/robot/groupMessages/send")
            }
            OpenApiTarget::Member(member) => {
                body["userIds"] = serde_json::json!([member.as_str()]);
                (Api::DirectSend, "/v1.0/robot/oToMessages/batchSend")
            }
        };
        let url = self.api(path);
        let _: IgnoredAny = self
            .call(api, Auth::Api, |http| http.post(&url).json(&body))
            .await?;
        Ok(())
    }
}

/// Who an OpenAPI message goes to.
#[derive(Debug, Clone, Copy)]
pub enum OpenApiTarget<'a> {
    Group(&'a OpenConversationId),
    Member(&'a StaffId),
}
