//! The real binary's whole log at `RUST_LOG=trace`, its dependencies' lines included,
//! through everything that handles a secret: no ticket, token, session, app secret, event
//! key or database password is in it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    event_support::{EVENT_AES_KEY, EVENT_SETTINGS, EVENT_TOKEN, dingtalk_crypto, sample_event},
    fake::FakeDingTalk,
    helpers::*,
    postgres::fresh_database,
    process::*,
};

/// The ticket in an answer to the ticket request that does not decode.
const UNDECODABLE_TICKET: &str = "TICKET-CANARY-undecodable-3c9d";
/// The sessions of the sessionWebhooks: over Stream, over HTTP, after the token refresh.
const SESSIONS: [&str; 3] = [
    "SESSION-CANARY-stream-5d1c",
    "SESSION-CANARY-http-8b0e",
    "SESSION-CANARY-refreshed-2a7f",
];

/// A group `/info` from the admin; its reply goes to `webhook`, or through the OpenAPI
/// when there is none.
fn info(webhook: Option<String>) -> Value {
    let mut body = json!({
        "msgId": new_msg_id(), "conversationId": CID, "conversationType": "2",
        "msgtype": "text", "text": {"content": "/info"}, "senderStaffId": ADMIN,
        "senderNick": "admin",
    });
    if let Some(webhook) = webhook {
        body["sessionWebhook"] = json!(webhook);
        body["sessionWebhookExpiredTime"] = json!(qunguan::clock::now_ms() + 5_400_000);
    }
    body
}

/// Every `ticket-` and 16 hex digits (the simulator's tickets) in `log`.
fn simulator_tickets(log: &str) -> Vec<&str> {
    log.match_indices("ticket-")
        .filter_map(|(at, _)| log.get(at..at + 23))
        .filter(|t| t[7..].chars().all(|c| c.is_ascii_hexdigit()))
        .collect()
}

/// The access tokens the fake saw qunguan use.
fn tokens_used(fake: &FakeDingTalk) -> Vec<String> {
    let mut tokens: Vec<String> = fake.with_requests(|rs| {
        rs.iter()
            .flat_map(|r| {
                [
                    r.query.get("access_token").cloned(),
                    r.headers
                        .get("x-acs-dingtalk-access-token")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned),
                ]
            })
            .flatten()
            .collect()
    });
    tokens.sort();
    tokens.dedup();
    tokens
}

/// Whether `log` shows `password` as a database URL or connection string carries it.
fn shows_password(log: &str, password: &str) -> bool {
    let lower = log.to_lowercase();
    let password = password.to_lowercase();
    [format!(":{password}@"), format!("password={password}")]
        .iter()
        .any(|form| lower.contains(form))
}

#[tokio::test]
async fn at_trace_no_ticket_token_session_secret_key_or_password_reaches_the_log() {
    let fake = FakeDingTalk::start().await;
    fake.add_group(CHAT, CID, OWNER, &[OWNER, MEMBER, ADMIN]);
    let not_json = format!("<html>gateway says ticket={UNDECODABLE_TICKET}</html>");
    let open = "/v1.0/gateway/connections/open";
    fake.script("POST", open, 200, json!(not_json), Duration::ZERO);
    let database = fresh_database().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = vec![
        ("RUST_LOG", "trace"),
        ("QUNGUAN_ADMINS", ADMIN),
        ("QUNGUAN_MODE", "both"),
        ("QUNGUAN_DATABASE_URL", &database),
    ];
    settings.extend_from_slice(&EVENT_SETTINGS);
    let (child, base) = spawn_binary(&fake, dir.path(), &settings);
    wait_healthy(&base).await;
    eventually(
        "a Stream connection after the undecodable ticket answer",
        async || fake.sim().stream_links().open == 1,
    )
    .await;
    assert!(fake.count(open) >= 2);

    // A command over Stream, one over HTTP replying to its webhook, one with no webhook
    // (the OpenAPI's token), then both tokens revoked and one more (a refresh).
    fake.sim()
        .push_message(&info(Some(fake.webhook_url(SESSIONS[0]))))
        .unwrap();
    fake.webhook_reply(SESSIONS[0]).await;
    let http = reqwest::Client::new();
    let over_http = info(Some(fake.webhook_url(SESSIONS[1])));
    assert_eq!(post_signed(&http, &base, &over_http).await, 200);
    fake.webhook_reply(SESSIONS[1]).await;
    assert_eq!(post_signed(&http, &base, &info(None)).await, 200);
    let sent = "/v1.0/robot/groupMessages/send";
    eventually("the OpenAPI reply", async || fake.count(sent) > 0).await;
    fake.revoke_tokens();
    fake.sim()
        .push_message(&info(Some(fake.webhook_url(SESSIONS[2]))))
        .unwrap();
    fake.webhook_reply(SESSIONS[2]).await;
    assert_eq!(post_signed(&http, &base, &info(None)).await, 200);
    // Refused with the revoked token, then sent again with a new one.
    eventually("the OpenAPI reply with a refreshed token", async || {
        fake.count("/v1.0/oauth2/accessToken") >= 2 && fake.count(sent) >= 3
    })
    .await;

    // A group event over Stream and one pushed over HTTP, encrypted.
    let renamed = fake.sim().client_rename(CHAT, OWNER, "renamed").unwrap();
    let frame = renamed.pushed_as.expect("pushed over Stream");
    eventually("the event's acknowledgement", async || {
        fake.sim()
            .upstream()
            .iter()
            .any(|f| f["headers"]["messageId"] == frame.as_str())
    })
    .await;
    let event = sample_event("chat_update_title", json!({"title": "again"}));
    let (query, body) =
        dingtalk_crypto(APP_KEY).push(&event.http_body().to_string(), qunguan::clock::now_ms());
    let pushed = http
        .post(format!("{base}/events?{query}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 200);

    let (_, log) = tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
    assert!(log.contains("TRACE"), "not a trace log");
    let tokens = tokens_used(&fake);
    assert!(tokens.len() >= 3, "{tokens:?}");
    let mut secrets: Vec<&str> = vec![SECRET, EVENT_TOKEN, EVENT_AES_KEY, UNDECODABLE_TICKET];
    secrets.extend(SESSIONS);
    secrets.extend(tokens.iter().map(String::as_str));
    for secret in secrets {
        assert!(!log.contains(secret), "{secret} is in the log");
        // tungstenite's TRACE shows a frame's payload in hex.
        let hex: String = secret.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!log.contains(&hex), "{secret} is in the log in hex");
    }
    let tickets = simulator_tickets(&log);
    assert!(tickets.is_empty(), "tickets in the log: {tickets:?}");
    let password = url::Url::parse(&database)
        .unwrap()
        .password()
        .map(str::to_owned)
        .unwrap_or_default();
    assert!(
        !shows_password(&log, &password),
        "the database password is in the log"
    );
    // The run did what it was meant to, and says so.
    for want in [
        "gateway_connections_open failed",
        "Stream connection open",
        "database=Postgres(",
    ] {
        assert!(log.contains(want), "{want} missing from the log");
    }
}
