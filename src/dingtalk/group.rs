//! Administering a group: group/update (name, owner, members, the six settings),
//! subAdministrators, updategroupnick and qrcode/get.

use serde::{Deserialize, Serialize};

use super::{Api, Auth, ChatInfo, DingTalkClient, DingTalkError};
use crate::ids::{ChatId, OpenConversationId, StaffId};

/// The six switches of `managementOptions`, all of them: group/update treats an omitted
/// `showHistoryType` as "history hidden", so a change always sends every one, read from
/// chat/get just before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagementOptions {
    /// 1 = everyone muted.
    pub chat_banned_type: i64,
    /// 1 = the group can be found by search.
    pub searchable: i64,
    /// 1 = joining needs approval.
    pub validation_type: i64,
    /// 0 = everyone may @all, 1 = the owner only.
    pub mention_all_authority: i64,
    /// 0 = everyone may manage, 1 = the owner only.
    pub management_type: i64,
    /// 1 = new members see the history.
    pub show_history_type: i64,
}

impl ManagementOptions {
    /// The current switches, or the chat/get field that is missing (then nothing may be
    /// sent: a guess would change a setting nobody named).
    pub fn from_info(info: &ChatInfo) -> Result<Self, &'static str> {
        Ok(Self {
            chat_banned_type: info.chat_banned_type.ok_or("chatBannedType")?,
            searchable: info.searchable.ok_or("searchable")?,
            validation_type: info.validation_type.ok_or("validationType")?,
            mention_all_authority: info.mention_all_authority.ok_or("mentionAllAuthority")?,
            management_type: info.management_type.ok_or("managementType")?,
            show_history_type: info.show_history_type.ok_or("showHistoryType")?,
        })
    }
}

/// One group/update request. Fields left `None` or empty are not sent; the settings are
/// always sent, all six.
#[derive(Debug, Clone, Serialize)]
pub struct GroupUpdate {
    #[serde(rename = "chatid", serialize_with = "chat_id")]
    pub chat: ChatId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub add_useridlist: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub del_useridlist: Vec<String>,
    #[serde(rename = "managementOptions")]
    pub management_options: ManagementOptions,
}

fn chat_id<S: serde::Serializer>(chat: &ChatId, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(chat.as_str())
}

impl GroupUpdate {
    /// An update of `chat` that keeps `options` (change them before sending to change a
    /// setting) and changes nothing else yet.
    pub fn new(chat: &ChatId, options: ManagementOptions) -> Self {
        Self {
            chat: chat.clone(),
            name: None,
            owner: None,
            add_useridlist: Vec::new(),
            del_useridlist: Vec::new(),
            management_options: options,
        }
    }

    pub fn owner(mut self, owner: &StaffId) -> Self {
        self.owner = Some(owner.as_str().to_owned());
        self
    }

    pub fn add_members(mut self, members: &[StaffId]) -> Self {
        self.add_useridlist = members.iter().map(|m| m.as_str().to_owned()).collect();
        self
    }

    pub fn remove_members(mut self, members: &[StaffId]) -> Self {
        self.del_useridlist = members.iter().map(|m| m.as_str().to_owned()).collect();
        self
    }
}

/// The request id of a change, when DingTalk gives one (a `success` that is not true is
/// refused by the envelope).
#[derive(Deserialize)]
struct Acknowledged {
    #[serde(default, alias = "requestId")]
    request_id: Option<String>,
}

impl DingTalkClient {
    /// chat/get fresh from DingTalk (the cache is skipped and refilled): what a change is
    /// computed from must be what the group is now.
    pub async fn chat_info_fresh(
        &self,
        chat: &ChatId,
    ) -> Result<std::sync::Arc<ChatInfo>, DingTalkError> {
        self.inner.chats.forget(chat);
        self.chat_info(chat).await
    }

    /// POST {api}/v1.0/im/group/update. Returns DingTalk's request id.
    pub async fn update_group(
        &self,
        update: &GroupUpdate,
    ) -> Result<Option<String>, DingTalkError> {
        let url = self.api("/v1.0/im/group/update");
        let answer: Result<Acknowledged, _> = self
            .call(Api::GroupUpdate, Auth::Api, |http| {
                http.post(&url).json(update)
            })
            .await;
        self.inner.chats.forget(&update.chat);
        Ok(answer?.request_id)
    }

