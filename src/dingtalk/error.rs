//! What can go wrong talking to DingTalk, classified once (in `envelope`) into kinds that
//! decide retries, token refreshes and the reply a member sees.

use std::fmt;

/// The DingTalk APIs qunguan calls; labels metrics and knows each API's permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// GET {oapi}/gettoken
    GetToken,
    /// POST {api}/v1.0/oauth2/accessToken
    OAuthToken,
    /// GET {oapi}/chat/get
    ChatGet,
    /// POST {oapi}/topapi/chat/member/friendswitch/update
    FriendSwitch,
    /// POST {api}/v1.0/im/chat/{chatid}/convertToOpenConversationId
    ConvertChatId,
    /// POST the callback's sessionWebhook
    SessionWebhook,
    /// POST {api}/v1.0/robot/groupMessages/send
    GroupSend,
    /// POST {api}/v1.0/robot/oToMessages/batchSend (the 1:1 equivalent)
    DirectSend,
    /// POST {oapi}/topapi/extcontact/get
    ExtContactGet,
    /// POST {oapi}/topapi/extcontact/listlabelgroups
    LabelGroups,
    /// TOP `dingtalk.corp.extcontact.update`
    ExtContactUpdate,
    /// POST {api}/v1.0/im/group/update
    GroupUpdate,
    /// POST {api}/v1.0/im/subAdministrators
    SubAdministrators,
    /// POST {oapi}/topapi/chat/updategroupnick
    GroupNick,
    /// POST {oapi}/topapi/chat/qrcode/get
    InviteLink,
    /// POST {api}/v1.0/gateway/connections/open (a Stream ticket)
    StreamOpen,
    /// POST {oapi}/topapi/v2/user/get (a member's name)
    UserGet,
}

/// How an API reports errors: old-style errcode in a 200, new-style HTTP status + code, or
/// the TOP gateway's `error_response` / `result.success`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Oapi,
    Api,
    Top,
}

