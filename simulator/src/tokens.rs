//! Both token endpoints, and checking the tokens other APIs are called with.

use axum::{http::StatusCode, response::Response};
use serde_json::json;

use super::{Request, Simulator, api_error, json_ok, lock, oapi_error};

/// One kind of access token: the one now valid, if any, and how many were issued.
pub(super) struct Token {
    prefix: &'static str,
    issued: u32,
    valid: Option<String>,
}

impl Token {
    pub(super) fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            issued: 0,
            valid: None,
        }
    }

    /// The valid token, or a new one. Within its life the same token comes back, as
    /// DingTalk's gettoken does (it returns the valid token and extends its life).
    fn current(&mut self) -> String {
        if self.valid.is_none() {
            self.issued += 1;
            self.valid = Some(format!("{}-{}", self.prefix, self.issued));
        }
        self.valid.clone().unwrap_or_default()
    }

    fn accepts(&self, given: Option<&str>) -> bool {
        self.valid.is_some() && given == self.valid.as_deref()
    }

    pub(super) fn revoke(&mut self) {
        self.valid = None;
    }
}

impl Simulator {
    pub(super) fn credentials_ok(&self, key: Option<&str>, secret: Option<&str>) -> bool {
        match &*lock(&self.inner.credentials) {
            Some((k, s)) => key == Some(k) && secret == Some(s),
            None => true,
        }
    }

    pub(super) fn gettoken(&self, r: &Request) -> Response {
        if !self.credentials_ok(r.query("appkey"), r.query("appsecret")) {
            return oapi_error(40089, "不合法的appKey或appSecret");
        }
        let token = lock(&self.inner.oapi_token).current();
        json_ok(json!({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}))
    }

    pub(super) fn oauth2_token(&self, r: &Request) -> Response {
        let body = r.json();
        if !self.credentials_ok(body["appKey"].as_str(), body["appSecret"].as_str()) {
            return api_error(
                StatusCode::BAD_REQUEST,
                "invalidClientIdOrSecret",
                "无效的clientId或者clientSecret",
            );
        }
        let token = lock(&self.inner.api_token).current();
        json_ok(json!({"accessToken": token, "expireIn": 7200}))
    }

    pub(super) fn oapi_token_ok(&self, given: Option<&str>) -> bool {
        lock(&self.inner.oapi_token).accepts(given)
    }

    pub(super) fn api_token_ok(&self, given: Option<&str>) -> bool {
        lock(&self.inner.api_token).accepts(given)
    }
}
