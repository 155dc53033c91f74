//! TOP gateway answers (`eco.taobao.com/router/rest`): `error_response` for protocol errors,
//! `<method>_response.result.success` for business outcomes.

use reqwest::StatusCode;
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::Value;

use super::{as_i64, classify_errcode, http_error};
use crate::dingtalk::error::{Api, DingTalkError, ErrorKind};

/// The TOP gateway's protocol error.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TopError {
    code: Option<Value>,
    msg: Option<String>,
    sub_code: Option<String>,
    sub_msg: Option<String>,
    request_id: Option<String>,
}

/// A TOP business result (`<method>_response.result`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TopResult {
    ding_open_errcode: Option<Value>,
    error_msg: Option<String>,
    success: Option<bool>,
}

/// TOP answers `{"error_response": {…}}` for protocol errors, and
/// `{"<method>_response": {"result": {…success…}, "request_id": …}}` otherwise. On success
/// the `<method>_response` object is decoded into `T`.
pub(super) fn decode<T: DeserializeOwned>(
    api: Api,
    status: StatusCode,
    body: &[u8],
) -> Result<T, DingTalkError> {
    if !status.is_success() {
        return Err(http_error(api, status, None, None));
    }
    let root: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if let Some(raw) = root.get("error_response") {
        let e: TopError = serde_json::from_value(raw.clone()).unwrap_or_default();
        let code = e.code.as_ref().and_then(as_i64).unwrap_or(0);
        let sub_code = e.sub_code.unwrap_or_default();
        return Err(DingTalkError {
            api,
            kind: classify_top(code, &sub_code),
            code: if sub_code.is_empty() {
                format!("top_{code}")
            } else {
                format!("top_{code}:{sub_code}")
            },
            message: format!(
                "{} {}",
                e.msg.unwrap_or_default(),
                e.sub_msg.unwrap_or_default()
            )
            .trim()
            .to_owned(),
            request_id: e.request_id,
            not_sent: false,
        });
    }
    let response = root
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.ends_with("_response")))
        .map(|(_, v)| v.clone())
        .unwrap_or(Value::Null);
    let result: TopResult = response
        .get("result")
        .cloned()
        .map(serde_json::from_value)
        .and_then(Result::ok)
        .unwrap_or_default();
    if result.success != Some(true) {
        // No result at all (not JSON, or another shape) is refused as "missing".
        let errcode = result
            .ding_open_errcode
            .as_ref()
            .and_then(as_i64)
            .unwrap_or(i64::MIN);
        return Err(DingTalkError {
            api,
            kind: classify_errcode(api, errcode, None, ""),
            code: if errcode == i64::MIN {
                "missing_result".into()
            } else {
                errcode.to_string()
            },
            message: result.error_msg.unwrap_or_default(),
            request_id: response
                .get("request_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            not_sent: false,
        });
    }
    serde_json::from_value(response)
        .map_err(|e| DingTalkError::rejected(api, "decode", e.to_string()))
}

/// TOP gateway codes (the TOP error-code page, developer.alibaba.com): 15 and a remote
/// timeout are transient, 26/27 mean a missing or invalid session (the access token), 7 is
/// a call limit.
fn classify_top(code: i64, sub_code: &str) -> ErrorKind {
    match code {
        _ if sub_code == "isp.top-remote-connection-timeout" => ErrorKind::Transient,
        15 => ErrorKind::Transient,
        26 | 27 => ErrorKind::TokenInvalid,
        7 => ErrorKind::Throttled,
        _ => ErrorKind::Rejected,
    }
}
