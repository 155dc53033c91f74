//! Stream mode against the simulator's gateway: the open call, acknowledgements before
//! work, pings, make-before-break, reconnects, half-open sockets, duplicates, garbage,
//! routing and readiness, refused credentials, `both`, and SIGTERM.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{helpers::*, process::*};

const BOT_TOPIC: &str = "/v1.0/im/bot/messages/get";

async fn stream_app(extra: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![("QUNGUAN_MODE", "stream")];
    settings.extend_from_slice(extra);
    spawn_connected(&settings).await
}

/// Asserts that `/metrics` has `line`.
async fn assert_metric(app: &TestApp, line: &str) {
    let metrics = app.metrics().await;
    assert!(metrics.contains(line), "{line} missing from {metrics}");
}

fn replies(app: &TestApp) -> usize {
    app.fake.count("/robot/sendBySession")
}

#[tokio::test]
async fn the_open_call_carries_the_documented_fields() {
    let app = stream_app(&[]).await;
    let open = &app.fake.requests_to("/v1.0/gateway/connections/open")[0];
    assert_eq!(open.headers["content-type"], "application/json");
    assert_eq!(open.headers["accept"], "application/json");
    let body = open.json();
    assert_eq!(body["clientId"], APP_KEY);
    assert_eq!(body["clientSecret"], SECRET);
    assert_eq!(
        body["subscriptions"],
        json!([{"type": "CALLBACK", "topic": BOT_TOPIC}, {"type": "EVENT", "topic": "*"}])
    );
    assert!(
        body["ua"].as_str().unwrap().starts_with("qunguan/"),
        "{body}"
    );
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
}

#[tokio::test]
async fn a_message_is_acknowledged_before_its_slow_reply_and_answered() {
    let app = stream_app(&[]).await;
    let body = app.group_message(MEMBER, "/help");
    app.fake.script(
        "POST",
        "/robot/sendBySession",
        200,
        json!({"errcode": 0}),
        Duration::from_millis(1500),
    );
    let started = Instant::now();
    let id = app.fake.sim().push_message(&body).unwrap();
    let ack = wait_ack(&app, &id).await;
    let acked_after = started.elapsed();
    assert_eq!(
        ack,
        json!({"code": 200, "headers": {"messageId": id, "contentType": "application/json"},
               "message": "OK", "data": "{\"response\":null}"})
    );
    app.settle().await;
    assert!(
        acked_after < Duration::from_millis(1000),
        "acknowledged after {acked_after:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "the reply was slow"
    );
    assert_eq!(replies(&app), 1);
    assert_metric(
        &app,
        r#"qunguan_callbacks_total{transport="stream",outcome="accepted"} 1"#,
    )
    .await;
}

