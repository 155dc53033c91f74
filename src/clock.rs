//! The wall clock in DingTalk's units: epoch milliseconds, and GMT+8 for display.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, the unit of every DingTalk timestamp.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// `yyyy-MM-dd HH:mm:ss` in GMT+8 (China Standard Time, DingTalk's and TOP's clock).
pub fn format_gmt8(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(time::macros::offset!(+8))
        .format(&format)
        .unwrap_or_default()
}
