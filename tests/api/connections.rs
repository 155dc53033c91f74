//! Connections that hold the server without using it: a client dribbling its headers, and
//! more idle sockets than the process has file descriptors.

use std::time::{Duration, Instant};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{fake::FakeDingTalk, helpers::*, process::*};

async fn fake() -> FakeDingTalk {
    let fake = FakeDingTalk::start().await;
    fake.add_group(CHAT, CID, OWNER, &[OWNER, MEMBER, ADMIN]);
    fake
}

#[tokio::test]
async fn a_client_sending_a_header_byte_a_second_and_an_idle_keep_alive_are_cut_off() {
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let (child, base) = spawn_binary(&fake, dir.path(), &[("QUNGUAN_HEADER_TIMEOUT_SECS", "1")]);
    wait_healthy(&base).await;
    let mut slow = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    let request = b"POST /callback HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let started = Instant::now();
    let mut closed = false;
    for byte in request {
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        match tokio::time::timeout(Duration::from_millis(250), slow.read(&mut buf)).await {
            Ok(Ok(_)) | Ok(Err(_)) => {
                closed = true;
                break;
            }
            Err(_) => {}
        }
    }
    // 70 bytes at 4 a second would take over 17 s; the timeout is 1 s.
    assert!(closed, "still open after {:?}", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // A keep-alive connection that stays idle after its response is closed too.
    let mut idle = TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
    let after = tokio::time::timeout(Duration::from_secs(5), idle.read(&mut buf)).await;
    assert!(
        matches!(after, Ok(Ok(0)) | Ok(Err(_))),
        "an idle keep-alive connection stayed open: {after:?}"
    );
    tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
}

#[tokio::test]
async fn idle_sockets_past_the_file_limit_do_not_stop_health_checks() {
    let fake = fake().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = [
        ("QUNGUAN_HEADER_TIMEOUT_SECS", "2"),
        ("QUNGUAN_MAX_CONNECTIONS", "256"),
    ];
    let (child, base) = spawn_binary_with_file_limit(&fake, dir.path(), &settings, 1024);
    wait_healthy(&base).await;
    let addr = base.trim_start_matches("http://").to_owned();
    let limit = rlimit::increase_nofile_limit(4096).unwrap();
    assert!(
        limit > 1_200,
        "this test needs 1,200 open files; the hard limit is {limit}"
    );
    // 1,100 sockets that never send a byte, held for the whole test. One after another:
    // connected all at once, most would overflow the accept queue and never reach the
    // server at all.
    let mut idle = Vec::new();
    for _ in 0..1_100 {
        let connect = TcpStream::connect(&addr);
        if let Ok(Ok(socket)) = tokio::time::timeout(Duration::from_secs(2), connect).await {
            idle.push(socket);
        }
    }
    assert!(idle.len() > 1_000, "{} connected", idle.len());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    eventually_within(Duration::from_secs(15), "/healthz to answer", async || {
        let answered = http.get(format!("{base}/healthz")).send().await;
        answered.is_ok_and(|r| r.status() == 200)
    })
    .await;
    let metrics = metrics_of(&http, &base).await;
    let value = |name: &str| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|n| n.parse::<u64>().ok())
    };
    assert!(
        value("qunguan_connections_refused_total").is_some_and(|n| n > 0),
        "{metrics}"
    );
    assert!(
        value("qunguan_connections_open").is_some_and(|n| (1..=256).contains(&n)),
        "{metrics}"
    );
    drop(idle);
    tokio::task::spawn_blocking(move || sigterm_and_wait(child))
        .await
        .unwrap();
}
