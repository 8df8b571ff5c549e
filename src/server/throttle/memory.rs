//! Throttling state in this process's memory: enough for SQLite, which one instance
//! owns. Bounded (issue 31 finding 5): past the bound, room for a new key comes first
//! from states that step like new ones (each keeps the time from which it does), then
//! from the least recently used of the rest, except an account's streak past its free
//! attempts (`Rule::holds_back`), which is never dropped while it lasts: a flood of new
//! names or addresses cannot wipe the delays a guessed account has earned (such streaks
//! it passes over move to the back). Should the states looked at all be such streaks,
//! the attempt that needs a new key is refused (fail closed). Every step is a few operations under the one lock, never a scan.

use super::{
    rules::{RetryAfter, Rule, State},
    ThrottleStore,
};
use crate::server::store::StoreError;
use async_trait::async_trait;
use hashlink::LruCache;
use std::{
    sync::{Mutex, PoisonError},
    time::Duration,
};

/// How many of the least recently used states a new key may look at for room.
const LOOK_AT: usize = 8;
/// The wait a refused new key is told at most (room comes as states run out).
const FULL_WAIT: Duration = Duration::from_secs(60);

/// A key's state, the time (ms) from which it steps like a new one, and whether it
/// must be kept until then.
#[derive(Clone, Copy)]
struct Kept {
    state: State,
    forget_at: i64,
    holds_back: bool,
}

pub struct MemoryThrottle {
    states: Mutex<LruCache<String, Kept>>,
    max_keys: usize,
}

impl MemoryThrottle {
    /// Keeps at most `max_keys` states (at least one).
    pub fn new(max_keys: usize) -> Self {
        Self {
            states: Mutex::new(LruCache::new_unbounded()),
            max_keys: max_keys.max(1),
        }
    }
}

/// Makes room for one more key: the least recently used state goes, unless it holds an
/// account back and still counts; such a one is marked used (it moves to the back) and
/// the next is looked at, `LOOK_AT` at most; else the wait until the soonest of them
/// steps like new.
fn make_room(states: &mut LruCache<String, Kept>, now_ms: i64) -> Result<(), RetryAfter> {
    let mut soonest = i64::MAX;
    for _ in 0..LOOK_AT {
        let Some((key, kept)) = states.iter().next().map(|(key, kept)| (key.clone(), *kept)) else {
            return Ok(());
        };
        if kept.forget_at <= now_ms || !kept.holds_back {
            states.remove(&key);
            return Ok(());
        }
        soonest = soonest.min(kept.forget_at);
        states.get(&key);
    }
    let wait = Duration::from_millis(u64::try_from(soonest - now_ms).unwrap_or(0));
    Err(RetryAfter(wait.clamp(Duration::from_secs(1), FULL_WAIT)))
}

#[async_trait]
impl ThrottleStore for MemoryThrottle {
    async fn step(
        &self,
        key: &str,
        rule: Rule,
        now_ms: i64,
    ) -> Result<Result<(), RetryAfter>, StoreError> {
        let mut states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        // Reading marks the key used, refused or not.
        let known = states.get(key).map(|kept| kept.state);
        let state = known.unwrap_or_default();
        let (next, verdict) = rule.step(state, now_ms);
        if next == state {
            return Ok(verdict);
        }
        if known.is_none() && states.len() >= self.max_keys {
            if let Err(full) = make_room(&mut states, now_ms) {
                metrics::counter!("keyhold_throttle_full_total").increment(1);
                return Ok(Err(full));
            }
        }
        let kept = Kept {
            state: next,
            forget_at: rule.forget_at(next),
            holds_back: rule.holds_back(next),
        };
        states.insert(key.to_owned(), kept);
        Ok(verdict)
    }

    async fn forget(&self, key: &str) -> Result<(), StoreError> {
        self.states
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
        Ok(())
    }

    async fn tracked_keys(&self) -> Result<u64, StoreError> {
        let states = self.states.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(states.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUCKET: Rule = Rule::Bucket {
        burst: 1,
        interval: Duration::from_secs(60),
    };
    const BACKOFF: Rule = Rule::Backoff {
        free: 2,
        base: Duration::from_secs(1),
        cap: Duration::from_secs(300),
        quiet: Duration::from_secs(3600),
    };

    #[tokio::test]
    async fn past_its_capacity_the_least_recently_used_goes() {
        let throttle = MemoryThrottle::new(3);
        for key in ["a", "b", "c"] {
            assert!(throttle.step(key, BUCKET, 0).await.unwrap().is_ok());
        }
        // "a" is used again (refused): "b" is now the least recently used, and goes.
        assert!(throttle.step("a", BUCKET, 0).await.unwrap().is_err());
        assert!(throttle.step("d", BUCKET, 0).await.unwrap().is_ok());
        assert_eq!(throttle.tracked_keys().await.unwrap(), 3);
        assert!(
            throttle.step("a", BUCKET, 0).await.unwrap().is_err(),
            "kept"
        );
        assert!(
            throttle.step("c", BUCKET, 0).await.unwrap().is_err(),
            "kept"
        );
        assert!(
            throttle.step("b", BUCKET, 0).await.unwrap().is_ok(),
            "dropped"
        );
        assert_eq!(throttle.tracked_keys().await.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_flood_of_new_keys_never_wipes_an_accounts_streak() {
        let throttle = MemoryThrottle::new(10);
        // The account's streak: past its free attempts, it waits.
        for at in [0, 1, 2] {
            assert!(throttle.step("account", BACKOFF, at).await.unwrap().is_ok());
        }
        assert!(throttle.step("account", BACKOFF, 3).await.unwrap().is_err());
        // A flood of new keys, each still counting (a bucket spent a moment ago).
        for n in 0..1000 {
            let key = format!("address-{n}");
            assert!(throttle.step(&key, BUCKET, 1_000).await.unwrap().is_ok());
        }
        assert_eq!(throttle.tracked_keys().await.unwrap(), 10);
        // The account's wait is over, and its streak is still there: the next failure
        // waits longer again.
        assert!(throttle
            .step("account", BACKOFF, 2_100)
            .await
            .unwrap()
            .is_ok());
        assert!(throttle
            .step("account", BACKOFF, 2_200)
            .await
            .unwrap()
            .is_err());
    }

    #[tokio::test]
    async fn full_of_streaks_a_new_key_is_refused() {
        let throttle = MemoryThrottle::new(2);
        for account in ["ada", "bob"] {
            for at in [0, 1, 2] {
                assert!(throttle.step(account, BACKOFF, at).await.unwrap().is_ok());
            }
        }
        let refused = throttle.step("carol", BACKOFF, 5).await.unwrap();
        assert!(refused.is_err(), "no streak is dropped for a new key");
        assert_eq!(throttle.tracked_keys().await.unwrap(), 2);
        // Once the streaks are over (an hour of quiet), there is room again.
        let later = 2 * 3_600_000;
        assert!(throttle
            .step("carol", BACKOFF, later)
            .await
            .unwrap()
            .is_ok());
    }
}