    /// POST {api}/v1.0/im/subAdministrators `{openConversationId, userIds, role}`: role 2
    /// makes the users group admins, 3 makes them plain members again.
    pub async fn set_sub_admins(
        &self,
        group: &OpenConversationId,
        users: &[StaffId],
        admin: bool,
    ) -> Result<Option<String>, DingTalkError> {
        let url = self.api("/v1.0/im/subAdministrators");
        let body = serde_json::json!({
            "openConversationId": group.as_str(),
            "userIds": users.iter().map(StaffId::as_str).collect::<Vec<_>>(),
            "role": if admin { 2 } else { 3 },
        });
        let answer: Acknowledged = self
            .call(Api::SubAdministrators, Auth::Api, |http| {
                http.post(&url).json(&body)
            })
            .await?;
        Ok(answer.request_id)
    }

    /// POST {oapi}/topapi/chat/updategroupnick `{userid, chatid, group_nick}`.
    pub async fn set_group_nick(
        &self,
        chat: &ChatId,
        user: &StaffId,
        nick: &str,
    ) -> Result<Option<String>, DingTalkError> {
        let url = self.oapi("/topapi/chat/updategroupnick");
        let body = serde_json::json!({
            "userid": user.as_str(), "chatid": chat.as_str(), "group_nick": nick,
        });
        let answer: Acknowledged = self
            .call(Api::GroupNick, Auth::Oapi, |http| {
                http.post(&url).json(&body)
            })
            .await?;
        Ok(answer.request_id)
    }

    /// POST {oapi}/topapi/chat/qrcode/get `{chatid, userid}`: the join URL, shared by
    /// `sharer` (who must be a member).
    pub async fn invite_link(
        &self,
        chat: &ChatId,
        sharer: &StaffId,
    ) -> Result<String, DingTalkError> {
        #[derive(Deserialize)]
        struct Answer {
            #[serde(default)]
            result: Option<String>,
        }
        let url = self.oapi("/topapi/chat/qrcode/get");
        let body = serde_json::json!({ "chatid": chat.as_str(), "userid": sharer.as_str() });
        let answer: Answer = self
            .call(Api::InviteLink, Auth::Oapi, |http| {
                http.post(&url).json(&body)
            })
            .await?;
        answer
            .result
            .filter(|r| !r.is_empty())
            .ok_or_else(|| DingTalkError::rejected(Api::InviteLink, "decode", "no result"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> ManagementOptions {
        ManagementOptions {
            chat_banned_type: 0,
            searchable: 1,
            validation_type: 0,
            mention_all_authority: 1,
            management_type: 0,
            show_history_type: 1,
        }
    }

    #[test]
    fn an_update_always_carries_all_six_settings_and_only_named_fields() {
        let chat = ChatId::parse("chat1").unwrap();
        let body = serde_json::to_value(GroupUpdate::new(&chat, options())).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"chatid": "chat1", "managementOptions": {
                "chatBannedType": 0, "searchable": 1, "validationType": 0,
                "mentionAllAuthority": 1, "managementType": 0, "showHistoryType": 1}})
        );
        let who = StaffId::parse("u1").unwrap();
        let body = serde_json::to_value(GroupUpdate::new(&chat, options()).remove_members(&[who]))
            .unwrap();
        assert_eq!(body["del_useridlist"], serde_json::json!(["u1"]));
        assert!(body.get("add_useridlist").is_none() && body.get("owner").is_none());
    }

    #[test]
    fn a_missing_setting_is_named_instead_of_guessed() {
        let info: ChatInfo = serde_json::from_str(
            r#"{"chatBannedType":0,"searchable":1,"validationType":0,"mentionAllAuthority":1,"managementType":0}"#,
        )
        .unwrap();
        assert_eq!(ManagementOptions::from_info(&info), Err("showHistoryType"));
    }
}
