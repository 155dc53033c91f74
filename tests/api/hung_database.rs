//! A database that hangs (frozen: its connections open, nothing answering) costs each
//! store call at most `QUNGUAN_STORE_TIMEOUT_SECS`: callbacks get 503, frames are left
//! unacknowledged, `/readyz` says so at once, and the Stream connection goes on; when it
//! thaws, what was claimed meanwhile runs, once.

use std::time::{Duration, Instant};

use crate::{
    helpers::*,
    postgres::{Outage, fresh_database},
    replicas::wait_status,
};

/// A request that hangs fails the test rather than the run.
async fn bounded<T>(request: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), request)
        .await
        .expect("an answer within 10 s")
}

#[tokio::test]
async fn a_frozen_database_gets_503s_and_no_acks_within_the_deadline_and_nothing_runs_twice() {
    let (outage, url) = Outage::in_front_of(&fresh_database().await).await;
    let app = spawn_connected(&[
        ("QUNGUAN_DATABASE_URL", &url),
        ("QUNGUAN_MODE", "both"),
        ("QUNGUAN_STORE_TIMEOUT_SECS", "1"),
    ])
    .await;
    wait_status(&app, "/readyz", 200).await;
    outage.freeze(true);

    let started = Instant::now();
    let ready = bounded(app.http.get(app.url("/readyz")).send())
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    let over_http = app.group_message(MEMBER, "/help");
    let started = Instant::now();
    let response = bounded(app.post_callback(&over_http)).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    let over_stream = app.group_message(MEMBER, "/help");
    let frame = app.fake.sim().push_message(&over_stream).unwrap();
    // The reader is not waiting for the store: DingTalk's ping is answered meanwhile.
    let ping = app
        .fake
        .sim()
        .push_frame("SYSTEM", "ping", r#"{"opaque":"still-there"}"#)
        .unwrap();
    let pong = wait_ack(&app, &ping).await;
    assert_eq!(pong["data"], r#"{"opaque":"still-there"}"#, "{pong}");
    let unacked = r#"qunguan_stream_frames_unacknowledged_total{reason="unavailable"} 1"#;
    eventually("the frame left unacknowledged", async || {
        app.metrics().await.contains(unacked)
    })
    .await;
    assert!(ack_of(&app, &frame).is_none(), "not acknowledged");
    assert_eq!(
        app.fake.sim().stream_links().open,
        1,
        "the connection stays"
    );

    outage.freeze(false);
    wait_status(&app, "/readyz", 200).await;
    // Both claims landed once the database thawed: each message runs once, and DingTalk's
    // deliveries of them again are repeats.
    for body in [&over_http, &over_stream] {
        let reply = app
            .fake
            .webhook_reply(body["msgId"].as_str().unwrap())
            .await;
        assert!(reply_text(&reply).contains("/help"), "{reply}");
    }
    assert!(app.post_callback(&over_http).await.status().is_success());
    let again = app.fake.sim().push_message(&over_stream).unwrap();
    wait_ack(&app, &again).await;
    app.settle().await;
    assert_eq!(
        app.fake.count("/robot/sendBySession"),
        2,
        "two messages, two replies"
    );
}
