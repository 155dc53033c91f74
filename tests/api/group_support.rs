//! What the group-administration tests share: the six settings as the fake holds them,
//! messages that @mention members, confirmation codes, and "nothing was changed".

use serde_json::{Value, json};

use crate::helpers::*;

/// chat/get's six switches.
pub use qunguan_simulator::SETTINGS as SIX;

/// The DingTalk APIs that change a group.
pub const CHANGING: [&str; 4] = [
    "/v1.0/im/group/update",
    "/v1.0/im/subAdministrators",
    "/topapi/chat/updategroupnick",
    "/topapi/chat/member/friendswitch/update",
];

/// The sample group's six switches now, in the fake.
pub fn six(app: &TestApp) -> Value {
    let info = app.fake.group(CHAT).info;
    Value::Object(
        SIX.iter()
            .map(|k| (k.to_string(), info[*k].clone()))
            .collect(),
    )
}

/// `before` with `key` set to `value`: what a change of one setting must leave.
pub fn with(before: &Value, key: &str, value: i64) -> Value {
    let mut expected = before.clone();
    expected[key] = json!(value);
    expected
}

/// The sample group's members now, in the fake.
pub fn members(app: &TestApp) -> Vec<String> {
    serde_json::from_value(app.fake.group(CHAT).info["useridlist"].clone()).unwrap()
}

/// The bodies qunguan sent to group/update.
pub fn updates(app: &TestApp) -> Vec<Value> {
    app.fake
        .requests_to("/v1.0/im/group/update")
        .iter()
        .map(|r| r.json())
        .collect()
}

/// Sends `text` as `sender` with these members @mentioned (after the bot), and returns
/// the reply's text.
pub async fn say_mentioning(app: &TestApp, sender: &str, text: &str, staff: &[&str]) -> String {
    let mut body = app.group_message(sender, text);
    let at = body["atUsers"].as_array_mut().unwrap();
    for (i, id) in staff.iter().enumerate() {
        at.push(json!({"dingtalkId": format!("$:LWCP_v1:$member{i}"), "staffId": id}));
    }
    reply_text(&app.ask(&body).await)
}

/// The code in a reply that asks for `/confirm <code>`.
pub fn confirm_code(reply: &str) -> String {
    let at = reply
        .find("/confirm ")
        .unwrap_or_else(|| panic!("no code in {reply}"));
    reply[at + "/confirm ".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

/// Once every command has finished: no API that changes a group was called.
pub async fn assert_nothing_changed(app: &TestApp) {
    app.settle().await;
    for path in CHANGING {
        assert_eq!(app.fake.count(path), 0, "{path} was called");
    }
}

/// Sends `message` (to the first replica) while the next chat/get answers only after
/// 400 ms, and returns once that chat/get has arrived: a second command sent then runs
/// while the first waits for the group's settings.
pub async fn send_with_slow_chat_get(app: &TestApp, message: &Value) {
    let before = app.fake.group(CHAT).info;
    app.fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": 0, "errmsg": "ok", "chat_info": before}),
        std::time::Duration::from_millis(400),
    );
    assert!(app.post_callback(message).await.status().is_success());
    app.fake
        .wait_until(
            "the first chat/get",
            std::time::Duration::from_secs(5),
            |rs| rs.iter().any(|r| r.path == "/chat/get"),
        )
        .await;
}
