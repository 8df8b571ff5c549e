//! The arithmetic of throttling, pure and shared by both places the state lives
//! (memory for one SQLite instance, PostgreSQL for several): a budget is a [`Rule`], its
//! state per key a [`State`] of two integers, and one [`Rule::step`] both checks an
//! attempt and reserves it, so concurrent attempts cannot all pass one check.

use std::time::Duration;

/// What is kept per key. All zero is "never seen".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State {
    /// Attempts in the current streak (backoff only).
    pub count: i64,
    /// Milliseconds since the epoch: the theoretical arrival time (GCRA), or when the next
    /// attempt is allowed (backoff).
    pub until_ms: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A token bucket as GCRA: `burst` attempts at once, then one per `interval`.
    Bucket { burst: u32, interval: Duration },
    /// Consecutive attempts: `free` of them without delay, then a wait that doubles from
    /// `base` after each one, capped at `cap`; a streak is forgotten after `quiet`
    /// without attempts.
    Backoff {
        free: u32,
        base: Duration,
        cap: Duration,
        quiet: Duration,
    },
}

/// How long to wait before the next attempt may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, at least 1 (for the `Retry-After` header).
    pub fn seconds(self) -> u64 {
        self.0.as_secs_f64().ceil().max(1.0) as u64
    }
}

/// How far apart the `now` of concurrent attempts may be without costing a burst slot.
const CLOCK_SLACK_MS: i64 = 1000;

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Rule {
    /// From when `state` steps exactly as a key never seen, so that dropping it forgets
    /// nothing: a bucket once it has filled up again, a backoff once its streak is over.
    pub fn forget_at(self, state: State) -> i64 {
        match self {
            Rule::Bucket { .. } => state.until_ms,
            Rule::Backoff { quiet, .. } => state.until_ms.saturating_add(ms(quiet)) + 1,
        }
    }

    /// Whether `state` is a streak past its free attempts: what slows a guesser down on
    /// an account, which bounding the state must never drop before `forget_at`.
    pub fn holds_back(self, state: State) -> bool {
        matches!(self, Rule::Backoff { free, .. } if state.count > i64::from(free))
    }

    /// Checks an attempt at `now_ms` against `state` and, if it may go ahead, counts it:
    /// the state to store and the verdict. A refused attempt leaves the state as it was.
    pub fn step(self, state: State, now_ms: i64) -> (State, Result<(), RetryAfter>) {
        match self {
            Rule::Bucket { burst, interval } => {
                let interval = ms(interval).max(1);
                let tolerance = interval.saturating_mul(i64::from(burst.max(1)));
                let next = state.until_ms.max(now_ms).saturating_add(interval);
                let ahead = next - now_ms;
                // The slack absorbs instances' clocks and a `now` read just before
                // waiting for the row lock; a refusal still reports the full wait.
                if ahead > tolerance + CLOCK_SLACK_MS {
                    let wait = Duration::from_millis((ahead - tolerance) as u64);
                    return (state, Err(RetryAfter(wait)));
                }
                (
                    State {
                        count: 0,
                        until_ms: next,
                    },
                    Ok(()),
                )
            }
            Rule::Backoff {
                free,
                base,
                cap,
                quiet,
            } => {
                // Only a streak past its free attempts makes anyone wait (a `now` read a
                // moment before a concurrent attempt's is not "too early").
                if state.count > i64::from(free) && state.until_ms > now_ms {
                    let wait = Duration::from_millis((state.until_ms - now_ms) as u64);
                    return (state, Err(RetryAfter(wait)));
                }
                let streak = if now_ms - state.until_ms > ms(quiet) {
                    0
                } else {
                    state.count
                };
                let count = streak.saturating_add(1);
                let over = count - i64::from(free);
                let delay = if over <= 0 {
                    0
                } else {
                    let doublings = u32::try_from(over - 1).unwrap_or(u32::MAX).min(40);
                    ms(base).saturating_mul(1_i64 << doublings).min(ms(cap))
                };
                (
                    State {
                        count,
                        until_ms: now_ms + delay,
                    },
                    Ok(()),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1000;

    fn run(rule: Rule, times: &[i64]) -> Vec<Result<(), u64>> {
        let mut state = State::default();
        times
            .iter()
            .map(|&now| {
                let (next, verdict) = rule.step(state, now);
                state = next;
                verdict.map_err(RetryAfter::seconds)
            })
            .collect()
    }

    #[test]
    fn a_bucket_allows_its_burst_then_one_per_interval() {
        let rule = Rule::Bucket {
            burst: 5,
            interval: Duration::from_secs(12),
        };
        let t0 = 1_000_000 * SECOND;
        let verdicts = run(
            rule,
            &[t0, t0, t0, t0, t0, t0, t0 + 12 * SECOND, t0 + 12 * SECOND],
        );
        assert_eq!(
            verdicts,
            vec![
                Ok(()),
                Ok(()),
                Ok(()),
                Ok(()),
                Ok(()),
                Err(12),
                Ok(()),
                Err(12)
            ]
        );
    }

    #[test]
    fn a_backoff_doubles_after_the_free_attempts_up_to_its_cap() {
        let rule = Rule::Backoff {
            free: 3,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(8),
            quiet: Duration::from_secs(3600),
        };
        let mut state = State::default();
        let mut now = 1_000_000 * SECOND;
        let mut waits = Vec::new();
        for _ in 0..9 {
            let (next, verdict) = rule.step(state, now);
            assert!(verdict.is_ok());
            state = next;
            let wait = state.until_ms - now;
            waits.push(wait / SECOND);
            // Too early: refused, and the refusal does not lengthen the wait.
            if wait > 0 {
                let (same, refused) = rule.step(state, now + wait - 1);
                assert_eq!(same, state);
                assert!(refused.is_err());
            }
            now += wait;
        }
        assert_eq!(waits, vec![0, 0, 0, 1, 2, 4, 8, 8, 8]);
        // After an hour of quiet the streak starts again.
        let (fresh, _) = rule.step(state, now + 3601 * SECOND);
        assert_eq!(fresh.count, 1);
    }

    #[test]
    fn a_refused_attempt_changes_nothing() {
        let rule = Rule::Bucket {
            burst: 1,
            interval: Duration::from_secs(60),
        };
        let (state, first) = rule.step(State::default(), 0);
        assert!(first.is_ok());
        let (after, second) = rule.step(state, SECOND);
        assert_eq!(after, state);
        assert_eq!(second, Err(RetryAfter(Duration::from_secs(59))));
    }
}
