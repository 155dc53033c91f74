//! Spawning the real server against a fake DingTalk, and building signed callbacks.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

use qunguan::{
    callback::signature,
    clock::now_ms,
    config::Config,
    server::{self, RunningServer},
    tools::signed::{self, Draft},
};
use secrecy::SecretString;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::fake::FakeDingTalk;

pub const SECRET: &str = "test-app-secret";
pub const APP_KEY: &str = "dingtestappkey";
pub const ROBOT_CODE: &str = "dingtestrobot";
/// In `QUNGUAN_ADMINS`.
pub const ADMIN: &str = "admin001";
/// An ordinary member.
pub const MEMBER: &str = "member001";
/// Owner of the sample group per chat/get.
pub const OWNER: &str = "owner001";
/// The sample group: chatid and its cid.
pub const CHAT: &str = "chat0a1b2c3d";
pub const CID: &str = "cidSample+Group/1==";

static NEXT_MSG: AtomicU64 = AtomicU64::new(1);

/// A unique msgId for this test process.
pub fn new_msg_id() -> String {
    format!("msgTEST{}", NEXT_MSG.fetch_add(1, Ordering::Relaxed))
}

/// A running qunguan plus the fake DingTalk it talks to.
pub struct TestApp {
    pub server: RunningServer,
    pub fake: FakeDingTalk,
    pub http: reqwest::Client,
    pub env: HashMap<String, String>,
    pub dir: TempDir,
}

/// Starts a fake DingTalk holding the sample group, and qunguan pointed at it.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Like [`spawn_app`], with extra or overriding settings.
pub async fn spawn_app_with(settings: &[(&str, &str)]) -> TestApp {
    let fake = FakeDingTalk::start().await;
    fake.add_group(CHAT, CID, OWNER, &[OWNER, MEMBER, ADMIN]);
    spawn_app_on(fake, settings).await
}

