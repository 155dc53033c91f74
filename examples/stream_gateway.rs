//! A local Stream gateway for `bench/run.sh`: the simulator's connections/open and
//! WebSocket, pushing robot messages to qunguan as fast as it acknowledges them (32
//! unacknowledged at most, like wrk's 32 connections on the HTTP side).
//!
//! Prints `api <url>` (qunguan's DINGTALK_API_URL), then `connected` once qunguan's Stream
//! connection is open. Then, for each line `run <seconds> <command> <run id> <webhook>`
//! on stdin, pushes robot messages for that long and prints `pushed=<n> acked=<n>`; for
//! `events <seconds> <run id>`, group events (renames of the bench groups) the same way.

use std::{
    io::BufRead,
    time::{Duration, Instant},
};

use qunguan_simulator::{SimEvent, Simulator};
use serde_json::json;

const WINDOW: usize = 32;

#[tokio::main]
async fn main() {
    let sim = Simulator::new();
    sim.forget_upstream();
    // The bench groups, so qunguan's QUNGUAN_GROUPS bind and the events are about them.
    for i in 0..16 {
        sim.add_group(
            &format!("chatBENCH{i}"),
            &format!("cidBENCHgroup{i}"),
            "bench",
            "owner",
            &["owner"],
        );
    }
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
        let (seconds, pushed, acked) = match words[..] {
            ["run", seconds, command, run, webhook] => {
                let seconds: u64 = seconds.parse().expect("seconds");
                let now = qunguan::clock::now_ms();
                let (pushed, acked) = push_for(&sim, Duration::from_secs(seconds), |n| {
                    let body = json!({
                        "msgtype": "text", "text": {"content": format!(" {command}")},
                        "msgId": format!("msgSTREAM{run}-{n}"), "createAt": now,
                        "conversationType": "2", "conversationId": format!("cidBENCHgroup{}", n % 16),
                        "conversationTitle": "bench", "senderNick": "bench", "senderStaffId": format!("staff{}", n % 64),
                        "chatbotUserId": "$:LWCP_v1:$bot", "isAdmin": true,
                        "atUsers": [{"dingtalkId": "$:LWCP_v1:$bot"}],
                        "sessionWebhook": webhook, "sessionWebhookExpiredTime": now + 5_400_000,
                    });
                    sim.push_message(&body)
                })
                .await;
                (seconds, pushed, acked)
            }
            // Group events: a rename of one of the bound bench groups, each its own event.
            ["events", seconds, run] => {
                let seconds: u64 = seconds.parse().expect("seconds");
                let (pushed, acked) = push_for(&sim, Duration::from_secs(seconds), |n| {
                    let mut event = SimEvent::new(
                        "chat_update_title",
                        json!({"chatId": format!("chatBENCH{}", n % 16),
                               "openConversationId": format!("cidBENCHgroup{}", n % 16),
                               "operator": format!("staff{}", n % 64), "title": format!("bench {n}")}),
                    );
                    event.event_id = format!("evBENCH{run}-{n}");
                    sim.push_event(&event)
                })
                .await;
                (seconds, pushed, acked)
            }
            _ => {
                eprintln!("stream_gateway: cannot read {line:?}");
                continue;
            }
        };
        let _ = seconds;
        println!("pushed={pushed} acked={acked}");
    }
}

/// Pushes the frames `frame(n)` makes for `length`, at most [`WINDOW`] unacknowledged.
async fn push_for(
    sim: &Simulator,
    length: Duration,
    frame: impl Fn(usize) -> Option<String>,
) -> (usize, usize) {
    let started = Instant::now();
    let acked_before = sim.upstream_count();
    let mut pushed = 0usize;
    while started.elapsed() < length {
        while pushed - (sim.upstream_count() - acked_before).min(pushed) < WINDOW {
            pushed += 1;
            frame(pushed).expect("qunguan is connected");
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), sim.upstream_arrived()).await;
    }
    (pushed, sim.upstream_count() - acked_before)
}
