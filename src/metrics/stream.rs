//! Stream mode's metrics: open connections, reconnects and why, acknowledgements sent,
//! frames rejected and why.

use prometheus_client::{
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

use super::ReasonLabels;

/// The Stream counters; part of [`super::Metrics`].
#[derive(Default)]
pub struct StreamMetrics {
    connections_open: Gauge,
    reconnects: Family<ReasonLabels, Counter>,
    acks: Counter,
    rejected: Family<ReasonLabels, Counter>,
    unacknowledged: Family<ReasonLabels, Counter>,
}

impl StreamMetrics {
    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register(
            "stream_connections_open",
            "Stream WebSocket connections open now (two while one drains after a disconnect)",
            self.connections_open.clone(),
        );
        registry.register(
            "stream_reconnects",
            "Stream connections opened again, by reason (disconnect, closed, dropped, half_open, open_failed, connect_failed)",
            self.reconnects.clone(),
        );
        registry.register(
            "stream_acks",
            "Stream frames acknowledged",
            self.acks.clone(),
        );
        registry.register(
            "stream_frames_rejected",
            "Stream frames that could not be used, by reason (not_json, no_headers, no_message_id, bad_data, too_large, unknown_topic, unknown_type, binary)",
            self.rejected.clone(),
        );
        registry.register(
            "stream_frames_unacknowledged",
            "Stream robot messages left unacknowledged so DingTalk delivers them again, by reason (busy, dedupe_full, unavailable)",
            self.unacknowledged.clone(),
        );
    }

    /// One more open connection, until the guard is dropped.
    pub fn connection_open(&self) -> super::GaugeGuard {
        super::GaugeGuard::up(&self.connections_open)
    }

    /// Connections open now.
    pub fn open_now(&self) -> i64 {
        self.connections_open.get()
    }

    pub fn reconnect(&self, reason: &'static str) {
        self.reconnects
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub fn ack(&self) {
        self.acks.inc();
    }

    pub fn rejected(&self, reason: &'static str) {
        self.rejected.get_or_create(&ReasonLabels { reason }).inc();
    }

    pub fn unacknowledged(&self, reason: &'static str) {
        self.unacknowledged
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }
}
