//! The one place that looks at DingTalk's answers: HTTP status, `errcode`/`errmsg`,
//! `success`, new-style `{code, message, requestid}` bodies and transport failures all
//! become either the typed payload or a [`DingTalkError`] with its [`ErrorKind`].
//!
//! Old-style (oapi) APIs answer HTTP 200 with a non-zero `errcode` on failure; new-style
//! (api.dingtalk.com) APIs answer 4xx/5xx with a `code` string. Bodies of refusals are
//! logged here and go nowhere else; of an answer that does not decode, and of any answer of
//! an API whose answers hold a secret (tokens, tickets), only the length and field names.

use reqwest::StatusCode;
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

mod top;

use super::error::{Api, DingTalkError, ErrorKind, Style};

/// Decodes one answer of `api`.
pub fn decode<T: DeserializeOwned>(
    api: Api,
    status: StatusCode,
    body: &[u8],
) -> Result<T, DingTalkError> {
    let mut result = match api.style() {
        Style::Oapi => decode_oapi(api, status, body),
        Style::Api => decode_api(api, status, body),
        Style::Top => top::decode(api, status, body),
    };
    let Err(e) = &mut result else {
        return result;
    };
    let secret = api.answers_hold_secrets();
    if secret && e.code == "decode" {
        // The decoder's words about it quote values: a token or a ticket among them.
        e.message = format!("unusable {} answer ({} bytes)", api.name(), body.len());
    }
    if secret || e.code == "decode" {
        tracing::warn!(api = api.name(), status = status.as_u16(), code = ?e.code, bytes = body.len(), fields = %field_names(body), "DingTalk answered with an error");
    } else {
        let shown = String::from_utf8_lossy(&body[..body.len().min(2048)]);
        tracing::warn!(api = api.name(), status = status.as_u16(), code = ?e.code, body = ?shown, "DingTalk answered with an error");
    }
    result
}

/// The names of the top-level fields of a JSON object `body` (`[endpoint,ticket]`), or what
/// it is instead; never a value.
fn field_names(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => {
            let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
            names.sort_unstable();
            format!("[{}]", names.join(","))
        }
        Ok(_) => "(JSON, not an object)".into(),
        Err(_) => "(not JSON)".into(),
    }
}

/// The fields every old-style answer may carry.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OapiEnvelope {
    errcode: Option<Value>,
    errmsg: Option<String>,
    sub_code: Option<Value>,
    sub_msg: Option<String>,
    request_id: Option<String>,
    success: Option<bool>,
}

/// The error body of new-style APIs.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApiErrorBody {
    code: Option<String>,
    message: Option<String>,
    requestid: Option<String>,
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn as_text(v: &Value) -> String {
    v.as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| v.to_string())
}

fn decode_oapi<T: DeserializeOwned>(
    api: Api,
    status: StatusCode,
    body: &[u8],
) -> Result<T, DingTalkError> {
    let envelope: OapiEnvelope = serde_json::from_slice(body).unwrap_or_default();
    if !status.is_success() {
        return Err(http_error(
            api,
            status,
            envelope.errmsg,
            envelope.request_id,
        ));
    }
    let errcode = envelope.errcode.as_ref().and_then(as_i64).unwrap_or(0);
    if errcode != 0 {
        let sub_code = envelope
            .sub_code
            .as_ref()
            .map(as_text)
            .filter(|s| !s.is_empty());
        let sub_msg = envelope.sub_msg.unwrap_or_default();
        return Err(DingTalkError {
            api,
            kind: classify_errcode(api, errcode, sub_code.as_deref(), &sub_msg),
            code: errcode.to_string(),
            message: format!("{} {}", envelope.errmsg.unwrap_or_default(), sub_msg)
                .trim()
                .to_owned(),
            request_id: envelope.request_id,
            not_sent: false,
        });
    }
    if envelope.success == Some(false) {
        return Err(DingTalkError {
            request_id: envelope.request_id,
            ..DingTalkError::rejected(api, "success_false", envelope.errmsg.unwrap_or_default())
        });
    }
    payload(api, body)
}

