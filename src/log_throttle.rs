//! At most one log line a second for events an outsider can cause at will (forged or
//! malformed callbacks), so a flood fills metrics, not the disk.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Lets one event a second through; counts the ones held back.
#[derive(Default)]
pub struct LogThrottle {
    last_ms: AtomicI64,
    suppressed: AtomicU64,
}

impl LogThrottle {
    /// `Some(n)` if this event should be logged, `n` being how many were held back since
    /// the last logged one; `None` to stay quiet.
    pub fn admit(&self, now_ms: i64) -> Option<u64> {
        let last = self.last_ms.load(Ordering::Relaxed);
        if now_ms - last >= 1000
            && self
                .last_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_second_with_the_count_held_back() {
        let t = LogThrottle::default();
        assert_eq!(t.admit(10_000), Some(0));
        assert_eq!(t.admit(10_001), None);
        assert_eq!(t.admit(10_999), None);
        assert_eq!(t.admit(11_000), Some(2));
    }
}
