//! Throttling state in this process's memory: enough for SQLite, which one instance
//! owns. Bounded: past `MAX_TRACKED` keys, the ones that would step like new are dropped.

use super::{
    rules::{RetryAfter, Rule, State},
    ThrottleStore, LONGEST_QUIET,
};
use crate::server::store::StoreError;
use async_trait::async_trait;
use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

const MAX_TRACKED: usize = 100_000;

#[derive(Default)]
pub struct MemoryThrottle {
    states: Mutex<HashMap<String, State>>,
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
        if states.len() >= MAX_TRACKED && !states.contains_key(key) {
            states.retain(|_, state| !Rule::forgettable(*state, now_ms, LONGEST_QUIET));
        }
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
}
