//! Faults and pressure: rate limits, DingTalk unreachable, shutdown in a burst, a soak.

use std::{
    collections::HashSet,
    time::{Duration, Instant},
};

use futures_util::{StreamExt, future::join_all, stream};
use qunguan::clock::now_ms;
use serde_json::json;

use crate::{fake::FakeDingTalk, helpers::*, process::*};

const FRIENDSWITCH: &str = "/topapi/chat/member/friendswitch/update";

#[tokio::test]
async fn calls_over_the_rate_limit_wait_instead_of_failing() {
    let app = spawn_app_with(&[
        ("QUNGUAN_GROUPS", CHAT),
        ("QUNGUAN_RATE_LIMIT_PER_SEC", "5"),
    ])
    .await;
    let bodies: Vec<_> = (0..15)
        .map(|_| app.group_message(ADMIN, "/lock-friending"))
        .collect();
    let started = Instant::now();
    let replies = join_all(bodies.iter().map(|b| app.ask(b))).await;
    // A lower bound only (a slow machine can only make it longer): 15 calls at 5 per
    // second, a burst of 5 allowed, take at least 2 s.
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "{:?}",
        started.elapsed()
    );
    assert!(
        replies
            .iter()
            .all(|r| reply_text(r).contains("can no longer add"))
    );
    let calls = app.fake.requests_to(FRIENDSWITCH);
    assert_eq!(calls.len(), 15);
    assert!(
        app.metrics()
            .await
            .contains(r#"qunguan_dingtalk_rate_limited_total{api="friendswitch_update"}"#)
    );
}

