//! `:at [YYYY-MM-DD] HH:MM`: the demo's clock jumps there, and the schedules due by then
//! run, as the scheduler would run them at that time; their announcements are shown.

use std::{io::Write, time::Duration};

use super::{Demo, sample};
use qunguan_simulator::Destination;

use crate::{
    clock::now_ms,
    commands::{Rule, format_local},
    scheduler,
};

impl Demo {
    pub(super) async fn at(&mut self, words: &[&str]) -> bool {
        let zone = self.server.app.config.timezone.clone();
        let rule: Vec<String> = match words {
            [time] => vec!["daily".into(), (*time).into()],
            [date, time] => vec!["once".into(), (*date).into(), (*time).into()],
            _ => {
                out!("  expected `:at HH:MM` or `:at YYYY-MM-DD HH:MM`");
                return false;
            }
        };
        let Some(at) = Rule::parse(&rule)
            .ok()
            .and_then(|(rule, _)| rule.next_after(now_ms(), &zone))
        else {
            out!("  `:at {}` is not a time to come", words.join(" "));
            return false;
        };
        out!("  (the clock is now {})", format_local(at, &zone));
        while self.outbox.try_recv().is_ok() {}
        let ran = match scheduler::tick(&self.server.app, at).await {
            Ok(n) => n,
            Err(e) => {
                out!("  ✗ cannot read the schedules: {e}");
                return false;
            }
        };
        let deadline = std::time::Instant::now() + self.reply_wait;
        while self.server.app.worker.running() > 0 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if ran == 0 {
            out!("  (no schedule was due)");
        }
        while let Ok(m) = self.outbox.try_recv() {
            if matches!(&m.to, Destination::Group(cid) if cid == sample::CID) {
                self.show(&m);
            }
        }
        true
    }
}
