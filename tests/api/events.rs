//! Group events, over Stream (EVENT frames from the simulator's gateway) and over HTTP
//! (`POST /events`, encrypted as DingTalk encrypts them): the subscription, both
//! acknowledgements, groups binding themselves, the audit trail, a new owner, a dissolved
//! group, welcomes, refusals, replicas and a database outage.

use qunguan::crypto::random_chars;
use qunguan_simulator::SimEvent;
use serde_json::{Value, json};

use crate::{event_support::*, helpers::*};

/// An app with the HTTP push on, and more settings.
async fn events_app(extra: &[(&str, &str)]) -> TestApp {
    let mut settings = EVENT_SETTINGS.to_vec();
    settings.extend_from_slice(extra);
    spawn_app_with(&settings).await
}

/// An app taking messages over HTTP and Stream (`both`), its Stream connection open.
async fn stream_app(extra: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![("QUNGUAN_MODE", "both")];
    settings.extend_from_slice(extra);
    spawn_connected(&settings).await
}

#[tokio::test]
async fn the_ticket_subscribes_to_events_beside_robot_messages() {
    let app = stream_app(&[]).await;
    let subscriptions = app.fake.sim().stream_subscriptions();
    assert!(
        subscriptions.contains(&json!({"type": "EVENT", "topic": "*"})),
        "{subscriptions:?}"
    );
    assert!(
        subscriptions.contains(&json!({"type": "CALLBACK", "topic": "/v1.0/im/bot/messages/get"})),
        "{subscriptions:?}"
    );
}

#[tokio::test]
async fn an_event_over_stream_binds_its_group_once_written_and_says_success() {
    let app = stream_app(&[]).await;
    assert!(!bound(&app).await);
    // DingTalk confirms the pair slowly: the event is being handled meanwhile.
    let convert = format!("/v1.0/im/chat/{CHAT}/convertToOpenConversationId");
    app.fake.script(
        "POST",
        &convert,
        200,
        json!({"openConversationId": CID}),
        std::time::Duration::from_millis(500),
    );
    let event = sample_event(
        "chat_update_title",
        json!({"operator": OWNER, "title": "新名字"}),
    );
    let id = app.fake.sim().push_event(&event).unwrap();
    eventually("the pair sent to DingTalk", async || {
        app.fake.count(&convert) == 1
    })
    .await;
    assert!(
        ack_of(&app, &id).is_none(),
        "not acknowledged before its state is written"
    );
    assert_eq!(acked(&app, &id).await, "SUCCESS");
    assert!(bound(&app).await);
    let audit = app.say(ADMIN, "/audit").await;
    assert!(audit.contains("bound the group to its chatid"), "{audit}");
    assert!(
        audit.contains("in DingTalk: renamed the group to 新名字"),
        "{audit}"
    );
    let converted = app
        .fake
        .count(&format!("/v1.0/im/chat/{CHAT}/convertToOpenConversationId"));
    assert_eq!(converted, 1, "the pair is confirmed with DingTalk");
}

