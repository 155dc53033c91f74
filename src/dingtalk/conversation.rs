//! chatid → openConversationId, the only documented conversion between the two ids.

use serde::Deserialize;

use super::{Api, Auth, DingTalkClient, DingTalkError};
use crate::ids::{ChatId, OpenConversationId};

impl DingTalkClient {
    /// POST {api}/v1.0/im/chat/{chatid}/convertToOpenConversationId (no body).
    pub async fn open_conversation_id(
        &self,
        chat: &ChatId,
    ) -> Result<OpenConversationId, DingTalkError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Answer {
            open_conversation_id: String,
        }
        // ChatId holds only ASCII letters and digits, so it needs no escaping in a path.
        let url = self.api(&format!(
            "/v1.0/im/chat/{}/convertToOpenConversationId",
            chat.as_str()
        ));
        let answer: Answer = self
            .call(Api::ConvertChatId, Auth::Api, |http| {
                http.post(&url)
                    .header("content-type", "application/json")
                    .body("{}")
            })
            .await?;
        OpenConversationId::parse(&answer.open_conversation_id).map_err(|e| {
            DingTalkError::rejected(
                Api::ConvertChatId,
                "decode",
                format!("openConversationId {e}"),
            )
        })
    }
}
