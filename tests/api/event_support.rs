//! What the group-event tests share: the push secrets and DingTalk's side of the
//! encryption, pushing an event over HTTP or Stream and reading its acknowledgement, and
//! what the sample group shows afterwards.

use qunguan::crypto::{EventCrypto, EventSecrets};
use qunguan_simulator::SimEvent;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::*;

/// The test app's event push secrets (the aes_key is DingTalk's sample key).
pub const EVENT_TOKEN: &str = "tokenxxxx";
pub const EVENT_AES_KEY: &str = "o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus";

/// Settings that turn the HTTP event push on.
pub const EVENT_SETTINGS: [(&str, &str); 2] = [
    ("DINGTALK_EVENT_TOKEN", EVENT_TOKEN),
    ("DINGTALK_EVENT_AES_KEY", EVENT_AES_KEY),
];

/// DingTalk's side of the push, for the app `owner`.
pub fn dingtalk_crypto(owner: &str) -> EventCrypto {
    let secrets = EventSecrets::new(
        SecretString::from(EVENT_TOKEN.to_owned()),
        &SecretString::from(EVENT_AES_KEY.to_owned()),
    )
    .unwrap();
    EventCrypto::new(&secrets, owner)
}

/// `body` encrypted for `owner` and POSTed to `events_url` as DingTalk pushes it.
pub async fn push_to(
    app: &TestApp,
    events_url: &str,
    body: &Value,
    owner: &str,
) -> reqwest::Response {
    let (query, body) = dingtalk_crypto(owner).push(&body.to_string(), qunguan::clock::now_ms());
    app.http
        .post(format!("{events_url}?{query}"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `body` pushed to the app's `/events` for `owner`.
pub async fn push(app: &TestApp, body: &Value, owner: &str) -> reqwest::Response {
    push_to(app, &app.url("/events"), body, owner).await
}

/// Pushes `event` over HTTP and expects DingTalk's `success`, encrypted and signed.
pub async fn push_http(app: &TestApp, event: &SimEvent) {
    let response = push(app, &event.http_body(), APP_KEY).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let crypto = dingtalk_crypto(APP_KEY);
    let (signature, ts, nonce, encrypt) = (
        answer["msg_signature"].as_str().unwrap(),
        answer["timeStamp"].as_str().unwrap(),
        answer["nonce"].as_str().unwrap(),
        answer["encrypt"].as_str().unwrap(),
    );
    assert!(crypto.verify(signature, ts, nonce, encrypt), "{answer}");
    assert_eq!(crypto.decrypt(encrypt).unwrap(), "success");
}

/// Pushes `event` over Stream and returns the `status` its acknowledgement carries.
pub async fn push_stream(app: &TestApp, event: &SimEvent) -> String {
    let id = app.fake.sim().push_event(event).expect("a connection");
    acked(app, &id).await
}

/// The `status` of the acknowledgement of the event the simulated client pushed over
/// Stream when it made `event` happen.
pub async fn pushed_by_the_client(app: &TestApp, event: &SimEvent) -> String {
    let id = event.pushed_as.as_deref().expect("pushed over Stream");
    acked(app, id).await
}

/// The `status` of the acknowledgement of the EVENT frame `message_id`, once it comes.
pub async fn acked(app: &TestApp, message_id: &str) -> String {
    let ack = wait_ack(app, message_id).await;
    assert_eq!(ack["code"], 200, "{ack}");
    let data: Value = serde_json::from_str(ack["data"].as_str().unwrap()).unwrap();
    data["status"].as_str().unwrap().to_owned()
}

/// An event about the sample group, with both its ids and `fields`.
pub fn sample_event(event_type: &str, fields: Value) -> SimEvent {
    let mut data = json!({"chatId": CHAT, "openConversationId": CID, "corpId": "dingsim"});
    if let (Some(data), Value::Object(fields)) = (data.as_object_mut(), fields) {
        data.extend(fields);
    }
    SimEvent::new(event_type, data)
}

/// Whether the sample group is bound, as a member's `/info` shows.
pub async fn bound(app: &TestApp) -> bool {
    !app.say(MEMBER, "/info").await.contains("not bound")
}

/// The welcomes sent to the sample group.
pub fn welcomes(app: &TestApp) -> Vec<String> {
    app.fake
        .requests_to("/v1.0/robot/groupMessages/send")
        .iter()
        .map(|r| r.json())
        .filter(|b| b["openConversationId"] == CID)
        .map(|b| {
            let param: Value = serde_json::from_str(b["msgParam"].as_str().unwrap()).unwrap();
            param["text"].as_str().unwrap().to_owned()
        })
        .collect()
}