#[tokio::test]
async fn an_event_over_http_binds_its_group() {
    let app = events_app(&[]).await;
    let event = sample_event(
        "chat_add_member",
        json!({"operator": OWNER, "userId": [MEMBER]}),
    );
    push_http(&app, &event).await;
    assert!(bound(&app).await);
    assert!(
        app.metrics()
            .await
            .contains(r#"qunguan_events_total{type="chat_add_member",result="handled"} 1"#)
    );
}

#[tokio::test]
async fn a_chatid_of_another_group_binds_nothing() {
    let app = events_app(&[]).await;
    app.fake
        .add_group("chatOTHER1", "cidOther==", OWNER, &[OWNER]);
    let event = sample_event(
        "chat_update_title",
        json!({"chatId": "chatOTHER1", "title": "x"}),
    );
    push_http(&app, &event).await;
    assert!(!bound(&app).await, "the pair does not belong together");
    let asked = app
        .fake
        .count("/v1.0/im/chat/chatOTHER1/convertToOpenConversationId");
    assert_eq!(asked, 1, "refused after DingTalk was asked, not ignored");
}

#[tokio::test]
async fn check_url_is_answered_with_the_encrypted_success() {
    let app = events_app(&[]).await;
    let check = SimEvent::new("check_url", json!({}));
    let mut body = check.http_body();
    body.as_object_mut()
        .unwrap()
        .retain(|k, _| k == "EventType");
    let response = push(&app, &body, APP_KEY).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    let crypto = dingtalk_crypto(APP_KEY);
    assert_eq!(
        crypto.decrypt(answer["encrypt"].as_str().unwrap()).unwrap(),
        "success"
    );
}

#[tokio::test]
async fn a_bad_signature_a_foreign_owner_and_garbage_are_refused_and_change_nothing() {
    let app = events_app(&[]).await;
    let event = sample_event("chat_update_title", json!({"title": "x"}));
    // Another app's push: decrypts, but ends with another app key.
    let foreign = push(&app, &event.http_body(), "dingsomeoneelse").await;
    assert_eq!(foreign.status(), 400);
    // A signature that does not match.
    let crypto = dingtalk_crypto(APP_KEY);
    let encrypt = crypto.encrypt(&event.http_body().to_string(), &random_chars(16));
    let now = qunguan::clock::now_ms();
    let forged = app
        .http
        .post(format!(
            "{}?msg_signature=deadbeef&timestamp={now}&nonce=n",
            app.url("/events")
        ))
        .json(&json!({ "encrypt": encrypt }))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    // Signed, but from outside the signature window.
    let stale = (now - 2 * 3_600_000).to_string();
    let signature = crypto.signature(&stale, "n0", &encrypt);
    let replayed = app
        .http
        .post(format!(
            "{}?msg_signature={signature}&timestamp={stale}&nonce=n0",
            app.url("/events")
        ))
        .json(&json!({ "encrypt": encrypt }))
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), 401);
    // Not JSON, and ciphertext that is not.
    let garbage = app
        .http
        .post(app.url("/events"))
        .body("\x00\x01garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 400);
    let nonsense = json!({"encrypt": "bm90IGNpcGhlcnRleHQ="});
    let (ts, nonce) = (now.to_string(), "n1");
    let signature = crypto.signature(&ts, nonce, "bm90IGNpcGhlcnRleHQ=");
    let undecryptable = app
        .http
        .post(format!(
            "{}?signature={signature}&timeStamp={ts}&nonce={nonce}",
            app.url("/events")
        ))
        .json(&nonsense)
        .send()
        .await
        .unwrap();
    assert_eq!(undecryptable.status(), 400);
    let huge = json!({"encrypt": "A".repeat(200_000)});
    let too_large = app
        .http
        .post(app.url("/events"))
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 400);
    assert!(!bound(&app).await, "nothing changed");
    assert_eq!(
        app.fake
            .count(&format!("/v1.0/im/chat/{CHAT}/convertToOpenConversationId")),
        0
    );
    let metrics = app.metrics().await;
    for counted in [
        r#"qunguan_events_total{type="unknown",result="unauthorized"} 2"#,
        r#"qunguan_events_total{type="unknown",result="bad_request"} 4"#,
    ] {
        assert!(metrics.contains(counted), "{counted} in {metrics}");
    }
}

#[tokio::test]
async fn an_event_without_an_event_id_is_known_by_its_digest() {
    let app = events_app(&[]).await;
    let event = sample_event("chat_update_title", json!({"title": "x"}));
    let mut body = event.http_body();
    body.as_object_mut().unwrap().remove("eventId");
    for _ in 0..2 {
        assert_eq!(push(&app, &body, APP_KEY).await.status(), 200);
    }
    let metrics = app.metrics().await;
    for counted in [
        r#"qunguan_events_total{type="chat_update_title",result="handled"} 1"#,
        r#"qunguan_events_total{type="chat_update_title",result="duplicate"} 1"#,
    ] {
        assert!(metrics.contains(counted), "{counted} in {metrics}");
    }
}