fn decode_api<T: DeserializeOwned>(
    api: Api,
    status: StatusCode,
    body: &[u8],
) -> Result<T, DingTalkError> {
    if status.is_success() {
        // A 2xx can still say no: `success` false (group/update) or "false"
        // (subAdministrators, which sends it as a string).
        #[derive(Deserialize)]
        struct Verdict {
            #[serde(default)]
            success: Option<Value>,
        }
        let refused = serde_json::from_slice::<Verdict>(body).is_ok_and(|v| {
            matches!(&v.success, Some(Value::Bool(false)))
                || matches!(&v.success, Some(Value::String(s)) if s == "false")
        });
        if refused {
            return Err(DingTalkError::rejected(
                api,
                "success_false",
                "success was not true",
            ));
        }
        return payload(api, body);
    }
    let err: ApiErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = err.code.unwrap_or_default();
    let kind = if matches!(api, Api::OAuthToken) && status.is_client_error() {
        ErrorKind::Credentials
    } else if api == Api::StreamOpen && matches!(status.as_u16(), 400 | 401 | 403) {
        // The gateway checks clientId and clientSecret itself.
        ErrorKind::Credentials
    } else if status == StatusCode::UNAUTHORIZED || code == "InvalidAuthentication" {
        ErrorKind::TokenInvalid
    } else if status == StatusCode::FORBIDDEN {
        classify_forbidden(&code)
    } else {
        classify_code(&code).unwrap_or_else(|| status_kind(status))
    };
    Err(DingTalkError {
        api,
        kind,
        code: if code.is_empty() {
            format!("http_{}", status.as_u16())
        } else {
            code
        },
        message: err.message.unwrap_or_default(),
        request_id: err.requestid,
        not_sent: false,
    })
}

fn payload<T: DeserializeOwned>(api: Api, body: &[u8]) -> Result<T, DingTalkError> {
    serde_json::from_slice(body).map_err(|e| DingTalkError::rejected(api, "decode", e.to_string()))
}

fn http_error(
    api: Api,
    status: StatusCode,
    message: Option<String>,
    request_id: Option<String>,
) -> DingTalkError {
    DingTalkError {
        api,
        kind: if status == StatusCode::FORBIDDEN {
            ErrorKind::Throttled
        } else {
            status_kind(status)
        },
        code: format!("http_{}", status.as_u16()),
        message: message.unwrap_or_else(|| status.to_string()),
        request_id,
        not_sent: false,
    }
}

fn status_kind(status: StatusCode) -> ErrorKind {
    match status.as_u16() {
        429 => ErrorKind::Throttled,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Rejected,
    }
}

/// A 403 from a new-style API: throttling unless the code says otherwise.
fn classify_forbidden(code: &str) -> ErrorKind {
    if code.contains("ApiCountLimitForOrg") {
        ErrorKind::QuotaExhausted
    } else if code.contains("IpNotInWhiteList") {
        ErrorKind::IpNotWhitelisted
    } else if code.contains("AccessDenied") && !code.contains("Qps") {
        ErrorKind::NoPermission
    } else {
        ErrorKind::Throttled
    }
}

/// New-style codes of the group APIs (`group/update`, `subAdministrators`), whatever the
/// HTTP status they come with.
fn classify_code(code: &str) -> Option<ErrorKind> {
    Some(match code {
        "permession.checkFailed" | "permission.checkFailed" => ErrorKind::PermissionCheckFailed,
        "parameter.invalid" | "invalidParamter.role" => ErrorKind::InvalidParameter,
        "invalid.staffid" | "staff.not.found" => ErrorKind::UnknownUser,
        "subadmin.exceed" => ErrorKind::TooManyAdmins,
        "group.diaband" => ErrorKind::GroupDissolved,
        "invalidParameter.openConversationId.invalid" => ErrorKind::InvalidChatId,
        "system.error" => ErrorKind::Transient,
        _ => return None,
    })
}