#[tokio::test]
async fn throttling_answers_are_backed_off_and_counted() {
    let app = spawn_app_with(&[("QUNGUAN_GROUPS", CHAT)]).await;
    app.fake.script(
        "POST",
        FRIENDSWITCH,
        200,
        json!({"errcode": 90018, "errmsg": "qps"}),
        Duration::ZERO,
    );
    let text = app.say(ADMIN, "/lock-friending").await;
    assert!(text.contains("can no longer add"), "{text}");
    assert!(
        app.metrics()
            .await
            .contains(r#"qunguan_dingtalk_throttled_total{api="friendswitch_update"} 1"#)
    );
}

#[tokio::test]
async fn dingtalk_refusing_connections_gets_a_reply_through_the_fallback() {
    let port = closed_port();
    let app = spawn_app_with(&[
        ("QUNGUAN_GROUPS", CHAT),
        ("DINGTALK_OAPI_URL", &format!("http://127.0.0.1:{port}")),
    ])
    .await;
    // The webhook is on the (closed) old-style origin, so it fails too.
    let mut body = app.group_message(MEMBER, "/info");
    body["sessionWebhook"] = json!(format!(
        "http://127.0.0.1:{port}/robot/sendBySession?session=x"
    ));
    app.post_callback(&body).await;
    app.fake
        .wait_until("the fallback reply", Duration::from_secs(15), |rs| {
            rs.iter()
                .any(|r| r.path == "/v1.0/robot/groupMessages/send")
        })
        .await;
    let sent = app.fake.requests_to("/v1.0/robot/groupMessages/send")[0].json();
    assert!(
        sent["msgParam"]
            .as_str()
            .unwrap()
            .contains("slow or unreachable"),
        "{sent}"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"qunguan_dingtalk_calls_total{api="gettoken",errcode="connect"} 3"#),
        "{metrics}"
    );
    assert_eq!(
        app.http
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn sigterm_in_a_burst_finishes_every_acknowledged_command_then_exits_0() {
    let fake = FakeDingTalk::start().await;
    fake.add_group(CHAT, CID, OWNER, &[OWNER, MEMBER]);
    // chat/get is held: the commands are mid-flight when the signal arrives.
    fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": 0, "chat_info": {"name": "held"}}),
        Duration::from_millis(800),
    );
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = spawn_binary(&fake, dir.path(), &[]);
    wait_healthy(&base).await;
    let http = reqwest::Client::new();
    let bodies: Vec<_> = (0..40).map(|_| info_message(&fake)).collect();
    let statuses = join_all(bodies.iter().map(|b| post_signed(&http, &base, b))).await;
    assert!(statuses.iter().all(|s| s.is_success()));
    let (status, stderr) = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    assert!(status.success(), "exit {status:?}\n{stderr}");
    let replied: HashSet<String> = fake.with_requests(|rs| {
        rs.iter()
            .filter(|r| r.path == "/robot/sendBySession")
            .map(|r| r.query["session"].clone())
            .collect()
    });
    for body in &bodies {
        assert!(
            replied.contains(body["msgId"].as_str().unwrap()),
            "an acknowledged command was lost"
        );
    }
}

#[tokio::test]
async fn past_the_drain_deadline_running_commands_are_logged_as_interrupted() {
    let fake = FakeDingTalk::start().await;
    fake.add_group(CHAT, CID, OWNER, &[OWNER, MEMBER]);
    fake.script(
        "GET",
        "/chat/get",
        200,
        json!({"errcode": 0, "chat_info": {}}),
        Duration::from_secs(20),
    );
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = spawn_binary(&fake, dir.path(), &[("QUNGUAN_DRAIN_SECS", "1")]);
    wait_healthy(&base).await;
    let body = info_message(&fake);
    assert!(
        post_signed(&reqwest::Client::new(), &base, &body)
            .await
            .is_success()
    );
    fake.wait_until("chat/get", Duration::from_secs(5), |rs| {
        rs.iter().any(|r| r.path == "/chat/get")
    })
    .await;
    let (status, stderr) = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    assert!(status.success(), "exit {status:?}\n{stderr}");
    let msg_id = body["msgId"].as_str().unwrap();
    assert!(
        stderr.contains("interrupted") && stderr.contains(msg_id),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_ten_thousand_callbacks_with_repeats_and_forgeries() {
    let app = spawn_app_with(&[
        ("QUNGUAN_GROUPS", CHAT),
        ("QUNGUAN_RATE_LIMIT_PER_SEC", "1000000"),
        // Every good callback is admitted: this is about repeats and forgeries, not the
        // in-flight bound, which the connections to the fake (bounded per host) and its
        // share of this test's two threads would otherwise reach.
        ("QUNGUAN_MAX_IN_FLIGHT", "20000"),
    ])
    .await;
    // 9,000 distinct good callbacks, 500 repeats of them, 500 with a bad signature.
    let good: Vec<_> = (0..9_000)
        .map(|_| app.group_message(ADMIN, "/lock-friending"))
        .collect();
    let forged: Vec<_> = (0..500)
        .map(|_| app.group_message(ADMIN, "/lock-friending"))
        .collect();
    let mut sends: Vec<(&serde_json::Value, bool)> = good.iter().map(|b| (b, true)).collect();
    sends.extend(good.iter().step_by(18).map(|b| (b, true)));
    sends.extend(forged.iter().map(|b| (b, false)));
    fastrand::shuffle(&mut sends);
    assert_eq!(sends.len(), 10_000);
    let statuses: Vec<u16> = stream::iter(sends)
        .map(|(body, genuine)| {
            let app = &app;
            async move {
                if genuine {
                    app.post_callback(body).await.status().as_u16()
                } else {
                    let ts = now_ms().to_string();
                    app.post_raw(
                        &[("timestamp", &ts), ("sign", &sign("0"))],
                        body.to_string().into_bytes(),
                    )
                    .await
                    .status()
                    .as_u16()
                }
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 9_500);
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 500);
    app.fake
        .wait_until("9,000 replies", Duration::from_secs(60), |rs| {
            rs.iter()
                .filter(|r| r.path == "/robot/sendBySession")
                .count()
                >= 9_000
        })
        .await;
    app.settle().await;
    let (calls, replies) = app.fake.with_requests(|rs| {
        let calls = rs.iter().filter(|r| r.path == FRIENDSWITCH).count();
        let replies: Vec<String> = rs
            .iter()
            .filter(|r| r.path == "/robot/sendBySession")
            .map(|r| r.query["session"].clone())
            .collect();
        (calls, replies)
    });
    assert_eq!(calls, 9_000, "one DingTalk call per distinct good msgId");
    assert_eq!(replies.len(), 9_000, "one reply per distinct good msgId");
    let replied: HashSet<&String> = replies.iter().collect();
    assert_eq!(replied.len(), 9_000);
    assert!(
        good.iter()
            .all(|b| replied.contains(&b["msgId"].as_str().unwrap().to_owned())),
        "a good msgId was lost"
    );
    assert!(
        forged
            .iter()
            .all(|b| !replied.contains(&b["msgId"].as_str().unwrap().to_owned()))
    );
}
