//! Two replicas on one PostgreSQL database: one bot, however many processes.

use secrecy::SecretString;
use serde_json::{Value, json};

use qunguan::{server::RunningServer, tools::signed};

use crate::{
    event_support::*,
    group_support::confirm_code,
    helpers::*,
    postgres::{Outage, fresh_database},
};

/// A qunguan on a fresh PostgreSQL database, and a second replica beside it.
async fn two_replicas() -> (TestApp, RunningServer) {
    let url = fresh_database().await;
    let app = spawn_app_with(&[("QUNGUAN_DATABASE_URL", &url)]).await;
    let other = app.replica().await;
    (app, other)
}

async fn post_to(app: &TestApp, replica: &RunningServer, body: &Value) -> reqwest::StatusCode {
    let url = format!("http://{}/callback", replica.addr);
    let secret = SecretString::from(SECRET.to_owned());
    signed::post(&app.http, &url, &secret, body)
        .await
        .unwrap()
        .status()
}

/// Sends `text` as `sender` through `replica` and returns the reply's text.
async fn say_via(app: &TestApp, replica: &RunningServer, sender: &str, text: &str) -> String {
    let body = app.group_message(sender, text);
    assert!(post_to(app, replica, &body).await.is_success());
    reply_text(
        &app.fake
            .webhook_reply(body["msgId"].as_str().unwrap())
            .await,
    )
}

async fn settle_both(app: &TestApp, other: &RunningServer) {
    app.settle().await;
    eventually("the other replica's commands", async || {
        other.app.worker.running() == 0
    })
    .await;
}

#[tokio::test]
async fn a_msg_id_runs_once_whichever_replica_gets_it_even_at_the_same_moment() {
    let (app, other) = two_replicas().await;
    for _ in 0..10 {
        let body = app.group_message(MEMBER, "/help");
        let (a, b) = tokio::join!(app.post_callback(&body), post_to(&app, &other, &body));
        assert!(a.status().is_success() && b.is_success());
    }
    settle_both(&app, &other).await;
    assert_eq!(
        app.fake.count("/robot/sendBySession"),
        10,
        "ten messages, ten replies"
    );
}

#[tokio::test]
async fn a_binding_made_through_one_replica_holds_on_the_other_at_once() {
    let (app, other) = two_replicas().await;
    app.bind_sample_group().await;
    let text = say_via(&app, &other, MEMBER, "/info").await;
    assert!(text.contains("chat0a1b2c3d"), "{text}");
    let text = say_via(&app, &other, ADMIN, "/unbind").await;
    assert!(text.contains("Unbound"), "{text}");
    let text = app.say(MEMBER, "/info").await;
    assert!(text.contains("not bound"), "{text}");
}

#[tokio::test]
async fn the_audit_and_a_pending_confirmation_are_shared() {
    let (app, other) = two_replicas().await;
    app.bind_sample_group().await;
    let text = app.say(ADMIN, &format!("/kick {MEMBER}")).await;
    let at = text.find("/confirm ").expect(&text) + "/confirm ".len();
    let code: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let text = say_via(&app, &other, ADMIN, &format!("/confirm {code}")).await;
    assert!(text.contains("Removed"), "{text}");
    let text = app.say(ADMIN, &format!("/confirm {code}")).await;
    assert!(text.contains("already confirmed"), "{text}");
    let audit = say_via(&app, &other, ADMIN, "/audit").await;
    assert!(
        audit.contains(&format!("`/kick {MEMBER}`: done")),
        "{audit}"
    );
    assert!(audit.contains("`/bind chat0a1b2c3d`: done"), "{audit}");
}

#[tokio::test]
async fn an_unreachable_database_at_start_up_exits_within_15_s_naming_the_setting() {
    let fake = crate::fake::FakeDingTalk::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "postgres://qunguan:s3cret-pw@127.0.0.1:{}/q",
        crate::process::closed_port()
    );
    let (mut child, _) =
        crate::process::spawn_binary(&fake, dir.path(), &[("QUNGUAN_DATABASE_URL", &url)]);
    let within = std::time::Duration::from_secs(15);
    eventually_within(within, "the binary to exit", async || {
        child.try_wait().unwrap().is_some()
    })
    .await;
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("QUNGUAN_DATABASE_URL"), "{stderr}");
    assert!(!stderr.contains("s3cret-pw"), "{stderr}");
}

