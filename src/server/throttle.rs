//! Failed-login throttling (OWASP ASVS 6.3, docs/security.md "Log-in"): a token bucket per
//! account and client address (by default 5 failures a minute), and a cap on
//! consecutive failures per account (by default 100) whatever the address. A successful
//! login resets the account's streak. Checked before any hashing, so a throttled
//! attempt costs nothing; the same answer for existing and unknown accounts.
//!
//! State is per instance and in memory, bounded by `MAX_TRACKED` entries.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Entries kept before idle ones are dropped (bounds memory under a spray attack).
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failures allowed in a burst per account and address.
    pub burst: u32,
    /// How long one failure takes to be forgiven (refill interval of the bucket).
    pub refill: Duration,
    /// Consecutive failures per account before it is locked for `lockout`.
    pub max_streak: u32,
    pub lockout: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            burst: 5,
            refill: Duration::from_secs(12),
            max_streak: 100,
            lockout: Duration::from_secs(15 * 60),
        }
    }
}

/// Too many failures: try again after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, at least 1 (for the `Retry-After` header).
    pub fn seconds(self) -> u64 {
        self.0.as_secs_f64().ceil().max(1.0) as u64
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Failures still allowed (fractional while refilling).
    tokens: f64,
    updated: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Streak {
    failures: u32,
    last: Instant,
}

pub struct LoginThrottle {
    config: ThrottleConfig,
    buckets: Mutex<HashMap<(String, IpAddr), Bucket>>,
    streaks: Mutex<HashMap<String, Streak>>,
}

impl LoginThrottle {
    pub fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
            streaks: Mutex::new(HashMap::new()),
        }
    }

    /// Whether an attempt for `account` (its lookup key) from `client` may go ahead.
    pub fn check(&self, account: &str, client: IpAddr) -> Result<(), RetryAfter> {
        self.check_at(account, client, Instant::now())
    }

    pub fn record_failure(&self, account: &str, client: IpAddr) {
        self.record_failure_at(account, client, Instant::now());
    }

    /// A successful login forgives the account's streak and this address's bucket.
    pub fn record_success(&self, account: &str, client: IpAddr) {
        lock(&self.streaks).remove(account);
        lock(&self.buckets).remove(&(account.to_owned(), client));
    }

    fn check_at(&self, account: &str, client: IpAddr, now: Instant) -> Result<(), RetryAfter> {
        if let Some(streak) = lock(&self.streaks).get(account) {
            let locked_until = streak.last + self.config.lockout;
            if streak.failures >= self.config.max_streak && now < locked_until {
                return Err(RetryAfter(locked_until - now));
            }
        }
        let key = (account.to_owned(), client);
        match lock(&self.buckets).get(&key) {
            Some(bucket) => {
                let tokens = self.refilled(bucket, now);
                if tokens >= 1.0 {
                    Ok(())
                } else {
                    let missing = 1.0 - tokens;
                    Err(RetryAfter(self.config.refill.mul_f64(missing)))
                }
            }
            None => Ok(()),
        }
    }

    fn record_failure_at(&self, account: &str, client: IpAddr, now: Instant) {
        {
            let mut buckets = lock(&self.buckets);
            if buckets.len() >= MAX_TRACKED {
                let config = self.config;
                buckets.retain(|_, b| refilled(config, b, now) < f64::from(config.burst));
            }
            let bucket = buckets
                .entry((account.to_owned(), client))
                .or_insert(Bucket {
                    tokens: f64::from(self.config.burst),
                    updated: now,
                });
            bucket.tokens = (self.refilled(bucket, now) - 1.0).max(0.0);
            bucket.updated = now;
        }
        let mut streaks = lock(&self.streaks);
        if streaks.len() >= MAX_TRACKED {
            let lockout = self.config.lockout;
            streaks.retain(|_, s| now.duration_since(s.last) < lockout);
        }
        let streak = streaks.entry(account.to_owned()).or_insert(Streak {
            failures: 0,
            last: now,
        });
        // A streak older than the lockout starts again.
        if now.duration_since(streak.last) >= self.config.lockout {
            streak.failures = 0;
        }
        streak.failures = streak.failures.saturating_add(1);
        streak.last = now;
    }

    fn refilled(&self, bucket: &Bucket, now: Instant) -> f64 {
        refilled(self.config, bucket, now)
    }
}

fn refilled(config: ThrottleConfig, bucket: &Bucket, now: Instant) -> f64 {
    let elapsed = now.duration_since(bucket.updated).as_secs_f64();
    let gained = elapsed / config.refill.as_secs_f64().max(f64::EPSILON);
    (bucket.tokens + gained).min(f64::from(config.burst))
}

/// A poisoned lock only means another request panicked mid-update; the counters are
/// still usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn five_failures_then_wait_for_refill() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(throttle.check_at("ann", A, t0).is_ok());
            throttle.record_failure_at("ann", A, t0);
        }
        let wait = throttle.check_at("ann", A, t0).unwrap_err();
        assert_eq!(wait.seconds(), 12);
        // Another address and another account are not affected.
        assert!(throttle.check_at("ann", B, t0).is_ok());
        assert!(throttle.check_at("bob", A, t0).is_ok());
        // One refill interval later, one more attempt is allowed.
        let later = t0 + Duration::from_secs(12);
        assert!(throttle.check_at("ann", A, later).is_ok());
        throttle.record_failure_at("ann", A, later);
        assert!(throttle.check_at("ann", A, later).is_err());
    }

    #[test]
    fn success_resets_the_account() {
        let throttle = LoginThrottle::new(ThrottleConfig::default());
        let t0 = Instant::now();
        for _ in 0..5 {
            throttle.record_failure_at("ann", A, t0);
        }
        throttle.record_success("ann", A);
        assert!(throttle.check_at("ann", A, t0).is_ok());
    }

    #[test]
    fn a_long_streak_locks_the_account_from_every_address() {
        let config = ThrottleConfig {
            max_streak: 10,
            ..ThrottleConfig::default()
        };
        let throttle = LoginThrottle::new(config);
        let t0 = Instant::now();
        for i in 0..10u8 {
            let client = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, i));
            throttle.record_failure_at("ann", client, t0);
        }
        let wait = throttle.check_at("ann", B, t0).unwrap_err();
        assert_eq!(wait.seconds(), 15 * 60);
        assert!(throttle
            .check_at("ann", B, t0 + config.lockout + Duration::from_secs(1))
            .is_ok());
    }
}
