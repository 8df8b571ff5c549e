//! Throttling state in this process's memory: enough for SQLite, which one instance
//! owns. Bounded (issue 31 finding 5): past its capacity the least recently used key is
//! dropped, in constant time under the one lock, so a flood of new keys costs no scan.

use super::{
    rules::{RetryAfter, Rule, State},
    ThrottleStore,
};
use crate::server::store::StoreError;
use async_trait::async_trait;
use hashlink::LruCache;
use std::sync::{Mutex, PoisonError};

pub struct MemoryThrottle {
    states: Mutex<LruCache<String, State>>,
}

impl MemoryThrottle {
    /// Keeps at most `max_keys` states (at least one).
    pub fn new(max_keys: usize) -> Self {
        Self {
            states: Mutex::new(LruCache::new(max_keys.max(1))),
        }
    }
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
        let state = states.get(key).copied().unwrap_or_default();
        let (next, verdict) = rule.step(state, now_ms);
        if next != state {
            states.insert(key.to_owned(), next);
        }
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
    use std::time::Duration;

    const BUCKET: Rule = Rule::Bucket {
        burst: 1,
        interval: Duration::from_secs(60),
    };

    #[tokio::test]
    async fn past_its_capacity_the_least_recently_used_key_goes() {
        let throttle = MemoryThrottle::new(3);
        for key in ["a", "b", "c"] {
            assert!(throttle.step(key, BUCKET, 0).await.unwrap().is_ok());
        }
        // "a" is used again (refused): "b" is now the least recently used.
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
    }
}
