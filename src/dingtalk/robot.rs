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

    /// POST {api}/v1.0/robot/groupMessages/send with `sampleMarkdown`. The OpenAPI cannot
    /// @mention anyone. `robotCode` is always `DINGTALK_ROBOT_CODE`.
    pub async fn send_to_group(
        &self,
        conversation: &OpenConversationId,
        title: &str,
        text: &str,
    ) -> Result<(), DingTalkError> {
        let url = self.api("/v1.0/robot/groupMessages/send");
        let body = serde_json::json!({
            "robotCode": self.inner.robot_code,
            "openConversationId": conversation.as_str(),
            "msgKey": "sampleMarkdown",
            "msgParam": serde_json::json!({ "title": title, "text": text }).to_string(),
        });
        let _: IgnoredAny = self
            .call(Api::GroupSend, Auth::Api, |http| {
                http.post(&url).json(&body)
            })
            .await?;
        Ok(())
    }

    /// POST {api}/v1.0/robot/oToMessages/batchSend with `sampleMarkdown` to one member: the
    /// OpenAPI path for a 1:1 chat, which the group send does not reach.
    pub async fn send_to_member(
        &self,
        member: &StaffId,
        title: &str,
        text: &str,
    ) -> Result<(), DingTalkError> {
        let url = self.api("/v1.0/robot/oToMessages/batchSend");
        let body = serde_json::json!({
            "robotCode": self.inner.robot_code,
            "userIds": [member.as_str()],
            "msgKey": "sampleMarkdown",
            "msgParam": serde_json::json!({ "title": title, "text": text }).to_string(),
        });
        let _: IgnoredAny = self
            .call(Api::DirectSend, Auth::Api, |http| {
                http.post(&url).json(&body)
            })
            .await?;
        Ok(())
    }
}
