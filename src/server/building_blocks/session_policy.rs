//! How long sessions live, when activity is recorded, and how long a just-replaced
//! refresh token is still accepted: rules that need no database.

use std::time::Duration;

/// How long sessions live and how refresh tokens rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after the log-in, whatever the activity.
    pub lifetime: Duration,
    /// How long a just-replaced refresh token is still accepted (tabs racing).
    pub grace: Duration,
    /// Sessions kept per user; the least recently used go first.
    pub max_per_user: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(7 * 86_400),
            lifetime: Duration::from_secs(30 * 86_400),
            grace: Duration::from_secs(10),
            max_per_user: 50,
        }
    }
}

impl SessionPolicy {
    /// Whether a session with these times is over at `now` (unix seconds).
    pub fn is_over(&self, last_seen_at: i64, expires_at: i64, now: i64) -> bool {
        now >= expires_at || now - last_seen_at >= secs(self.idle)
    }

    /// Sessions last seen before this are idle.
    pub fn idle_cutoff(&self, now: i64) -> i64 {
        now - secs(self.idle)
    }

    pub fn expires_at(&self, now: i64) -> i64 {
        now + secs(self.lifetime)
    }

    /// Seconds between two recordings of activity: at most a minute, and often enough
    /// that a short idle timeout cannot end a session in use.
    pub fn touch_interval(&self) -> i64 {
        (secs(self.idle) / 10).clamp(1, 60)
    }

    pub fn in_grace(&self, rotated_at: i64, now: i64) -> bool {
        now - rotated_at <= secs(self.grace)
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_ends_idle_and_old_sessions() {
        let policy = SessionPolicy {
            idle: Duration::from_secs(100),
            lifetime: Duration::from_secs(1000),
            ..SessionPolicy::default()
        };
        assert!(!policy.is_over(0, 1000, 99));
        assert!(policy.is_over(0, 1000, 100), "idle");
        assert!(policy.is_over(950, 1000, 1000), "absolute");
        assert!(policy.in_grace(50, 60));
        assert!(!policy.in_grace(50, 61));
    }
}