impl Api {
    /// The metric label.
    pub fn name(self) -> &'static str {
        match self {
            Api::GetToken => "gettoken",
            Api::OAuthToken => "oauth2_access_token",
            Api::ChatGet => "chat_get",
            Api::FriendSwitch => "friendswitch_update",
            Api::ConvertChatId => "convert_to_open_conversation_id",
            Api::SessionWebhook => "session_webhook",
            Api::GroupSend => "group_messages_send",
            Api::DirectSend => "oto_messages_batch_send",
            Api::ExtContactGet => "extcontact_get",
            Api::LabelGroups => "extcontact_listlabelgroups",
            Api::ExtContactUpdate => "extcontact_update",
            Api::GroupUpdate => "group_update",
            Api::SubAdministrators => "sub_administrators",
            Api::GroupNick => "updategroupnick",
            Api::InviteLink => "qrcode_get",
            Api::StreamOpen => "gateway_connections_open",
            Api::UserGet => "user_get",
        }
    }

    /// The console permission the app needs for this API.
    pub fn permission(self) -> &'static str {
        match self {
            Api::ChatGet | Api::ConvertChatId => "qyapi_chat_read",
            Api::FriendSwitch | Api::GroupUpdate | Api::SubAdministrators | Api::GroupNick => {
                "qyapi_chat_manage"
            }
            Api::InviteLink => "qyapi_chat_base_read",
            Api::GroupSend | Api::DirectSend | Api::SessionWebhook => "qyapi_robot_sendmsg",
            Api::ExtContactGet | Api::LabelGroups => "qyapi_ext_read",
            Api::ExtContactUpdate => "qyapi_ext_write",
            Api::UserGet => "qyapi_get_member",
            Api::GetToken | Api::OAuthToken | Api::StreamOpen => "(none)",
        }
    }

    /// Whether the API's answers carry a secret: an access token, or a Stream ticket.
    pub(crate) fn answers_hold_secrets(self) -> bool {
        matches!(self, Api::GetToken | Api::OAuthToken | Api::StreamOpen)
    }

    pub(crate) fn style(self) -> Style {
        match self {
            Api::GetToken
            | Api::ChatGet
            | Api::FriendSwitch
            | Api::SessionWebhook
            | Api::ExtContactGet
            | Api::LabelGroups
            | Api::GroupNick
            | Api::InviteLink
            | Api::UserGet => Style::Oapi,
            Api::OAuthToken
            | Api::ConvertChatId
            | Api::GroupSend
            | Api::DirectSend
            | Api::GroupUpdate
            | Api::SubAdministrators
            | Api::StreamOpen => Style::Api,
            Api::ExtContactUpdate => Style::Top,
        }
    }

    /// Whether repeating a request that may have been processed is harmless (the
    /// extcontact update sends the whole contact, and the group writes set a state, so a
    /// repeat writes the same state).
    pub(crate) fn idempotent(self) -> bool {
        !matches!(self, Api::SessionWebhook | Api::GroupSend | Api::DirectSend)
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an error means for us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The access token is invalid or expired: drop it, fetch a new one, retry once.
    TokenInvalid,
    /// The app key or secret is wrong (a token endpoint refused them).
    Credentials,
    /// Busy, 5xx or an upstream timeout: retry with backoff.
    Transient,
    /// No answer: connection refused or our deadline passed.
    Unreachable,
    /// Nothing was sent, for a reason here: no file descriptor left, or no free
    /// connection to DingTalk in time. Not DingTalk failing: wait and try again.
    Local,
    /// Rate limited (90002, 90018, HTTP 403/429 throttling): back off.
    Throttled,
    /// The chatid is not valid (34001, 40016).
    InvalidChatId,
    /// The app lacks the API's permission (43007, 88/60011).
    NoPermission,
    /// This server's egress IP is not whitelisted (60020).
    IpNotWhitelisted,
    /// The org's monthly API quota is exhausted (90020).
    QuotaExhausted,
    /// The sessionWebhook expired or is unknown (300001).
    SessionExpired,
    /// `permession.checkFailed` (sic): the group's owner is outside the app's visibility,
    /// or the app lacks `qyapi_chat_manage`.
    PermissionCheckFailed,
    /// `parameter.invalid`: DingTalk refused a value (a name, a member list, an owner).
    InvalidParameter,
    /// 41049: the text (a group nickname) contains banned content.
    BannedContent,
    /// 60124: the user is not a member of the group.
    NotMember,
    /// 40003, `invalid.staffid`, `staff.not.found`: no such user in the organisation.
    UnknownUser,
    /// `subadmin.exceed`: the group has as many admins as it may have.
    TooManyAdmins,
    /// `group.diaband` (sic): the group has been dissolved.
    GroupDissolved,
    /// Anything else DingTalk refused, or an answer we could not decode.
    Rejected,
}

/// A failed DingTalk call. `message` (DingTalk's errmsg or the transport error) is for
/// logs only; replies are built from `kind`, `code` and `request_id`.
#[derive(Debug, Clone)]
pub struct DingTalkError {
    pub api: Api,
    pub kind: ErrorKind,
    /// errcode, new-style `code`, `http_<status>`, `timeout`, `connect`, `decode`, or
    /// `no_file_descriptor` / `no_free_connection` (a local failure).
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// Whether the request certainly never reached DingTalk (safe to repeat any call).
    pub not_sent: bool,
}

impl DingTalkError {
    /// An answer qunguan cannot use (undecodable, or an id that does not parse), labelled
    /// `code` (`decode`, `encode`, …).
    pub fn rejected(api: Api, code: &str, message: impl Into<String>) -> Self {
        Self {
            api,
            kind: ErrorKind::Rejected,
            code: code.to_owned(),
            message: message.into(),
            request_id: None,
            not_sent: false,
        }
    }

    /// Whether another attempt may succeed and is safe for this API.
    pub fn retryable(&self) -> bool {
        match self.kind {
            ErrorKind::Throttled => true,
            ErrorKind::Transient | ErrorKind::Unreachable => self.not_sent || self.api.idempotent(),
            _ => false,
        }
    }
}

impl fmt::Display for DingTalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed ({:?}, code {:?}): {:?}",
            self.api, self.kind, self.code, self.message
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id:?}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for DingTalkError {}