#[tokio::test]
async fn a_ping_is_answered_with_its_data() {
    let app = stream_app(&[]).await;
    let id = app
        .fake
        .sim()
        .push_frame("SYSTEM", "ping", r#"{"opaque":"123-dsfs"}"#)
        .unwrap();
    let ack = wait_ack(&app, &id).await;
    assert_eq!(
        (ack["code"].clone(), ack["data"].clone()),
        (json!(200), json!(r#"{"opaque":"123-dsfs"}"#))
    );
    let id = app
        .fake
        .sim()
        .push_frame("SYSTEM", "KEEPALIVE", "")
        .unwrap();
    assert_eq!(
        wait_ack(&app, &id).await["code"],
        200,
        "any SYSTEM frame with a messageId"
    );
    let id = app.fake.sim().push_frame("EVENT", "*", "{}").unwrap();
    assert_eq!(
        wait_ack(&app, &id).await["data"],
        r#"{"status":"SUCCESS","message":"OK"}"#
    );
}

#[tokio::test]
async fn garbage_frames_are_counted_and_the_connection_survives() {
    let app = stream_app(&[]).await;
    let sim = app.fake.sim();
    assert!(sim.push_raw("not json at all"));
    assert!(sim.push_raw(r#"{"type":"CALLBACK"}"#));
    assert!(sim.push_raw(r#"{"type":"CALLBACK","headers":{"topic":"x"}}"#));
    let undecodable = sim
        .push_frame("CALLBACK", BOT_TOPIC, "{not a body")
        .unwrap();
    let unknown_topic = sim
        .push_frame("CALLBACK", "/v1.0/card/instances/callback", "{}")
        .unwrap();
    sim.push_frame("NEWFANGLED", "x", "{}").unwrap();
    let huge = json!({"msgId": "m", "text": {"content": "x".repeat(70_000)}}).to_string();
    let too_large = sim.push_frame("CALLBACK", BOT_TOPIC, &huge).unwrap();
    wait_ack(&app, &undecodable).await;
    wait_ack(&app, &unknown_topic).await;
    wait_ack(&app, &too_large).await;
    let body = app.group_message(MEMBER, "/help");
    sim.push_message(&body).unwrap();
    let reply = reply_text(
        &app.fake
            .webhook_reply(body["msgId"].as_str().unwrap())
            .await,
    );
    assert!(reply.contains("/help"), "{reply}");
    assert_eq!(sim.stream_links().opened, 1, "never reconnected");
    let metrics = app.metrics().await;
    for reason in [
        "not_json",
        "no_headers",
        "no_message_id",
        "bad_data",
        "too_large",
        "unknown_topic",
        "unknown_type",
    ] {
        let line = format!(r#"qunguan_stream_frames_rejected_total{{reason="{reason}"}} 1"#);
        assert!(metrics.contains(&line), "{line} missing from {metrics}");
    }
}

#[tokio::test]
async fn a_disconnect_opens_the_next_connection_before_the_old_one_closes() {
    let app = stream_app(&[]).await;
    let sim = app.fake.sim();
    assert!(sim.disconnect(Duration::from_secs(3)));
    eventually("a second connection beside the first", async || {
        let links = sim.stream_links();
        links.opened == 2 && links.open == 2
    })
    .await;
    eventually("the old connection to close", async || {
        sim.stream_links().open == 1
    })
    .await;
    let body = app.group_message(MEMBER, "/help");
    sim.push_message(&body).unwrap();
    app.fake
        .webhook_reply(body["msgId"].as_str().unwrap())
        .await;
    assert_eq!(
        app.fake.count("/v1.0/gateway/connections/open"),
        2,
        "a fresh ticket"
    );
    assert_metric(
        &app,
        r#"qunguan_stream_reconnects_total{reason="disconnect"} 1"#,
    )
    .await;
}

/// A gateway that says `disconnect` twenty times a second for five seconds: one
/// replacement at a time, at most two connections (the current one and the one
/// draining), about a dial a second, and every message pushed meanwhile acknowledged once
/// and answered once.
#[tokio::test]
async fn a_disconnect_storm_keeps_two_connections_and_dials_about_once_a_second() {
    let app = stream_app(&[]).await;
    let sim = app.fake.sim();
    let before = sim.stream_links().opened;
    let mut pushed = Vec::new();
    let started = tokio::time::Instant::now();
    for i in 0..100 {
        // Every 50 ms from the start, so the storm lasts 5 s however slow a frame is.
        tokio::time::sleep_until(started + Duration::from_millis(50) * i).await;
        assert!(sim.disconnect(Duration::from_secs(3)));
        if i % 5 == 0 {
            let body = app.group_message(MEMBER, "/help");
            let frame = sim.push_message(&body).unwrap();
            pushed.push((frame, body["msgId"].as_str().unwrap().to_owned()));
        }
    }
    eventually("the storm to pass, one connection left", async || {
        sim.stream_links().open == 1
    })
    .await;
    for (frame, msg_id) in &pushed {
        wait_ack(&app, frame).await;
        app.fake.webhook_reply(msg_id).await;
    }
    app.settle().await;
    let links = sim.stream_links();
    let dials = links.opened - before;
    assert!((2..=6).contains(&dials), "{dials} dials in a 5 s storm");
    assert!(links.peak_open <= 2, "{} open at once", links.peak_open);
    let upstream = sim.upstream();
    for (frame, msg_id) in &pushed {
        let acks = upstream
            .iter()
            .filter(|f| f["headers"]["messageId"] == frame.as_str())
            .count();
        assert_eq!(acks, 1, "{frame} acknowledged {acks} times");
        let session = Some(msg_id.as_str());
        let answers = app.fake.with_requests(|rs| {
            rs.iter()
                .filter(|r| r.query.get("session").map(String::as_str) == session)
                .count()
        });
        assert_eq!(answers, 1, "{msg_id} answered {answers} times");
    }
}

#[tokio::test]
async fn a_cut_connection_is_opened_again() {
    let app = stream_app(&[]).await;
    let sim = app.fake.sim();
    assert!(sim.cut());
    eventually("a new connection", async || {
        sim.stream_links().opened == 2 && sim.stream_links().open == 1
    })
    .await;
    let body = app.group_message(MEMBER, "/help");
    sim.push_message(&body).unwrap();
    app.fake
        .webhook_reply(body["msgId"].as_str().unwrap())
        .await;
    assert_metric(
        &app,
        r#"qunguan_stream_reconnects_total{reason="dropped"} 1"#,
    )
    .await;
}

#[tokio::test]
async fn a_half_open_socket_is_replaced() {
    let app = stream_app(&[("QUNGUAN_STREAM_KEEPALIVE_SECS", "1")]).await;
    let sim = app.fake.sim();
    assert!(sim.stall());
    let started = Instant::now();
    eventually("the silent socket replaced", async || {
        sim.stream_links().opened == 2
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_metric(
        &app,
        r#"qunguan_stream_reconnects_total{reason="half_open"} 1"#,
    )
    .await;
}

#[tokio::test]
async fn a_message_pushed_three_times_is_answered_once() {
    let app = stream_app(&[]).await;
    let body = app.group_message(MEMBER, "/help");
    let ids: Vec<String> = (0..3)
        .map(|_| app.fake.sim().push_message(&body).unwrap())
        .collect();
    for id in &ids {
        wait_ack(&app, id).await;
    }
    app.settle().await;
    assert_eq!(replies(&app), 1);
    assert_metric(
        &app,
        r#"qunguan_callbacks_total{transport="stream",outcome="duplicate"} 2"#,
    )
    .await;
}

#[tokio::test]
async fn callback_is_not_routed_and_readyz_follows_the_connection() {
    let app = stream_app(&[]).await;
    let response = app.post_callback(&app.group_message(MEMBER, "/help")).await;
    assert_eq!(
        response.status(),
        404,
        "nothing runs from an unsigned path in stream mode"
    );
    for _ in 0..5 {
        app.fake.script(
            "POST",
            "/v1.0/gateway/connections/open",
            503,
            json!({"code": "busy"}),
            Duration::ZERO,
        );
    }
    assert!(app.fake.sim().cut());
    eventually("/readyz to answer 503", async || {
        let response = app.http.get(app.url("/readyz")).send().await.unwrap();
        response.status() == 503
    })
    .await;
    let alive = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(alive.status(), 200);
}

#[tokio::test]
async fn both_modes_share_one_dedupe() {
    let app = spawn_connected(&[("QUNGUAN_MODE", "both")]).await;
    let body = app.group_message(MEMBER, "/help");
    let response = app.post_callback(&body).await;
    assert_eq!(response.status(), 200);
    let id = app.fake.sim().push_message(&body).unwrap();
    wait_ack(&app, &id).await;
    app.settle().await;
    assert_eq!(
        replies(&app),
        1,
        "seen over HTTP, not run again over Stream"
    );
}

#[tokio::test]
async fn refused_credentials_exit_2_naming_them() {
    let fake = crate::fake::FakeDingTalk::start().await;
    fake.sim().require_credentials(APP_KEY, "the-real-secret");
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _) = spawn_binary(&fake, dir.path(), &[("QUNGUAN_MODE", "stream")]);
    eventually(
        "the binary to exit after DingTalk refused the credentials",
        async || child.try_wait().unwrap().is_some(),
    )
    .await;
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("DINGTALK_APP_KEY") && stderr.contains("DINGTALK_APP_SECRET"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET), "the secret is not printed");
}

#[tokio::test]
async fn sigterm_closes_the_connection_with_a_close_frame_and_exits_0() {
    let fake = crate::fake::FakeDingTalk::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = spawn_binary(&fake, dir.path(), &[("QUNGUAN_MODE", "stream")]);
    wait_healthy(&base).await;
    eventually("a Stream connection", async || {
        fake.sim().stream_links().open == 1
    })
    .await;
    let (status, log) = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    assert!(status.success(), "{status}: {log}");
    assert_eq!(fake.sim().stream_links().closed_by_client, 1, "{log}");
}

#[tokio::test]
async fn past_the_in_flight_bound_a_message_is_left_for_dingtalk_to_deliver_again() {
    let app = stream_app(&[("QUNGUAN_MAX_IN_FLIGHT", "1")]).await;
    app.fake.script(
        "POST",
        "/robot/sendBySession",
        200,
        json!({"errcode": 0}),
        Duration::from_millis(1000),
    );
    let first = app
        .fake
        .sim()
        .push_message(&app.group_message(MEMBER, "/help"))
        .unwrap();
    wait_ack(&app, &first).await;
    let second = app
        .fake
        .sim()
        .push_message(&app.group_message(MEMBER, "/help"))
        .unwrap();
    let busy = r#"qunguan_stream_frames_unacknowledged_total{reason="busy"} 1"#;
    eventually("the busy message counted", async || {
        app.metrics().await.contains(busy)
    })
    .await;
    assert!(
        ack_of(&app, &second).is_none(),
        "not acknowledged, so DingTalk delivers it again"
    );
}

/// An HTTP CONNECT proxy on 127.0.0.1 that records each request line and tunnels.
async fn connect_proxy() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                log.lock().unwrap().push(line.clone());
                let target = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let Ok(mut upstream) = tokio::net::TcpStream::connect(target).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                let _ = client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (port, seen)
}

#[tokio::test]
async fn the_websocket_goes_through_the_configured_proxy() {
    let fake = crate::fake::FakeDingTalk::start().await;
    fake.sim().set_gateway_host("localhost");
    let (port, seen) = connect_proxy().await;
    let proxy = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let settings = [
        ("QUNGUAN_MODE", "stream"),
        ("HTTP_PROXY", proxy.as_str()),
        ("NO_PROXY", "127.0.0.1"),
    ];
    let (child, base) = spawn_binary(&fake, dir.path(), &settings);
    wait_healthy(&base).await;
    eventually("a Stream connection through the proxy", async || {
        fake.sim().stream_links().open == 1
    })
    .await;
    let lines = seen.lock().unwrap().clone();
    assert!(
        lines.len() == 1 && lines[0].starts_with("CONNECT localhost:"),
        "{lines:?}"
    );
    let (status, log) = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    assert!(status.success(), "{log}");
    assert!(!log.contains("ticket-"), "the ticket is not logged: {log}");
}

#[tokio::test]
async fn an_endpoint_that_is_not_a_websocket_url_is_refused_and_retried() {
    let app = stream_app(&[]).await;
    app.fake.script(
        "POST",
        "/v1.0/gateway/connections/open",
        200,
        json!({"endpoint": "https://wss-open-connection.dingtalk.com/connect", "ticket": "t1"}),
        Duration::ZERO,
    );
    assert!(app.fake.sim().cut());
    eventually("a connection after the refused endpoint", async || {
        app.fake.count("/v1.0/gateway/connections/open") == 3
            && app.fake.sim().stream_links().open == 1
    })
    .await;
    assert_eq!(
        app.fake.sim().stream_links().opened,
        2,
        "nothing was opened to the https endpoint"
    );
    assert_metric(
        &app,
        r#"qunguan_stream_reconnects_total{reason="open_failed"} 1"#,
    )
    .await;
}