#[tokio::test]
async fn a_msg_id_run_by_a_killed_replica_is_not_run_again_by_the_other() {
    let fake = crate::fake::FakeDingTalk::start().await;
    fake.add_group(CHAT, CID, OWNER, &[OWNER, MEMBER, ADMIN]);
    let url = fresh_database().await;
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let settings = [("QUNGUAN_DATABASE_URL", url.as_str())];
    let (mut first, first_base) = crate::process::spawn_binary(&fake, dirs.0.path(), &settings);
    let (second, second_base) = crate::process::spawn_binary(&fake, dirs.1.path(), &settings);
    crate::process::wait_healthy(&first_base).await;
    crate::process::wait_healthy(&second_base).await;
    let http = reqwest::Client::new();
    let body = crate::process::info_message(&fake);
    assert!(
        crate::process::post_signed(&http, &first_base, &body)
            .await
            .is_success()
    );
    fake.webhook_reply(body["msgId"].as_str().unwrap()).await;
    first.kill().unwrap();
    let _ = first.wait();
    // DingTalk delivers it again, to the replica that is left.
    assert!(
        crate::process::post_signed(&http, &second_base, &body)
            .await
            .is_success()
    );
    let help = crate::process::info_message(&fake);
    assert!(
        crate::process::post_signed(&http, &second_base, &help)
            .await
            .is_success()
    );
    fake.webhook_reply(help["msgId"].as_str().unwrap()).await;
    let replies_to_first = fake
        .requests_to("/robot/sendBySession")
        .iter()
        .filter(|r| r.query.get("session").map(String::as_str) == body["msgId"].as_str())
        .count();
    assert_eq!(
        replies_to_first, 1,
        "run once, by the replica that was killed"
    );
    let (status, log) =
        tokio::task::spawn_blocking(move || crate::process::sigterm_and_wait(second))
            .await
            .unwrap();
    assert!(status.success(), "{log}");
}

pub async fn wait_status(app: &TestApp, path: &str, want: u16) {
    eventually(&format!("{path} to answer {want}"), async || {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        response.status().as_u16() == want
    })
    .await;
}

#[tokio::test]
async fn while_the_database_is_down_callbacks_get_503_and_everything_resumes_by_itself() {
    let (outage, url) = Outage::in_front_of(&fresh_database().await).await;
    let app = spawn_app_with(&[("QUNGUAN_DATABASE_URL", &url)]).await;
    wait_status(&app, "/readyz", 200).await;
    outage.set(false);
    wait_status(&app, "/readyz", 503).await;
    let body = app.group_message(MEMBER, "/help");
    let response = app.post_callback(&body).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    let ready = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!ready.contains("qunguan:qunguan"), "{ready}");
    outage.set(true);
    wait_status(&app, "/readyz", 200).await;
    // DingTalk delivers it again: it runs now.
    let reply = app.ask(&body).await;
    assert!(reply_text(&reply).contains("/help"));
}

#[tokio::test]
async fn while_the_database_is_down_a_stream_frame_is_left_for_dingtalk_to_deliver_again() {
    let (outage, url) = Outage::in_front_of(&fresh_database().await).await;
    let app = spawn_connected(&[("QUNGUAN_DATABASE_URL", &url), ("QUNGUAN_MODE", "stream")]).await;
    outage.set(false);
    wait_status(&app, "/readyz", 503).await;
    let body = app.group_message(MEMBER, "/help");
    let id = app.fake.sim().push_message(&body).unwrap();
    let unacked = r#"qunguan_stream_frames_unacknowledged_total{reason="unavailable"} 1"#;
    eventually("the frame counted as unacknowledged", async || {
        app.metrics().await.contains(unacked)
    })
    .await;
    let acked = app
        .fake
        .sim()
        .upstream()
        .iter()
        .any(|f| f["headers"]["messageId"] == id);
    assert!(!acked, "not acknowledged, so DingTalk delivers it again");
    outage.set(true);
    wait_status(&app, "/readyz", 200).await;
    app.fake.sim().push_message(&body).unwrap();
    let reply = app
        .fake
        .webhook_reply(body["msgId"].as_str().unwrap())
        .await;
    assert!(reply_text(&reply).contains("/help"));
}

#[tokio::test]
async fn changes_to_one_group_through_two_replicas_at_the_same_moment_both_hold() {
    let (app, other) = two_replicas().await;
    app.bind_sample_group().await;
    // The first change's chat/get is slow: the second reaches the other replica meanwhile.
    let first = app.group_message(ADMIN, "/mute-all");
    crate::group_support::send_with_slow_chat_get(&app, &first).await;
    let second = app.group_message(ADMIN, "/set history off");
    assert!(post_to(&app, &other, &second).await.is_success());
    settle_both(&app, &other).await;
    let now = crate::group_support::six(&app);
    assert_eq!(now["chatBannedType"], 1, "{now}");
    assert_eq!(
        now["showHistoryType"], 0,
        "the mute through one replica must not send back the history it read before the /set through the other: {now}"
    );
}

