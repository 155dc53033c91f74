//! Two replicas on one PostgreSQL database: one bot, however many processes.

use secrecy::SecretString;
use serde_json::Value;

use qunguan::{server::RunningServer, tools::signed};

use crate::{helpers::*, postgres::fresh_database};

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
    while other.app.worker.running() > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
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
