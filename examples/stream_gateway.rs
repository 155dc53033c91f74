//! A local Stream gateway for `bench/run.sh`: the simulator's connections/open and
//! WebSocket, pushing robot messages to qunguan as fast as it acknowledges them (32
//! unacknowledged at most, like wrk's 32 connections on the HTTP side).
//!
//! Prints `api <url>` (qunguan's DINGTALK_API_URL), then `connected` once qunguan's Stream
//! connection is open. Then, for each line `run <seconds> <command> <run id> <webhook>`
//! on stdin, pushes for that long and prints `pushed=<n> acked=<n>`.

use std::{
    io::BufRead,
    time::{Duration, Instant},
};

use qunguan_simulator::Simulator;
use serde_json::json;

const WINDOW: usize = 32;

#[tokio::main]
async fn main() {
    let sim = Simulator::new();
    sim.forget_upstream();
    let (addr, _task) = sim.serve().await.expect("the simulator serves");
    sim.serve_gateway().await.expect("the gateway serves");
    println!("api http://{addr}");
    while sim.stream_links().open == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("connected");
    let (tx, mut lines) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    while let Some(line) = lines.recv().await {
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["run", seconds, command, run, webhook] = words[..] else {
            eprintln!("stream_gateway: cannot read {line:?}");
            continue;
        };
        let seconds: u64 = seconds.parse().expect("seconds");
        let (pushed, acked) =
            push_for(&sim, Duration::from_secs(seconds), command, run, webhook).await;
        println!("pushed={pushed} acked={acked}");
    }
}

async fn push_for(
    sim: &Simulator,
    length: Duration,
    command: &str,
    run: &str,
    webhook: &str,
) -> (usize, usize) {
    let started = Instant::now();
    let acked_before = sim.upstream_count();
    let mut pushed = 0usize;
    let now = qunguan::clock::now_ms();
    while started.elapsed() < length {
        while pushed - (sim.upstream_count() - acked_before).min(pushed) < WINDOW {
            pushed += 1;
            let body = json!({
                "msgtype": "text", "text": {"content": format!(" {command}")},
                "msgId": format!("msgSTREAM{run}-{pushed}"), "createAt": now,
                "conversationType": "2", "conversationId": format!("cidBENCHgroup{}", pushed % 16),
                "conversationTitle": "bench", "senderNick": "bench", "senderStaffId": format!("staff{}", pushed % 64),
                "chatbotUserId": "$:LWCP_v1:$bot", "isAdmin": true,
                "atUsers": [{"dingtalkId": "$:LWCP_v1:$bot"}],
                "sessionWebhook": webhook, "sessionWebhookExpiredTime": now + 5_400_000,
            });
            sim.push_message(&body).expect("qunguan is connected");
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), sim.upstream_arrived()).await;
    }
    (pushed, sim.upstream_count() - acked_before)
}