#[tokio::test]
async fn two_replicas_on_postgresql_receiving_one_event_handle_it_once() {
    let url = fresh_database().await;
    let mut settings = EVENT_SETTINGS.to_vec();
    settings.push(("QUNGUAN_DATABASE_URL", &url));
    let app = spawn_app_with(&settings).await;
    let other = app.replica().await;
    app.bind_sample_group().await;
    say_via(&app, &other, ADMIN, "/welcome 欢迎 {name}").await;
    let event = sample_event(
        "chat_add_member",
        json!({"operator": OWNER, "userId": ["newbie9"]}),
    );
    let (body, other_events) = (event.http_body(), format!("http://{}/events", other.addr));
    let (a, b) = tokio::join!(
        push(&app, &body, APP_KEY),
        push_to(&app, &other_events, &body, APP_KEY),
    );
    assert!(
        a.status().is_success() && b.status().is_success(),
        "{a:?} {b:?}"
    );
    eventually("the welcome", async || !welcomes(&app).is_empty()).await;
    settle_both(&app, &other).await;
    assert_eq!(welcomes(&app), ["欢迎 newbie9"], "one event, one welcome");
    let audit = app.say(ADMIN, "/audit").await;
    assert_eq!(audit.matches("in DingTalk: added").count(), 1, "{audit}");
}

#[tokio::test]
async fn while_the_database_is_down_an_event_is_given_back_for_later() {
    let (outage, url) = Outage::in_front_of(&fresh_database().await).await;
    let app = spawn_connected(&[("QUNGUAN_DATABASE_URL", &url), ("QUNGUAN_MODE", "both")]).await;
    let event = sample_event("chat_update_title", json!({"title": "x"}));
    outage.set(false);
    wait_status(&app, "/readyz", 503).await;
    assert_eq!(push_stream(&app, &event).await, "LATER");
    outage.set(true);
    wait_status(&app, "/readyz", 200).await;
    // DingTalk pushes it again: now it binds the group.
    assert_eq!(push_stream(&app, &event).await, "SUCCESS");
    assert!(bound(&app).await);
}

#[tokio::test]
async fn a_second_transfer_confirmed_after_the_first_is_refused_to_the_former_owner() {
    let (app, other) = two_replicas().await;
    app.fake
        .add_group(CHAT, CID, OWNER, &[OWNER, MEMBER, ADMIN]);
    app.bind_sample_group().await;
    // The owner is an admin only because they own the group; the other replica has seen
    // them own it, and remembers chat/get for a few seconds.
    let first = say_via(&app, &other, OWNER, &format!("/transfer-owner {MEMBER}")).await;
    let second = say_via(&app, &other, OWNER, &format!("/transfer-owner {ADMIN}")).await;
    let (first, second) = (confirm_code(&first), confirm_code(&second));
    let text = app.say(OWNER, &format!("/confirm {first}")).await;
    assert!(
        text.contains(&format!("`{MEMBER}` now owns the group")),
        "{text}"
    );
    let text = say_via(&app, &other, OWNER, &format!("/confirm {second}")).await;
    // Refused by the admin check, which reads the owner fresh (and, were the ownership to
    // move between that check and the change, by /confirm's own check in the group's turn).
    assert!(!text.contains("now owns the group"), "{text}");
    assert!(text.contains("do not own this group"), "{text}");
    settle_both(&app, &other).await;
    assert_eq!(app.fake.group(CHAT).info["owner"], MEMBER);
    let owners: Vec<Value> = app
        .fake
        .requests_to("/v1.0/im/group/update")
        .iter()
        .map(|r| r.json()["owner"].clone())
        .collect();
    assert_eq!(owners, [json!(MEMBER)], "one transfer reached DingTalk");
}

#[tokio::test]
async fn a_former_owner_is_no_admin_on_a_replica_that_saw_them_own_the_group_a_moment_ago() {
    let (app, other) = two_replicas().await;
    app.bind_sample_group().await;
    // The owner looks at the group through the other replica, which now remembers them as
    // its owner; then the group passes to somebody else (in the DingTalk client, or through
    // the first replica).
    assert!(say_via(&app, &other, OWNER, "/info").await.contains(CHAT));
    app.fake.set_group_field(CHAT, "owner", json!(MEMBER));
    let text = say_via(&app, &other, OWNER, "/mute-all").await;
    assert!(text.contains("do not own this group"), "{text}");
    assert_eq!(app.fake.count("/v1.0/im/group/update"), 0);
    assert_eq!(app.fake.group(CHAT).info["chatBannedType"], 0);
}