/// Old-style errcodes, as DingTalk's global error-code page lists them
/// (open.dingtalk.com, 全局错误码): gettoken's own errors are about the credentials, except
/// a busy system (-1), a throttle (90002, 90018) and an egress IP off the whitelist (60020).
fn classify_errcode(api: Api, errcode: i64, sub_code: Option<&str>, sub_msg: &str) -> ErrorKind {
    if matches!(api, Api::GetToken) && !matches!(errcode, -1 | 90002 | 90018 | 60020) {
        return ErrorKind::Credentials;
    }
    match errcode {
        40014 | 42001 | 40001 | 33001 => ErrorKind::TokenInvalid,
        88 => match sub_code {
            None => ErrorKind::Transient,
            Some("60011") => ErrorKind::NoPermission,
            Some(_) if sub_msg.contains("access_token") => ErrorKind::TokenInvalid,
            Some(_) => ErrorKind::Rejected,
        },
        -1 | 15 | 400001 => ErrorKind::Transient,
        90002 | 90018 | 90019 | 130101 => ErrorKind::Throttled,
        90020 => ErrorKind::QuotaExhausted,
        43007 | 60011 => ErrorKind::NoPermission,
        60020 => ErrorKind::IpNotWhitelisted,
        34001 | 40016 => ErrorKind::InvalidChatId,
        41049 => ErrorKind::BannedContent,
        60124 => ErrorKind::NotMember,
        40003 => ErrorKind::UnknownUser,
        300001 => ErrorKind::SessionExpired,
        _ => ErrorKind::Rejected,
    }
}