#[tokio::test]
async fn without_its_settings_events_is_not_found() {
    let unsigned = async |app: &TestApp| {
        let response = app
            .http
            .post(app.url("/events"))
            .json(&json!({"encrypt": "x"}))
            .send()
            .await
            .unwrap();
        response.status()
    };
    assert_eq!(unsigned(&spawn_app().await).await, 404);
    // With them, the same push is there to be refused.
    assert_eq!(unsigned(&events_app(&[]).await).await, 401);
}

#[tokio::test]
async fn one_welcome_for_an_event_pushed_twice_and_over_both_transports() {
    let app = stream_app(&EVENT_SETTINGS).await;
    app.bind_sample_group().await;
    app.fake.sim().set_name("newbie01", "新人甲");
    let text = app.say(ADMIN, "/welcome 欢迎 {name} 入群！").await;
    assert!(text.contains("Welcome set"), "{text}");
    let event = sample_event(
        "chat_add_member",
        json!({"operator": OWNER, "userId": ["newbie01"]}),
    );
    assert_eq!(push_stream(&app, &event).await, "SUCCESS");
    assert_eq!(
        push_stream(&app, &event).await,
        "SUCCESS",
        "a redelivery is acknowledged"
    );
    push_http(&app, &event).await;
    eventually("the welcome", async || !welcomes(&app).is_empty()).await;
    app.settle().await;
    assert_eq!(welcomes(&app), ["欢迎 新人甲 入群！"]);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"qunguan_events_total{type="chat_add_member",result="duplicate"} 2"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn welcome_is_set_shown_previewed_and_removed_by_admins_in_groups_and_audited() {
    let app = spawn_app().await;
    app.bind_sample_group().await;
    let refused = app.say(MEMBER, "/welcome hi").await;
    assert!(refused.contains("Only admins may run"), "{refused}");
    let direct = reply_text(&app.ask(&app.direct_message(ADMIN, "/welcome hi")).await);
    assert!(direct.contains("works in a group only"), "{direct}");
    let preview = app.say(ADMIN, "/welcome --dry-run 你好 {name}").await;
    assert!(preview.contains("Nothing was changed"), "{preview}");
    assert!(app.say(ADMIN, "/welcome").await.contains("has no welcome"));
    let set = app.say(ADMIN, "/欢迎语 你好 {name}").await;
    assert!(set.contains("Welcome set"), "{set}");
    let shown = app.say(ADMIN, "/welcome").await;
    assert!(shown.contains("你好 {name}"), "{shown}");
    assert!(app.say(ADMIN, "/welcome 关").await.contains("removed"));
    assert!(app.say(ADMIN, "/welcome").await.contains("has no welcome"));
    let audit = app.say(ADMIN, "/audit").await;
    for line in [
        "`/welcome 你好 {name}`: done",
        "`/welcome 关`: done",
        "`/welcome --dry-run 你好 {name}`: dry run",
    ] {
        assert!(audit.contains(line), "{line} in {audit}");
    }
}

/// `who` added to the sample group in the client.
fn join(who: &str) -> SimEvent {
    sample_event(
        "chat_add_member",
        json!({"operator": OWNER, "userId": [who]}),
    )
}

/// An app whose sample group greets newcomers with "Hi {name}" and has just greeted `n1`.
async fn welcomed_once() -> TestApp {
    let app = events_app(&[]).await;
    app.bind_sample_group().await;
    app.say(ADMIN, "/welcome Hi {name}").await;
    push_http(&app, &join("n1")).await;
    eventually("the first welcome", async || welcomes(&app).len() == 1).await;
    app
}

#[tokio::test]
async fn joins_in_a_burst_are_greeted_together_each_once() {
    let app = welcomed_once().await;
    let first = std::time::Instant::now();
    // Two more join within the window: greeted together once it has passed.
    push_http(&app, &join("n2")).await;
    push_http(&app, &join("n3")).await;
    eventually("the second welcome", async || welcomes(&app).len() == 2).await;
    let waited = first.elapsed();
    assert!(
        waited >= std::time::Duration::from_secs(9),
        "one welcome per 10 s: the second came after {waited:?}"
    );
    let sent = welcomes(&app);
    assert_eq!(sent[0], "Hi n1");
    assert!(
        sent[1].contains("n2") && sent[1].contains("n3") && !sent[1].contains("n1"),
        "{sent:?}"
    );
}

#[tokio::test]
async fn the_new_owner_is_an_admin_right_after_chat_update_owner() {
    let app = stream_app(&[]).await;
    app.bind_sample_group().await;
    let refused = app.say(MEMBER, "/mute-all").await;
    assert!(refused.contains("Only admins may run"), "{refused}");
    // The owner changes in the client; chat/get was read a moment ago.
    let event = app.fake.sim().client_transfer(CHAT, MEMBER).unwrap();
    assert_eq!(pushed_by_the_client(&app, &event).await, "SUCCESS");
    let done = app.say(MEMBER, "/mute-all").await;
    assert!(
        done.contains("Changed"),
        "the new owner is an admin at once: {done}"
    );
    let old = app.say(OWNER, "/unmute-all").await;
    assert!(
        old.contains("Only admins may run"),
        "the old owner no longer: {old}"
    );
    let audit = app.say(MEMBER, "/audit").await;
    assert!(
        audit.contains(&format!("in DingTalk: made {MEMBER} the owner")),
        "{audit}"
    );
}

#[tokio::test]
async fn a_dissolved_group_is_unbound_and_its_schedules_and_welcome_are_gone() {
    let app = stream_app(&[]).await;
    app.bind_sample_group().await;
    let scheduled = app.say(ADMIN, "/schedule daily 22:00 /mute-all").await;
    assert!(
        !app.say(ADMIN, "/schedule list")
            .await
            .contains("no schedules"),
        "{scheduled}"
    );
    let welcome = app.say(ADMIN, "/welcome hi").await;
    assert!(welcome.contains("Welcome set"), "{welcome}");
    let event = app.fake.sim().client_disband(CHAT, OWNER).unwrap();
    assert_eq!(pushed_by_the_client(&app, &event).await, "SUCCESS");
    assert!(!bound(&app).await);
    let list = app.say(ADMIN, "/schedule list").await;
    assert!(list.contains("no schedules"), "{list}");
    let welcome = app.say(ADMIN, "/welcome").await;
    assert!(welcome.contains("has no welcome"), "{welcome}");
    let audit = app.say(ADMIN, "/audit").await;
    assert!(
        audit.contains("dissolved the group"),
        "the audit stays: {audit}"
    );
}

#[tokio::test]
async fn audit_shows_a_removal_made_in_the_client_by_name() {
    let app = stream_app(&[]).await;
    app.bind_sample_group().await;
    app.fake.sim().set_name(OWNER, "王群主");
    app.fake.sim().set_name(MEMBER, "李娜");
    let event = app
        .fake
        .sim()
        .client_remove(CHAT, OWNER, &[MEMBER])
        .unwrap();
    assert_eq!(pushed_by_the_client(&app, &event).await, "SUCCESS");
    let quit = sample_event("chat_quit", json!({"operator": ADMIN}));
    assert_eq!(push_stream(&app, &quit).await, "SUCCESS");
    let audit = app.say(ADMIN, "/audit").await;
    assert!(
        audit.contains(&format!(
            "王群主 ({OWNER}) in DingTalk: removed 李娜 ({MEMBER})"
        )),
        "{audit}"
    );
    assert!(
        audit.contains(&format!("{ADMIN} in DingTalk: left the group")),
        "{audit}"
    );
}

#[tokio::test]
async fn an_event_lacking_its_group_is_counted_and_acknowledged() {
    let app = stream_app(&[]).await;
    let event = SimEvent::new("chat_add_member", json!({"userId": ["u1"]}));
    assert_eq!(push_stream(&app, &event).await, "SUCCESS");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"qunguan_events_total{type="chat_add_member",result="incomplete"} 1"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn with_every_slot_busy_an_event_is_given_back_and_handled_when_pushed_again() {
    let mut settings = EVENT_SETTINGS.to_vec();
    settings.push(("QUNGUAN_MAX_IN_FLIGHT", "1"));
    let app = stream_app(&settings).await;
    app.fake.script(
        "POST",
        "/robot/sendBySession",
        200,
        json!({"errcode": 0}),
        std::time::Duration::from_millis(3000),
    );
    // A slow reply holds the only slot: its request has reached DingTalk, which answers late.
    app.fake
        .sim()
        .push_message(&app.group_message(MEMBER, "/help"))
        .unwrap();
    eventually("the slow reply's request", async || {
        app.fake.count("/robot/sendBySession") == 1
    })
    .await;
    let event = sample_event(
        "chat_update_title",
        json!({"operator": OWNER, "title": "新名字"}),
    );
    assert_eq!(push_stream(&app, &event).await, "LATER");
    let over_http = push(&app, &event.http_body(), APP_KEY).await;
    assert_eq!(over_http.status(), 503, "pushed again later over HTTP too");
    let converted = app
        .fake
        .count(&format!("/v1.0/im/chat/{CHAT}/convertToOpenConversationId"));
    assert_eq!(converted, 0, "a busy event is not started");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"qunguan_events_total{type="chat_update_title",result="busy"} 2"#),
        "{metrics}"
    );
    // Once the reply is sent the slot is free, and the event pushed again is handled.
    eventually("the slow reply sent", async || {
        app.metrics().await.contains("qunguan_commands_in_flight 0")
    })
    .await;
    eventually("the event handled when pushed again", async || {
        push_stream(&app, &event).await == "SUCCESS"
    })
    .await;
    assert!(bound(&app).await);
}

#[tokio::test]
async fn stopping_waits_for_the_welcome_that_is_due() {
    let app = welcomed_once().await;
    // Within the window: this one waits for the group's next turn.
    push_http(&app, &join("n2")).await;
    assert_eq!(
        welcomes(&app).len(),
        1,
        "not yet: the window has not passed"
    );
    let TestApp { server, fake, .. } = app;
    server.stop().await.unwrap();
    let texts: Vec<String> = fake
        .requests_to("/v1.0/robot/groupMessages/send")
        .iter()
        .map(|r| r.json()["msgParam"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        texts.len(),
        2,
        "the second welcome went out before the stop: {texts:?}"
    );
    assert!(texts[1].contains("n2"), "{texts:?}");
}

#[tokio::test]
async fn a_name_is_asked_for_once_and_remembered_and_so_is_its_absence() {
    let owner_shown = async |name: Option<&str>, shown: &str| {
        let app = spawn_app().await;
        app.bind_sample_group().await;
        if let Some(name) = name {
            app.fake.sim().set_name(OWNER, name);
        }
        for _ in 0..2 {
            let info = app.say(MEMBER, "/info").await;
            assert!(info.contains(&format!("Owner: {shown}")), "{info}");
        }
        let asked = app.fake.requests_to("/topapi/v2/user/get");
        assert_eq!(asked.len(), 1, "asked once, then remembered: {name:?}");
        assert_eq!(
            asked[0].json(),
            json!({"userid": OWNER, "language": "en_US"})
        );
    };
    owner_shown(Some("王群主"), &format!("王群主 ({OWNER})")).await;
    // Nobody by that id in the contacts: the staff id alone.
    owner_shown(None, OWNER).await;
}