/// Like [`spawn_app_with`], against a fake DingTalk the test has already set up.
pub async fn spawn_app_on(fake: FakeDingTalk, settings: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut env: HashMap<String, String> = [
        ("DINGTALK_APP_KEY", APP_KEY.to_owned()),
        ("DINGTALK_APP_SECRET", SECRET.to_owned()),
        ("DINGTALK_ROBOT_CODE", ROBOT_CODE.to_owned()),
        ("DINGTALK_OAPI_URL", fake.base_url()),
        ("DINGTALK_API_URL", fake.base_url()),
        (
            "DINGTALK_TOP_URL",
            format!("{}/router/rest", fake.base_url()),
        ),
        ("QUNGUAN_LISTEN", "127.0.0.1:0".to_owned()),
        (
            "QUNGUAN_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("qunguan.db").display()),
        ),
        ("QUNGUAN_ADMINS", ADMIN.to_owned()),
        ("QUNGUAN_LANG", "en".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for (k, v) in settings {
        env.insert(k.to_string(), v.to_string());
    }
    let server = start_server(&env).await;
    TestApp {
        server,
        fake,
        http: reqwest::Client::new(),
        env,
        dir,
    }
}

async fn start_server(env: &HashMap<String, String>) -> RunningServer {
    let config = Config::from_lookup(|name| env.get(name).cloned()).expect("test config is valid");
    // Tests never talk to real DingTalk: every base URL must be on loopback.
    for url in [&config.oapi_url, &config.api_url, &config.top_url] {
        assert_eq!(
            url.host_str(),
            Some("127.0.0.1"),
            "{url} is not a local fake"
        );
    }
    assert!(config.listen.ip().is_loopback());
    if std::env::var_os("TEST_LOG").is_some() {
        // The guard is leaked on purpose: logs stay on for the whole test process.
        std::mem::forget(qunguan::telemetry::init());
    }
    server::start(config).await.expect("server starts")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }

    /// Another qunguan with the same settings (the same database), beside this one.
    pub async fn replica(&self) -> RunningServer {
        start_server(&self.env).await
    }

    /// Stops the server (draining commands) and starts a new one on the same database.
    pub async fn restart(self) -> Self {
        let TestApp {
            server,
            fake,
            http,
            env,
            dir,
        } = self;
        server.stop().await.expect("server stops cleanly");
        let server = start_server(&env).await;
        TestApp {
            server,
            fake,
            http,
            env,
            dir,
        }
    }

    /// A group message with `text` from `sender`, replying to a webhook on the fake
    /// whose session is the msgId. The callback's own `robotCode` differs from
    /// `DINGTALK_ROBOT_CODE`, so tests can tell which one qunguan sends.
    pub fn group_message(&self, sender: &str, text: &str) -> Value {
        self.message(sender, text, false)
    }

    /// The same, in a 1:1 chat with the bot.
    pub fn direct_message(&self, sender: &str, text: &str) -> Value {
        self.message(sender, text, true)
    }

    fn message(&self, sender: &str, text: &str, direct: bool) -> Value {
        let msg_id = new_msg_id();
        let draft = Draft {
            session_webhook: self.fake.webhook_url(&msg_id),
            msg_id,
            conversation_id: if direct { "cidDirectChat==" } else { CID }.to_owned(),
            direct,
            sender_staff_id: sender.to_owned(),
            sender_nick: format!("nick of {sender}"),
            is_admin: false,
            text: text.to_owned(),
        };
        let mut body = draft.body(now_ms());
        body["robotCode"] = json!("dingrobotfromcallback");
        body
    }

    /// POSTs a callback signed with the current time.
    pub async fn post_callback(&self, body: &Value) -> reqwest::Response {
        let secret = SecretString::from(SECRET.to_owned());
        signed::post(&self.http, &self.url("/callback"), &secret, body)
            .await
            .expect("qunguan answers")
    }

    /// POSTs `body` with exactly these headers (plus the content type).
    pub async fn post_raw(&self, headers: &[(&str, &str)], body: Vec<u8>) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url("/callback"))
            .header("content-type", "application/json; charset=utf-8")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("qunguan answers")
    }

    /// Posts `body`, expects 2xx, and returns the webhook reply to it.
    pub async fn ask(&self, body: &Value) -> Value {
        let response = self.post_callback(body).await;
        assert!(
            response.status().is_success(),
            "callback answered {}",
            response.status()
        );
        self.fake
            .webhook_reply(body["msgId"].as_str().unwrap())
            .await
    }

    /// Sends `text` as `sender` in the sample group and returns the reply's markdown text.
    pub async fn say(&self, sender: &str, text: &str) -> String {
        let reply = self.ask(&self.group_message(sender, text)).await;
        reply_text(&reply)
    }

    /// Binds the sample group through `/bind`, as the configured admin.
    pub async fn bind_sample_group(&self) {
        let text = self.say(ADMIN, &format!("/bind {CHAT}")).await;
        assert!(text.contains("Bound"), "{text}");
    }

    /// Waits until every command qunguan acknowledged has finished (its reply sent), so
    /// a negative assertion ("nothing was called") cannot pass because the work was slow.
    pub async fn settle(&self) {
        eventually("the running commands to finish", async || {
            self.server.app.worker.running() == 0
        })
        .await;
    }

    /// Once the commands have finished, asserts that qunguan sent DingTalk nothing but
    /// replies: the command was refused before any API call.
    pub async fn assert_only_replies_sent(&self) {
        self.settle().await;
        let paths: Vec<String> = self.fake.with_requests(|rs| {
            rs.iter()
                .filter(|r| r.path != "/robot/sendBySession")
                .map(|r| r.path.clone())
                .collect()
        });
        assert!(paths.is_empty(), "DingTalk was called: {paths:?}");
    }

    pub async fn metrics(&self) -> String {
        self.http
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// Like [`spawn_app_with`] (the settings name a mode with Stream in it), once its Stream
/// connection to the fake's gateway is open.
pub async fn spawn_connected(settings: &[(&str, &str)]) -> TestApp {
    let app = spawn_app_with(settings).await;
    eventually("a Stream connection", async || {
        app.fake.sim().stream_links().open == 1
    })
    .await;
    app
}

/// The acknowledgement qunguan sent for the Stream frame `message_id`, if any.
pub fn ack_of(app: &TestApp, message_id: &str) -> Option<Value> {
    app.fake
        .sim()
        .upstream()
        .into_iter()
        .find(|f| f["headers"]["messageId"] == message_id)
}

/// The acknowledgement of the Stream frame `message_id`, once qunguan sends it.
pub async fn wait_ack(app: &TestApp, message_id: &str) -> Value {
    eventually("the acknowledgement", async || {
        ack_of(app, message_id).is_some()
    })
    .await;
    ack_of(app, message_id).unwrap()
}

/// How long [`eventually`] waits before failing.
const EVENTUALLY: Duration = Duration::from_secs(20);

/// Polls `check` every 10 ms until it holds, for up to 20 s, and fails naming `what` if it
/// never does. Every wait for something qunguan does in the background goes through here.
pub async fn eventually(what: &str, check: impl AsyncFnMut() -> bool) {
    eventually_within(EVENTUALLY, what, check).await;
}

/// [`eventually`] with its own bound, for what must happen within a promised time.
pub async fn eventually_within(within: Duration, what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The `sign` header for `ts` with the test secret.
pub fn sign(ts: &str) -> String {
    signature::sign(&SecretString::from(SECRET.to_owned()), ts)
}

/// The markdown text of a webhook reply.
pub fn reply_text(reply: &Value) -> String {
    assert_eq!(reply["msgtype"], "markdown", "{reply}");
    let title = reply["markdown"]["title"].as_str().unwrap_or_default();
    assert!(!title.is_empty(), "reply without a title: {reply}");
    reply["markdown"]["text"].as_str().unwrap().to_owned()
}
