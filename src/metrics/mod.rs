//! Prometheus metrics, owned by the app state (no global registry) and served at `/metrics`.

use std::sync::{Arc, Mutex};

use tracing_appender::non_blocking::ErrorCounter;

mod stream;
pub use stream::StreamMetrics;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportLabels {
    transport: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    command: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    api: &'static str,
    errcode: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplyLabels {
    path: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabels {
    api: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    r#type: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

struct Inner {
    registry: Registry,
    callbacks: Family<TransportLabels, Counter>,
    stream: stream::StreamMetrics,
    signature_failures: Family<ReasonLabels, Counter>,
    commands: Family<CommandLabels, Counter>,
    events: Family<EventLabels, Counter>,
    dingtalk_calls: Family<CallLabels, Counter>,
    replies: Family<ReplyLabels, Counter>,
    token_fetches: Family<KindLabels, Counter>,
    rate_limited: Family<ApiLabels, Counter>,
    throttled: Family<ApiLabels, Counter>,
    local_waits: Family<ApiLabels, Counter>,
    in_flight: Gauge,
    connections_open: Gauge,
    connections_refused: Counter,
    remembered_msg_ids: Gauge,
    log_lines_dropped: Counter,
    /// Where dropped log lines are counted, once logging is installed.
    log_drops: Mutex<Option<ErrorCounter>>,
}

/// The counters qunguan keeps; cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("qunguan");
        let inner = Inner {
            callbacks: Family::default(),
            stream: stream::StreamMetrics::default(),
            signature_failures: Family::default(),
            commands: Family::default(),
            events: Family::default(),
            dingtalk_calls: Family::default(),
            replies: Family::default(),
            token_fetches: Family::default(),
            rate_limited: Family::default(),
            throttled: Family::default(),
            local_waits: Family::default(),
            in_flight: Gauge::default(),
            connections_open: Gauge::default(),
            connections_refused: Counter::default(),
            remembered_msg_ids: Gauge::default(),
            log_lines_dropped: Counter::default(),
            log_drops: Mutex::new(None),
            registry: Registry::default(),
        };
        registry.register(
            "callbacks",
            "Robot messages received, by transport (http, stream) and outcome (accepted, duplicate, ignored, unauthorized, bad_request, too_large, busy, dedupe_full, unavailable)",
            inner.callbacks.clone(),
        );
        registry.register(
            "signature_failures",
            "Callbacks rejected with 401, by reason (missing, malformed, stale, mismatch)",
            inner.signature_failures.clone(),
        );
        registry.register(
            "commands",
            "Commands run, by command and outcome (done, dry_run, pending, refused, usage, failed, timeout)",
            inner.commands.clone(),
        );
        registry.register(
            "events",
            "Group events received, by type (chat_add_member, chat_remove_member, chat_quit, chat_update_owner, chat_update_title, chat_disband, check_url, other) and result (handled, duplicate, incomplete, ignored, later, unauthorized, bad_request)",
            inner.events.clone(),
        );
        registry.register(
            "dingtalk_calls",
            "Calls to DingTalk, by API and errcode (0 is success)",
            inner.dingtalk_calls.clone(),
        );
        registry.register(
            "replies",
            "Replies sent, by path (webhook, openapi) and outcome (ok, failed)",
            inner.replies.clone(),
        );
        registry.register(
            "token_fetches",
            "Access tokens fetched, by kind (oapi, api)",
            inner.token_fetches.clone(),
        );
        registry.register(
            "dingtalk_rate_limited",
            "DingTalk calls that waited for qunguan's per-API rate limit, by API",
            inner.rate_limited.clone(),
        );
        registry.register(
            "dingtalk_throttled",
            "DingTalk throttling answers (90002, 90018, HTTP 403/429) that were backed off from, by API",
            inner.throttled.clone(),
        );
        registry.register(
            "dingtalk_local_waits",
            "DingTalk calls not sent for a reason here (no file descriptor, no free connection to the host) and tried again after a wait, by API",
            inner.local_waits.clone(),
        );
        registry.register(
            "commands_in_flight",
            "Commands running in the background now",
            inner.in_flight.clone(),
        );
        registry.register(
            "connections_open",
            "HTTP connections open now",
            inner.connections_open.clone(),
        );
        registry.register(
            "connections_refused",
            "HTTP connections closed at once because QUNGUAN_MAX_CONNECTIONS were open",
            inner.connections_refused.clone(),
        );
        registry.register(
            "remembered_msg_ids",
            "msgIds the replay defence remembers now (at most QUNGUAN_MAX_REMEMBERED_MSGIDS)",
            inner.remembered_msg_ids.clone(),
        );
        registry.register(
            "log_lines_dropped",
            "Log lines dropped because the log queue was full (audit events are never dropped)",
            inner.log_lines_dropped.clone(),
        );
        inner.stream.register(&mut registry);
        Metrics(Arc::new(Inner { registry, ..inner }))
    }
}

impl Metrics {
    /// One robot message that arrived over `transport` (`http`, `stream`).
    pub fn callback(&self, transport: &'static str, outcome: &'static str) {
        self.0
            .callbacks
            .get_or_create(&TransportLabels { transport, outcome })
            .inc();
    }

    /// Stream mode's connections, acknowledgements and rejected frames.
    pub fn stream(&self) -> &stream::StreamMetrics {
        &self.0.stream
    }

    pub fn signature_failure(&self, reason: &'static str) {
        self.0
            .signature_failures
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub fn command(&self, command: &'static str, outcome: &'static str) {
        self.0
            .commands
            .get_or_create(&CommandLabels { command, outcome })
            .inc();
    }

    /// One group event of `kind` (its type, or `unknown` before it could be read).
    pub fn event(&self, kind: &'static str, result: &'static str) {
        self.0
            .events
            .get_or_create(&EventLabels {
                r#type: kind,
                result,
            })
            .inc();
    }

    pub fn dingtalk_call(&self, api: &'static str, errcode: &str) {
        let labels = CallLabels {
            api,
            errcode: errcode.to_owned(),
        };
        self.0.dingtalk_calls.get_or_create(&labels).inc();
    }

    pub fn reply(&self, path: &'static str, outcome: &'static str) {
        self.0
            .replies
            .get_or_create(&ReplyLabels { path, outcome })
            .inc();
    }

    pub fn token_fetch(&self, kind: &'static str) {
        self.0
            .token_fetches
            .get_or_create(&KindLabels { kind })
            .inc();
    }

    pub fn rate_limited(&self, api: &'static str) {
        self.0.rate_limited.get_or_create(&ApiLabels { api }).inc();
    }

    pub fn throttled(&self, api: &'static str) {
        self.0.throttled.get_or_create(&ApiLabels { api }).inc();
    }

    pub fn local_wait(&self, api: &'static str) {
        self.0.local_waits.get_or_create(&ApiLabels { api }).inc();
    }

    /// Tracks one background command; the gauge goes down when the guard drops.
    pub fn in_flight(&self) -> GaugeGuard {
        GaugeGuard::up(&self.0.in_flight)
    }

    /// Counts one more open connection until the guard drops.
    pub fn connection(&self) -> GaugeGuard {
        GaugeGuard::up(&self.0.connections_open)
    }

    pub fn connection_refused(&self) {
        self.0.connections_refused.inc();
    }

    pub fn remembered_msg_ids(&self, count: usize) {
        self.0.remembered_msg_ids.set(count as i64);
    }

    /// Reports the log's dropped-line count from now on.
    pub fn watch_log_drops(&self, dropped: ErrorCounter) {
        *self.0.log_drops.lock().expect("metrics lock poisoned") = Some(dropped);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        if let Some(dropped) = &*self.0.log_drops.lock().expect("metrics lock poisoned") {
            let seen = self.0.log_lines_dropped.get();
            let now = dropped.dropped_lines() as u64;
            self.0.log_lines_dropped.inc_by(now.saturating_sub(seen));
        }
        let mut out = String::new();
        encode(&mut out, &self.0.registry).expect("writing to a String cannot fail");
        out
    }
}

/// One unit of a gauge (a running command, an open connection), given back on drop.
pub struct GaugeGuard(Gauge);

impl GaugeGuard {
    fn up(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text_with_labels() {
        let m = Metrics::default();
        m.callback("http", "accepted");
        m.dingtalk_call("chat_get", "40014");
        let _guard = m.in_flight();
        let text = m.render();
        assert!(
            text.contains(r#"qunguan_callbacks_total{transport="http",outcome="accepted"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"qunguan_dingtalk_calls_total{api="chat_get",errcode="40014"} 1"#),
            "{text}"
        );
        assert!(text.contains("qunguan_commands_in_flight 1"), "{text}");
        assert!(text.ends_with("# EOF\n"));
    }
}
