//! A fresh PostgreSQL database per test, on the server `QUNGUAN_TEST_DATABASE_URL` names
//! (`.ci/test` starts one and sets it). A test that needs it and cannot reach it fails.

use std::sync::atomic::{AtomicU32, Ordering};

/// The server the tests use when the variable is unset (what `.ci/test` creates).
const DEFAULT: &str = "postgres://qunguan:qunguan@127.0.0.1:5432/qunguan_test";

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A URL of a new, empty database.
pub async fn fresh_database() -> String {
    let base = std::env::var("QUNGUAN_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT.to_owned());
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "these tests need PostgreSQL at QUNGUAN_TEST_DATABASE_URL ({}): {e:?}. Run `bash .ci/test`, which starts it.",
                qunguan::config::without_password(&base)
            )
        });
    tokio::spawn(connection);
    let name = format!(
        "qunguan_t{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        fastrand::u32(..)
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("the test role may create databases");
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&name);
    url.to_string()
}

/// A TCP forwarder to a test database that can be cut (every connection dropped, new ones
/// refused) and restored, as a database outage looks to qunguan; or frozen: connections
/// stay open and are accepted, but nothing passes either way until it thaws, as a
/// database stopped with SIGSTOP looks (without stopping the server other tests share).
pub struct Outage {
    up: tokio::sync::watch::Sender<bool>,
    frozen: tokio::sync::watch::Sender<bool>,
}

impl Outage {
    pub async fn in_front_of(url: &str) -> (Self, String) {
        let mut url = url::Url::parse(url).unwrap();
        let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, watch) = tokio::sync::watch::channel(true);
        let (frozen, thawed) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mut watch = watch.clone();
                if !*watch.borrow() {
                    continue;
                }
                let (target, thawed) = (target.clone(), thawed.clone());
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let (from_client, to_client) = client.into_split();
                    let (from_server, to_server) = server.into_split();
                    tokio::select! {
                        _ = pass(from_client, to_server, thawed.clone()) => {}
                        _ = pass(from_server, to_client, thawed) => {}
                        _ = watch.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        url.set_port(Some(port)).unwrap();
        (Self { up, frozen }, url.to_string())
    }

    pub fn set(&self, up: bool) {
        let _ = self.up.send(up);
    }

    pub fn freeze(&self, frozen: bool) {
        let _ = self.frozen.send(frozen);
    }
}

/// Copies one direction, holding what arrives while frozen until it thaws.
async fn pass(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut thawed: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if thawed.wait_for(|frozen| !*frozen).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
