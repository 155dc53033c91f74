//! Both token endpoints, and checking the tokens other APIs are called with.

use axum::{http::StatusCode, response::Response};
use serde_json::json;

use super::{Request, Simulator, api_error, json_ok, lock, oapi_error};

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
        let mut t = lock(&self.inner.tokens);
        // Within its life the same token comes back (reference §3).
        let token = match &t.oapi_valid {
            Some(token) => token.clone(),
            None => {
                t.oapi_issued += 1;
                let token = format!("oapi-token-{}", t.oapi_issued);
                t.oapi_valid = Some(token.clone());
                token
            }
        };
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
        let mut t = lock(&self.inner.tokens);
        let token = match &t.api_valid {
            Some(token) => token.clone(),
            None => {
                t.api_issued += 1;
                let token = format!("api-token-{}", t.api_issued);
                t.api_valid = Some(token.clone());
                token
            }
        };
        json_ok(json!({"accessToken": token, "expireIn": 7200}))
    }

    pub(super) fn oapi_token_ok(&self, given: Option<&str>) -> bool {
        let t = lock(&self.inner.tokens);
        t.oapi_valid.is_some() && given == t.oapi_valid.as_deref()
    }

    pub(super) fn api_token_ok(&self, given: Option<&str>) -> bool {
        let t = lock(&self.inner.tokens);
        t.api_valid.is_some() && given == t.api_valid.as_deref()
    }
}
