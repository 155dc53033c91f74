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

/// How many sessions of the database at `url` are waiting for an advisory lock (a group's
/// lock held elsewhere): the proof that a change is waiting, not merely slow.
pub async fn lock_waiters(url: &str) -> i64 {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_locks
             WHERE locktype = 'advisory' AND NOT granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await
        .unwrap();
    row.get(0)
}
