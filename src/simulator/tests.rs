//! The simulator's own answers where they go beyond what the end-to-end tests exercise:
//! credentials, sessions, and the send APIs' checks.

use axum::{
    body::Bytes,
    http::{HeaderMap, Method, Uri},
};
use serde_json::{Value, json};

use super::{Destination, Request, Simulator};

async fn call(
    sim: &Simulator,
    method: Method,
    uri: &str,
    headers: HeaderMap,
    body: Value,
) -> (u16, Value) {
    let uri: Uri = uri.parse().unwrap();
    let body = if body.is_null() {
        Bytes::new()
    } else {
        Bytes::from(body.to_string())
    };
    let response = sim.answer(&Request::new(method, &uri, headers, body));
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn api_token(sim: &Simulator) -> HeaderMap {
    let (_, token) = call(
        sim,
        Method::POST,
        "/v1.0/oauth2/accessToken",
        HeaderMap::new(),
        json!({"appKey": "k", "appSecret": "s"}),
    )
    .await;
    let mut headers = HeaderMap::new();
    let token = token["accessToken"].as_str().unwrap();
    headers.insert("x-acs-dingtalk-access-token", token.parse().unwrap());
    headers
}

#[tokio::test]
async fn tokens_need_the_app_credentials_and_stay_the_same_while_valid() {
    let sim = Simulator::new();
    sim.require_credentials("k", "s");
    let (_, wrong) = call(
        &sim,
        Method::GET,
        "/gettoken?appkey=k&appsecret=x",
        HeaderMap::new(),
        Value::Null,
    )
    .await;
    assert_eq!(wrong["errcode"], 40089);
    let (_, first) = call(
        &sim,
        Method::GET,
        "/gettoken?appkey=k&appsecret=s",
        HeaderMap::new(),
        Value::Null,
    )
    .await;
    let (_, again) = call(
        &sim,
        Method::GET,
        "/gettoken?appkey=k&appsecret=s",
        HeaderMap::new(),
        Value::Null,
    )
    .await;
    assert_eq!(first["access_token"], again["access_token"]);
    sim.revoke_tokens();
    let (_, renewed) = call(
        &sim,
        Method::GET,
        "/gettoken?appkey=k&appsecret=s",
        HeaderMap::new(),
        Value::Null,
    )
    .await;
    assert_ne!(first["access_token"], renewed["access_token"]);
    let (status, _) = call(
        &sim,
        Method::POST,
        "/v1.0/oauth2/accessToken",
        HeaderMap::new(),
        json!({"appKey": "k", "appSecret": "x"}),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_webhook_takes_open_sessions_only_and_publishes_what_it_takes() {
    let sim = Simulator::new();
    let mut outbox = sim.subscribe();
    let message = json!({"msgtype": "markdown", "markdown": {"title": "t", "text": "hi @u1"},
                         "at": {"atUserIds": ["u1"]}});
    let (_, unknown) = call(
        &sim,
        Method::POST,
        "/robot/sendBySession?session=s1",
        HeaderMap::new(),
        message.clone(),
    )
    .await;
    assert_eq!(unknown["errcode"], 300001);
    sim.open_session("s1");
    let (_, bad) = call(
        &sim,
        Method::POST,
        "/robot/sendBySession?session=s1",
        HeaderMap::new(),
        json!({"msgtype": "markdown"}),
    )
    .await;
    assert_ne!(
        bad["errcode"], 0,
        "a markdown message without text is refused"
    );
    let (_, ok) = call(
        &sim,
        Method::POST,
        "/robot/sendBySession?session=s1",
        HeaderMap::new(),
        message,
    )
    .await;
    assert_eq!(ok["errcode"], 0);
    let delivered = outbox.try_recv().unwrap();
    assert_eq!(delivered.to, Destination::Session("s1".into()));
    assert_eq!(
        (delivered.title.as_str(), delivered.text.as_str()),
        ("t", "hi @u1")
    );
    assert_eq!(delivered.at_user_ids, ["u1"]);
    assert!(
        outbox.try_recv().is_err(),
        "refused messages are not published"
    );
}

#[tokio::test]
async fn the_group_send_wants_a_known_group_and_msg_param_as_a_json_string() {
    let sim = Simulator::new();
    sim.add_group("chat1", "cid1==", "g", "o", &["o"]);
    let mut outbox = sim.subscribe();
    let headers = api_token(&sim).await;
    let send = |cid: &str, param: Value| json!({"robotCode": "r", "openConversationId": cid, "msgKey": "sampleMarkdown", "msgParam": param});
    let param = json!({"title": "t", "text": "x"});
    let path = "/v1.0/robot/groupMessages/send";
    let (status, body) = call(
        &sim,
        Method::POST,
        path,
        headers.clone(),
        send("cidOther==", json!(param.to_string())),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid.openConversationId"))
    );
    let (status, body) = call(
        &sim,
        Method::POST,
        path,
        headers.clone(),
        send("cid1==", param.clone()),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalidParameter.msgParam.invalid"))
    );
    let (status, _) = call(
        &sim,
        Method::POST,
        path,
        HeaderMap::new(),
        send("cid1==", json!(param.to_string())),
    )
    .await;
    assert_eq!(status, 401, "no token");
    let (status, _) = call(
        &sim,
        Method::POST,
        path,
        headers,
        send("cid1==", json!(param.to_string())),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        outbox.try_recv().unwrap().to,
        Destination::Group("cid1==".into())
    );
}
