//! Callback authentication: nothing happens before the signature verifies.

use qunguan::clock::now_ms;

use crate::helpers::*;

#[tokio::test]
async fn a_correctly_signed_callback_is_accepted_and_answered() {
    let app = spawn_app().await;
    let text = app.say(MEMBER, "/help").await;
    assert!(text.contains("/help"), "{text}");
}

#[tokio::test]
async fn missing_headers_are_rejected_with_401() {
    let app = spawn_app().await;
    let body = app.group_message(MEMBER, "/help").to_string().into_bytes();
    let ts = now_ms().to_string();
    let sign = sign(&ts);
    for headers in [
        vec![],
        vec![("timestamp", ts.as_str())],
        vec![("sign", sign.as_str())],
    ] {
        let response = app.post_raw(&headers, body.clone()).await;
        assert_eq!(response.status(), 401, "headers {headers:?}");
    }
    app.settle().await;
    assert!(
        app.fake.requests().is_empty(),
        "a rejected callback caused DingTalk traffic"
    );
    assert!(
        app.metrics()
            .await
            .contains(r#"qunguan_signature_failures_total{reason="missing"} 3"#)
    );
}

#[tokio::test]
async fn stale_and_future_timestamps_are_rejected() {
    let app = spawn_app().await;
    let hour = 3_600_000;
    for ts in [now_ms() - hour - 5_000, now_ms() + hour + 5_000] {
        let ts = ts.to_string();
        let body = app.group_message(MEMBER, "/help").to_string().into_bytes();
        let response = app
            .post_raw(&[("timestamp", &ts), ("sign", &sign(&ts))], body)
            .await;
        assert_eq!(response.status(), 401);
    }
}

#[tokio::test]
async fn a_timestamp_within_the_window_is_accepted() {
    let app = spawn_app().await;
    let ts = (now_ms() - 3_500_000).to_string();
    let body = app.group_message(MEMBER, "/help");
    let response = app
        .post_raw(
            &[("timestamp", &ts), ("sign", &sign(&ts))],
            body.to_string().into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn timestamps_that_are_not_whole_milliseconds_are_rejected() {
    let app = spawn_app().await;
    for ts in ["", "1.7e12", "abc", &format!("{}.5", now_ms())] {
        let body = app.group_message(MEMBER, "/help").to_string().into_bytes();
        let response = app
            .post_raw(&[("timestamp", ts), ("sign", &sign(ts))], body)
            .await;
        assert_eq!(response.status(), 401, "timestamp {ts:?}");
    }
}

#[tokio::test]
async fn a_sign_with_plus_works_and_is_never_url_decoded() {
    let app = spawn_app().await;
    // Find a current timestamp whose signature contains `+`.
    let (ts, good) = (0..10_000)
        .map(|i| (now_ms() - i).to_string())
        .map(|ts| {
            let s = sign(&ts);
            (ts, s)
        })
        .find(|(_, s)| s.contains('+'))
        .expect("some signature contains +");
    let decoded = good.replace('+', " ");
    let body = app.group_message(MEMBER, "/help");
    let response = app
        .post_raw(
            &[("timestamp", &ts), ("sign", &decoded)],
            body.to_string().into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 401);
    let response = app
        .post_raw(
            &[("timestamp", &ts), ("sign", &good)],
            body.to_string().into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_and_the_401_reveals_nothing() {
    let app = spawn_app().await;
    let ts = now_ms().to_string();
    let forged =
        qunguan::callback::signature::sign(&secrecy::SecretString::from("wrong".to_owned()), &ts);
    let body = app.group_message(MEMBER, "/help").to_string().into_bytes();
    let response = app
        .post_raw(&[("timestamp", &ts), ("sign", &forged)], body)
        .await;
    assert_eq!(response.status(), 401);
    let text = response.text().await.unwrap();
    assert!(
        text.len() < 64 && !text.contains(&sign(&ts)),
        "401 body: {text:?}"
    );
}

#[tokio::test]
async fn a_rejected_callback_does_not_consume_its_msg_id() {
    let app = spawn_app().await;
    let body = app.group_message(MEMBER, "/help");
    let ts = now_ms().to_string();
    let response = app
        .post_raw(
            &[("timestamp", &ts), ("sign", "AAAA")],
            body.to_string().into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 401);
    let reply = app.ask(&body).await;
    assert!(reply_text(&reply).contains("/help"));
}

#[tokio::test]
async fn verification_comes_before_size_and_json_checks() {
    let app = spawn_app().await;
    let ts = now_ms().to_string();
    let huge = vec![b'x'; 100_000];
    let response = app
        .post_raw(&[("timestamp", &ts), ("sign", "AAAA")], huge)
        .await;
    assert_eq!(response.status(), 401);
    let response = app
        .post_raw(
            &[("timestamp", &ts), ("sign", "AAAA")],
            b"not json".to_vec(),
        )
        .await;
    assert_eq!(response.status(), 401);
}
