//! The simulator's own answers where they go beyond what the end-to-end tests exercise:
//! credentials, sessions, and the send APIs' checks.

use axum::{
    body::Bytes,
    http::{HeaderMap, Method, Uri},
};
use serde_json::{Value, json};

use super::{Destination, Request, Simulator};

/// The simulator's status and JSON answer to `method uri` with `headers` and `body`.
async fn call(
    sim: &Simulator,
    method: Method,
    uri: &str,
    headers: &HeaderMap,
    body: Option<Value>,
) -> (u16, Value) {
    let uri: Uri = uri.parse().unwrap();
    let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
    let response = sim.answer(&Request::new(method, &uri, headers.clone(), body));
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn get(sim: &Simulator, uri: &str) -> Value {
    call(sim, Method::GET, uri, &HeaderMap::new(), None).await.1
}

async fn post(sim: &Simulator, uri: &str, headers: &HeaderMap, body: Value) -> (u16, Value) {
    call(sim, Method::POST, uri, headers, Some(body)).await
}

/// Headers carrying a fresh new-style token.
async fn api_token(sim: &Simulator) -> HeaderMap {
    let credentials = json!({"appKey": "k", "appSecret": "s"});
    let (_, token) = post(
        sim,
        "/v1.0/oauth2/accessToken",
        &HeaderMap::new(),
        credentials,
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
    let wrong = get(&sim, "/gettoken?appkey=k&appsecret=x").await;
    assert_eq!(wrong["errcode"], 40089);
    let first = get(&sim, "/gettoken?appkey=k&appsecret=s").await;
    let again = get(&sim, "/gettoken?appkey=k&appsecret=s").await;
    assert_eq!(first["access_token"], again["access_token"]);
    sim.revoke_tokens();
    let renewed = get(&sim, "/gettoken?appkey=k&appsecret=s").await;
    assert_ne!(first["access_token"], renewed["access_token"]);
    let wrong_secret = json!({"appKey": "k", "appSecret": "x"});
    let (status, _) = post(
        &sim,
        "/v1.0/oauth2/accessToken",
        &HeaderMap::new(),
        wrong_secret,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_webhook_takes_open_sessions_only_and_publishes_what_it_takes() {
    let sim = Simulator::new();
    let mut outbox = sim.subscribe();
    let none = HeaderMap::new();
    let webhook = "/robot/sendBySession?session=s1";
    let message = json!({"msgtype": "markdown", "markdown": {"title": "t", "text": "hi @u1"},
                         "at": {"atUserIds": ["u1"]}});
    let (_, unknown) = post(&sim, webhook, &none, message.clone()).await;
    assert_eq!(unknown["errcode"], 300001);
    sim.open_session("s1");
    let (_, bad) = post(&sim, webhook, &none, json!({"msgtype": "markdown"})).await;
    assert_ne!(
        bad["errcode"], 0,
        "a markdown message without text is refused"
    );
    let (_, ok) = post(&sim, webhook, &none, message).await;
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
    let token = api_token(&sim).await;
    let send = "/v1.0/robot/groupMessages/send";
    let param = json!({"title": "t", "text": "x"});
    let message = |cid: &str, param: Value| json!({"robotCode": "r", "openConversationId": cid, "msgKey": "sampleMarkdown", "msgParam": param});
    let as_string = json!(param.to_string());

    let (status, body) = post(&sim, send, &token, message("cidOther==", as_string.clone())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid.openConversationId"))
    );
    let (status, body) = post(&sim, send, &token, message("cid1==", param.clone())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalidParameter.msgParam.invalid"))
    );
    let (status, _) = post(
        &sim,
        send,
        &HeaderMap::new(),
        message("cid1==", as_string.clone()),
    )
    .await;
    assert_eq!(status, 401, "no token");
    let (status, _) = post(&sim, send, &token, message("cid1==", as_string)).await;
    assert_eq!(status, 200);
    assert_eq!(
        outbox.try_recv().unwrap().to,
        Destination::Group("cid1==".into())
    );
}

#[tokio::test]
async fn group_update_behaves_as_documented() {
    let sim = Simulator::new();
    sim.add_group("chat1", "cid1", "g", "boss", &["boss", "a", "b"]);
    let headers = api_token(&sim).await;
    let update = |body: Value| post(&sim, "/v1.0/im/group/update", &headers, body);
    // Settings without showHistoryType: the others change, history is hidden.
    let (status, _) =
        update(json!({"chatid": "chat1", "managementOptions": {"chatBannedType": 1}})).await;
    assert_eq!(status, 200);
    let info = sim.group("chat1").unwrap().info;
    assert_eq!(
        (
            info["chatBannedType"].clone(),
            info["showHistoryType"].clone()
        ),
        (json!(1), json!(0))
    );
    assert_eq!(info["searchable"], 1, "a setting not sent is kept");
    let refused = [
        json!({"chatid": "chat1", "del_useridlist": ["boss"]}),
        json!({"chatid": "chat1", "del_useridlist": ["stranger"]}),
        json!({"chatid": "chat1", "owner": "stranger"}),
        json!({"chatid": "chat1", "name": "x".repeat(21)}),
        json!({"chatid": "chat1", "add_useridlist": (0..41).map(|i| format!("u{i}")).collect::<Vec<_>>()}),
        json!({"chatid": "chat1", "add_useridlist": ["c"], "del_useridlist": ["c"]}),
        json!({"chatid": "nochat"}),
    ];
    for body in refused {
        let (status, answer) = update(body.clone()).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (400, Some("parameter.invalid")),
            "{body}"
        );
    }
    assert_eq!(
        sim.group("chat1").unwrap().info["useridlist"],
        json!(["boss", "a", "b"])
    );
    let (status, _) =
        update(json!({"chatid": "chat1", "owner": "a", "del_useridlist": ["b"]})).await;
    assert_eq!(status, 200);
    let info = sim.group("chat1").unwrap().info;
    assert_eq!(
        (info["owner"].clone(), info["useridlist"].clone()),
        (json!("a"), json!(["boss", "a"]))
    );
}
