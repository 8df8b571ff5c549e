//! Throttling state in PostgreSQL, so every instance spends the same budgets: the row is
//! locked while its step is computed, so concurrent attempts on any
//! instance are counted one after the other. (PostgreSQL only: SQLite's single instance
//! keeps the state in memory.) The table is bounded (issue 31 finding 5): every so many
//! steps, off the request path, rows that would step like new ones go, and past the
//! bound those nearest to it (the oldest `until_ms`).

use super::SqlStore;
use crate::server::{
    store::StoreError,
    throttle::{
        rules::{RetryAfter, Rule, State},
        ThrottleStore, LONGEST_QUIET,
    },
};
use async_trait::async_trait;
use sqlx::Row;
use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc,
};

/// Steps between two prunes, at most (fewer for a small bound, so it holds closely).
const PRUNE_EVERY_MAX: u64 = 512;

pub struct SqlThrottle {
    store: SqlStore,
    max_keys: i64,
    prune_every: u64,
    steps: AtomicU64,
    /// Prunes asked for and not yet begun: one task prunes at a time, once more for
    /// those asked for while it ran.
    prunes_asked: Arc<AtomicU64>,
}

impl SqlThrottle {
    /// The `throttle` table of `store`, kept to about `max_keys` rows.
    pub fn new(store: SqlStore, max_keys: usize) -> Self {
        let max_keys = u64::try_from(max_keys).unwrap_or(u64::MAX).max(1);
        Self {
            store,
            max_keys: i64::try_from(max_keys).unwrap_or(i64::MAX),
            prune_every: (max_keys / 4).clamp(1, PRUNE_EVERY_MAX),
            steps: AtomicU64::new(0),
            prunes_asked: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Deletes, in the background, the rows that step like new ones and, past the bound,
    /// the oldest: one statement, one index range (best effort: a failure is logged).
    fn prune(&self, now_ms: i64) {
        if self.prunes_asked.fetch_add(1, Ordering::AcqRel) > 0 {
            return;
        }
        let horizon = now_ms - i64::try_from(LONGEST_QUIET.as_millis()).unwrap_or(0);
        let (pool, max_keys, asked) = (
            self.store.pool.clone(),
            self.max_keys,
            self.prunes_asked.clone(),
        );
        tokio::spawn(async move {
            loop {
                let answered = asked.load(Ordering::Acquire);
                let pruned = sqlx::query(
                    "DELETE FROM throttle WHERE until_ms < GREATEST($1, (SELECT until_ms + 1 \
                     FROM throttle ORDER BY until_ms DESC OFFSET $2 LIMIT 1))",
                )
                .bind(horizon)
                .bind(max_keys)
                .execute(&pool)
                .await;
                if let Err(e) = pruned {
                    metrics::counter!("keyhold_db_errors_total").increment(1);
                    tracing::warn!(reason = %e, "cannot prune the throttle table");
                }
                if asked.fetch_sub(answered, Ordering::AcqRel) == answered {
                    return;
                }
            }
        });
    }
}

#[async_trait]
impl ThrottleStore for SqlThrottle {
    async fn step(
        &self,
        key: &str,
        rule: Rule,
        now_ms: i64,
    ) -> Result<Result<(), RetryAfter>, StoreError> {
        let mut tx = self.store.pool.begin().await?;
        // One statement creates the row if needed and locks it (the no-op update) for
        // the rest of the transaction, returning its state.
        let row = sqlx::query(
            "INSERT INTO throttle (key, attempts, until_ms) VALUES ($1, 0, 0) \
             ON CONFLICT (key) DO UPDATE SET key = excluded.key \
             RETURNING attempts, until_ms",
        )
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        let state = State {
            count: row.try_get("attempts")?,
            until_ms: row.try_get("until_ms")?,
        };
        let (next, verdict) = rule.step(state, now_ms);
        if next != state {
            sqlx::query("UPDATE throttle SET attempts = $1, until_ms = $2 WHERE key = $3")
                .bind(next.count)
                .bind(next.until_ms)
                .bind(key)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if self
            .steps
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(self.prune_every)
        {
            self.prune(now_ms);
        }
        Ok(verdict)
    }

    async fn forget(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM throttle WHERE key = $1")
            .bind(key)
            .execute(&self.store.pool)
            .await?;
        Ok(())
    }

    async fn tracked_keys(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM throttle")
            .fetch_one(&self.store.pool)
            .await?;
        Ok(u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0))
    }
}