/// A request that got no HTTP answer. reqwest's error text names the URL, whose query
/// holds the app secret (gettoken), an access token (`access_token`, TOP's `session`) or a
/// sessionWebhook's session: the URL is dropped and the causes kept ("connection refused",
/// "operation timed out", a TLS failure).
pub fn transport_error(api: Api, e: reqwest::Error) -> DingTalkError {
    let e = e.without_url();
    if super::outbound::out_of_files(&e) {
        let message = crate::telemetry::causes(&e);
        return super::outbound::local(api, "no_file_descriptor", &message);
    }
    let (code, not_sent) = if e.is_connect() {
        ("connect", true)
    } else if e.is_timeout() {
        ("timeout", false)
    } else {
        ("transport", false)
    };
    DingTalkError {
        api,
        kind: ErrorKind::Unreachable,
        code: code.into(),
        message: crate::telemetry::causes(&e),
        request_id: None,
        not_sent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Token {
        access_token: String,
    }

    fn oapi(api: Api, body: &str) -> Result<Value, DingTalkError> {
        decode(api, StatusCode::OK, body.as_bytes())
    }

    fn kind_of(api: Api, body: &str) -> ErrorKind {
        oapi(api, body).unwrap_err().kind
    }

    #[test]
    fn answers_that_do_not_decode_are_described_without_their_values() {
        assert_eq!(
            field_names(br#"{"ticket":"T","endpoint":1}"#),
            "[endpoint,ticket]"
        );
        assert_eq!(field_names(b"<html>ticket=T</html>"), "(not JSON)");
        assert_eq!(field_names(b"[1]"), "(JSON, not an object)");
        let e = decode::<Value>(Api::StreamOpen, StatusCode::OK, b"ticket=T-CANARY").unwrap_err();
        assert_eq!(
            e.message,
            "unusable gateway_connections_open answer (15 bytes)"
        );
    }

    #[test]
    fn success_decodes_the_payload() {
        let t: Token = decode(
            Api::GetToken,
            StatusCode::OK,
            br#"{"errcode":0,"errmsg":"ok","access_token":"abc","expires_in":7200}"#,
        )
        .unwrap();
        assert_eq!(t.access_token, "abc");
    }

    #[test]
    fn errcodes_are_classified() {
        let cases = [
            (
                r#"{"errcode":40014,"errmsg":"不合法的access_token"}"#,
                ErrorKind::TokenInvalid,
            ),
            (r#"{"errcode":"42001"}"#, ErrorKind::TokenInvalid),
            (
                r#"{"errcode":-1,"errmsg":"系统繁忙"}"#,
                ErrorKind::Transient,
            ),
            (r#"{"errcode":400001}"#, ErrorKind::Transient),
            (r#"{"errcode":88,"sub_code":""}"#, ErrorKind::Transient),
            (
                r#"{"errcode":88,"sub_code":"60011","sub_msg":"没有调用该接口的权限"}"#,
                ErrorKind::NoPermission,
            ),
            (r#"{"errcode":43007}"#, ErrorKind::NoPermission),
            (
                r#"{"errcode":60020,"errmsg":"访问ip不在白名单之中"}"#,
                ErrorKind::IpNotWhitelisted,
            ),
            (r#"{"errcode":34001}"#, ErrorKind::InvalidChatId),
            (r#"{"errcode":40016}"#, ErrorKind::InvalidChatId),
            (r#"{"errcode":90002}"#, ErrorKind::Throttled),
            (r#"{"errcode":90018}"#, ErrorKind::Throttled),
            (r#"{"errcode":90020}"#, ErrorKind::QuotaExhausted),
            (
                r#"{"errcode":300001,"errmsg":"session 不存在"}"#,
                ErrorKind::SessionExpired,
            ),
            (r#"{"errcode":49000}"#, ErrorKind::Rejected),
        ];
        for (body, want) in cases {
            assert_eq!(kind_of(Api::ChatGet, body), want, "{body}");
        }
    }

    #[test]
    fn success_false_is_an_error_even_with_errcode_zero() {
        let e = oapi(
            Api::FriendSwitch,
            r#"{"success":false,"errcode":0,"request_id":"r1"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Rejected);
        assert_eq!(e.request_id.as_deref(), Some("r1"));
    }

    #[test]
    fn gettoken_refusals_are_credential_problems() {
        assert_eq!(
            kind_of(Api::GetToken, r#"{"errcode":40089}"#),
            ErrorKind::Credentials
        );
        assert_eq!(
            kind_of(Api::GetToken, r#"{"errcode":40001}"#),
            ErrorKind::Credentials
        );
        assert_eq!(
            kind_of(Api::GetToken, r#"{"errcode":-1}"#),
            ErrorKind::Transient
        );
    }

    #[test]
    fn new_style_errors_use_status_and_code() {
        let err = |status: u16, body: &str| {
            decode::<Value>(
                Api::GroupSend,
                StatusCode::from_u16(status).unwrap(),
                body.as_bytes(),
            )
            .unwrap_err()
        };
        let e = err(
            400,
            r#"{"code":"InvalidAuthentication","message":"不合法的access_token","requestid":"q"}"#,
        );
        assert_eq!(
            (e.kind, e.code.as_str(), e.request_id.as_deref()),
            (ErrorKind::TokenInvalid, "InvalidAuthentication", Some("q"))
        );
        assert_eq!(err(401, "").kind, ErrorKind::TokenInvalid);
        assert_eq!(
            err(403, r#"{"code":"Forbidden.AccessDenied.QpsLimitForApi"}"#).kind,
            ErrorKind::Throttled
        );
        assert_eq!(
            err(
                403,
                r#"{"code":"Forbidden.AccessDenied.ApiCountLimitForOrg"}"#
            )
            .kind,
            ErrorKind::QuotaExhausted
        );
        assert_eq!(err(504, "gateway timeout").kind, ErrorKind::Transient);
        assert_eq!(err(504, "").code, "http_504");
        assert_eq!(
            err(400, r#"{"code":"invalidParameter.robotCode"}"#).kind,
            ErrorKind::Rejected
        );
    }

    #[test]
    fn top_answers_are_decoded() {
        #[derive(Debug, Deserialize)]
        struct Update {
            request_id: Option<String>,
        }
        let top =
            |body: &str| decode::<Update>(Api::ExtContactUpdate, StatusCode::OK, body.as_bytes());
        let ok = top(
            r#"{"dingtalk_corp_extcontact_update_response":{"result":{"ding_open_errcode":0,"error_msg":"成功","success":true},"request_id":"r1"}}"#,
        );
        assert_eq!(ok.unwrap().request_id.as_deref(), Some("r1"));
        let e = top(r#"{"dingtalk_corp_extcontact_update_response":{"result":{"ding_open_errcode":40000,"error_msg":"外部联系人不存在","success":false},"request_id":"r2"}}"#).unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str(), e.request_id.as_deref()),
            (ErrorKind::Rejected, "40000", Some("r2"))
        );
        let e = top(r#"{"error_response":{"code":50,"msg":"Remote service error","sub_code":"isv.invalid-parameter","sub_msg":"非法参数","request_id":"r3"}}"#).unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Rejected, "top_50:isv.invalid-parameter")
        );
        let e = top(r#"{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isp.top-remote-connection-timeout"}}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Transient);
        let e = top(r#"{"error_response":{"code":27,"msg":"Invalid session"}}"#).unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::TokenInvalid, "top_27")
        );
        let e = top(r#"{"dingtalk_corp_extcontact_update_response":{"result":{"ding_open_errcode":60011,"success":false}}}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::NoPermission);
        assert_eq!(top("<xml/>").unwrap_err().kind, ErrorKind::Rejected);
    }

    #[test]
    fn a_new_style_2xx_saying_success_false_is_a_refusal() {
        let ok = |body: &str| decode::<Value>(Api::GroupUpdate, StatusCode::OK, body.as_bytes());
        assert!(ok(r#"{"success":true}"#).is_ok());
        assert!(ok(r#"{"success":"true"}"#).is_ok());
        assert!(
            ok(r#"{"processQueryKey":"k"}"#).is_ok(),
            "no verdict is no refusal"
        );
        for refused in [r#"{"success":false}"#, r#"{"success":"false"}"#] {
            assert_eq!(ok(refused).unwrap_err().code, "success_false", "{refused}");
        }
    }

    #[test]
    fn group_api_codes_are_classified() {
        let api = |status: u16, code: &str| {
            let body = format!(r#"{{"code":"{code}","message":"m","requestid":"r"}}"#);
            decode::<Value>(
                Api::GroupUpdate,
                StatusCode::from_u16(status).unwrap(),
                body.as_bytes(),
            )
            .unwrap_err()
            .kind
        };
        assert_eq!(
            api(400, "permession.checkFailed"),
            ErrorKind::PermissionCheckFailed
        );
        assert_eq!(api(400, "parameter.invalid"), ErrorKind::InvalidParameter);
        assert_eq!(api(400, "subadmin.exceed"), ErrorKind::TooManyAdmins);
        assert_eq!(api(400, "staff.not.found"), ErrorKind::UnknownUser);
        assert_eq!(api(500, "system.error"), ErrorKind::Transient);
        assert_eq!(api(400, "something.else"), ErrorKind::Rejected);
        for (errcode, want) in [
            (41049, ErrorKind::BannedContent),
            (60124, ErrorKind::NotMember),
            (40003, ErrorKind::UnknownUser),
        ] {
            let body = format!(r#"{{"errcode":{errcode},"errmsg":"x"}}"#);
            assert_eq!(kind_of(Api::GroupNick, &body), want, "{errcode}");
        }
    }

    #[test]
    fn oauth_refusal_is_a_credential_problem() {
        let e = decode::<Value>(
            Api::OAuthToken,
            StatusCode::BAD_REQUEST,
            br#"{"code":"invalidClientSecret"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Credentials);
    }

    #[test]
    fn oapi_5xx_is_transient_and_undecodable_success_is_rejected() {
        let e = decode::<Value>(Api::ChatGet, StatusCode::BAD_GATEWAY, b"<html>").unwrap_err();
        assert_eq!(
            (e.kind, e.code.as_str()),
            (ErrorKind::Transient, "http_502")
        );
        let e = decode::<Token>(Api::GetToken, StatusCode::OK, br#"{"errcode":0}"#).unwrap_err();
        assert_eq!((e.kind, e.code.as_str()), (ErrorKind::Rejected, "decode"));
    }
}
