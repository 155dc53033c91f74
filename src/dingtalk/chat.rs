//! Group APIs on the legacy chatid: chat/get (`GET /chat/get`, the group's settings and
//! members) and friendswitch/update (`POST /topapi/chat/member/friendswitch/update`, whether
//! members may add each other as friends).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::{Api, Auth, DingTalkClient, DingTalkError};
use crate::ids::ChatId;

/// How long a chat/get answer is reused. It serves both `/info` and the owner check, and
/// every call counts against the org's API quota; a few seconds keeps bursts to one call.
const CHAT_INFO_TTL: Duration = Duration::from_secs(5);

/// `chat_info` of chat/get. Every field is optional: the documented sample omits some.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChatInfo {
    pub name: Option<String>,
    /// The owner's userId.
    pub owner: Option<String>,
    pub useridlist: Option<Vec<String>>,
    #[serde(deserialize_with = "number")]
    pub chat_banned_type: Option<i64>,
    #[serde(deserialize_with = "number")]
    pub searchable: Option<i64>,
    #[serde(deserialize_with = "number")]
    pub validation_type: Option<i64>,
    #[serde(deserialize_with = "number")]
    pub mention_all_authority: Option<i64>,
    #[serde(deserialize_with = "number")]
    pub management_type: Option<i64>,
    #[serde(deserialize_with = "number")]
    pub show_history_type: Option<i64>,
    /// 1 normal, 2 dissolved.
    #[serde(deserialize_with = "number")]
    pub status: Option<i64>,
}

fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Recent chat/get answers per chatid, fetched single-flight: concurrent commands for one
/// group share one call.
#[derive(Default)]
pub struct ChatInfoCache {
    entries: Mutex<HashMap<ChatId, (Instant, Arc<ChatInfoCell>)>>,
}

/// Filled once by the first caller; concurrent callers wait on it.
type ChatInfoCell = OnceCell<Arc<ChatInfo>>;

impl ChatInfoCache {
    fn cell(&self, chat: &ChatId) -> Arc<ChatInfoCell> {
        let mut entries = self.entries.lock().expect("chat cache lock poisoned");
        let now = Instant::now();
        if let Some((at, cell)) = entries.get(chat) {
            if now.duration_since(*at) < CHAT_INFO_TTL {
                return cell.clone();
            }
        }
        // A miss: drop every stale answer (only here, not on each lookup), then start anew.
        entries.retain(|_, (at, _)| now.duration_since(*at) < CHAT_INFO_TTL);
        let cell = Arc::new(OnceCell::new());
        entries.insert(chat.clone(), (now, cell.clone()));
        cell
    }

    pub(super) fn forget(&self, chat: &ChatId) {
        self.entries
            .lock()
            .expect("chat cache lock poisoned")
            .remove(chat);
    }
}

impl DingTalkClient {
    /// Forgets what chat/get said of `chat`, so the next look asks again (the group
    /// changed in the client: a new owner, a new name).
    pub fn forget_chat_info(&self, chat: &ChatId) {
        self.inner.chats.forget(chat);
    }

    /// GET {oapi}/chat/get?access_token=&chatid= (cached for a few seconds).
    pub async fn chat_info(&self, chat: &ChatId) -> Result<Arc<ChatInfo>, DingTalkError> {
        let cell = self.inner.chats.cell(chat);
        let info = cell.get_or_try_init(|| self.fetch_chat_info(chat)).await?;
        Ok(info.clone())
    }

    async fn fetch_chat_info(&self, chat: &ChatId) -> Result<Arc<ChatInfo>, DingTalkError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            chat_info: ChatInfo,
        }
        let url = self.oapi("/chat/get");
        let answer: Answer = self
            .call(Api::ChatGet, Auth::Oapi, |http| {
                http.get(&url).query(&[("chatid", chat.as_str())])
            })
            .await?;
        Ok(Arc::new(answer.chat_info))
    }

    /// POST {oapi}/topapi/chat/member/friendswitch/update `{chatid, is_prohibit}`.
    /// Returns DingTalk's request id.
    pub async fn set_friending_prohibited(
        &self,
        chat: &ChatId,
        prohibit: bool,
    ) -> Result<Option<String>, DingTalkError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            request_id: Option<String>,
        }
        let url = self.oapi("/topapi/chat/member/friendswitch/update");
        let body = serde_json::json!({ "chatid": chat.as_str(), "is_prohibit": prohibit });
        let answer: Answer = self
            .call(Api::FriendSwitch, Auth::Oapi, |http| {
                http.post(&url).json(&body)
            })
            .await?;
        self.inner.chats.forget(chat);
        Ok(answer.request_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_sample_decodes_and_missing_fields_are_none() {
        let info: ChatInfo = serde_json::from_str(
            r#"{"owner":"manager4220","mentionAllAuthority":0,"showHistoryType":"1","chatid":"chate39f",
                "conversationTag":2,"validationType":0,"useridlist":["user123","manager4220"],
                "icon":"@lAD","name":"全员群","searchable":0,"chatBannedType":0,"managementType":0}"#,
        )
        .unwrap();
        assert_eq!(info.owner.as_deref(), Some("manager4220"));
        assert_eq!(info.useridlist.unwrap().len(), 2);
        assert_eq!(info.show_history_type, Some(1));
        assert_eq!(info.status, None);
    }
}
