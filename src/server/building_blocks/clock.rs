//! The time the account rules and tokens see (unix seconds). The server reads the system
//! clock; tests move it forward (`advance`) instead of sleeping through an expiry.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};
use std::time::Duration;

/// The system clock's time in unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A cheap handle; clones share one clock.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// Seconds added to the system clock: always 0 outside tests.
    ahead: Arc<AtomicI64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// Now, in unix seconds.
    pub fn now(&self) -> i64 {
        unix_now().saturating_add(self.ahead.load(Ordering::Relaxed))
    }

    /// Now, in milliseconds since the epoch (for throttling).
    pub fn now_ms(&self) -> i64 {
        let system = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        system.saturating_add(self.ahead.load(Ordering::Relaxed).saturating_mul(1000))
    }

    /// Moves this clock (and every clone of it) forward, as if `by` had passed.
    pub fn advance(&self, by: Duration) {
        let seconds = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.ahead.fetch_add(seconds, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_time_and_only_move_forward() {
        let clock = Clock::system();
        let shared = clock.clone();
        let before = shared.now();
        clock.advance(Duration::from_secs(86_400));
        assert!(shared.now() >= before + 86_400);
        assert!(shared.now() < before + 86_400 + 5);
    }
}
