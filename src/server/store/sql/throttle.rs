//! Throttling state in PostgreSQL, so every instance spends the same budgets: the row is
//! locked while its step is computed, so concurrent attempts on any
//! instance are counted one after the other. (PostgreSQL only: SQLite's single instance
//! keeps the state in memory.) The table is bounded (issue 31 finding 5): every so many
//! steps, off the request path, the rows that step like new ones go (each keeps the
//! time from which it does, `forget_ms`), then past the bound those soonest forgotten,
//! except an account's streak past its free attempts (`holds_back`), never dropped
//! while it lasts, so a flood of new names or addresses cannot wipe the delays a
//! guessed account has earned. Should such streaks alone fill the table, an attempt that
//! needs a new row is refused (fail closed) and the rows that exist go on as before.

use super::SqlStore;
use crate::server::{
    store::StoreError,
    throttle::{
        rules::{RetryAfter, Rule, State},
        ThrottleStore,
    },
};
use async_trait::async_trait;
use sqlx::Row;
use std::{
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::Duration,
};

/// Steps between two prunes, at most (fewer for a small bound, so it holds closely).
const PRUNE_EVERY_MAX: u64 = 512;
/// The wait a refused new key is told while the table is full.
const FULL_WAIT: Duration = Duration::from_secs(60);

pub struct SqlThrottle {
    store: SqlStore,
    max_keys: i64,
    prune_every: u64,
    steps: AtomicU64,
    /// Prunes asked for and not yet begun: one task prunes at a time, once more for
    /// those asked for while it ran.
    prunes_asked: Arc<AtomicU64>,
    /// The last prune found the table at its bound with every row still counting.
    full: Arc<AtomicBool>,
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
            full: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Deletes, in the background, the rows that step like new ones, then past the bound
    /// those soonest forgotten that do not hold an account back, and tells whether the
    /// rest fill the table (best effort: a failure is logged, and counts as full until a
    /// prune succeeds).
    fn prune(&self, now_ms: i64) {
        if self.prunes_asked.fetch_add(1, Ordering::AcqRel) > 0 {
            return;
        }
        // Down to a prune interval below the bound, so the steps until the next prune
        // have room.
        let room = i64::try_from(self.prune_every).unwrap_or(0);
        let (pool, max_keys, keep, asked, full) = (
            self.store.pool.clone(),
            self.max_keys,
            (self.max_keys - room).max(1),
            self.prunes_asked.clone(),
            self.full.clone(),
        );
        tokio::spawn(async move {
            loop {
                let answered = asked.load(Ordering::Acquire);
                let pruned = async {
                    sqlx::query("DELETE FROM throttle WHERE forget_ms <= $1")
                        .bind(now_ms)
                        .execute(&pool)
                        .await?;
                    sqlx::query(
                        "DELETE FROM throttle WHERE key IN (SELECT key FROM throttle \
                         WHERE NOT holds_back ORDER BY forget_ms \
                         LIMIT GREATEST(0, (SELECT COUNT(*) FROM throttle) - $1))",
                    )
                    .bind(keep)
                    .execute(&pool)
                    .await?;
                    // Counting stops at the bound: no full scan of a flooded table.
                    sqlx::query_scalar::<_, i64>(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM throttle LIMIT $1) AS kept",
                    )
                    .bind(max_keys)
                    .fetch_one(&pool)
                    .await
                };
                match pruned.await {
                    Ok(kept) => full.store(kept >= max_keys, Ordering::Release),
                    Err(e) => {
                        full.store(true, Ordering::Release);
                        metrics::counter!("keyhold_db_errors_total").increment(1);
                        tracing::warn!(reason = %e, "cannot prune the throttle table");
                    }
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
        // (`xmax = 0`: this statement inserted the row rather than found it.)
        let row = sqlx::query(
            "INSERT INTO throttle (key, attempts, until_ms, forget_ms, holds_back) \
             VALUES ($1, 0, 0, 0, FALSE) \
             ON CONFLICT (key) DO UPDATE SET key = excluded.key \
             RETURNING attempts, until_ms, (xmax = 0) AS inserted",
        )
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        let state = State {
            count: row.try_get("attempts")?,
            until_ms: row.try_get("until_ms")?,
        };
        let inserted: bool = row.try_get("inserted")?;
        let (next, verdict) = rule.step(state, now_ms);
        if inserted && next != state && self.full.load(Ordering::Acquire) {
            // Full of rows that still count: no new one (dropping `tx` rolls the insert
            // back); the prune tells when there is room again.
            metrics::counter!("keyhold_throttle_full_total").increment(1);
            self.prune(now_ms);
            return Ok(Err(RetryAfter(FULL_WAIT)));
        }
        if next != state {
            sqlx::query(
                "UPDATE throttle SET attempts = $1, until_ms = $2, forget_ms = $3, \
                 holds_back = $4 WHERE key = $5",
            )
            .bind(next.count)
            .bind(next.until_ms)
            .bind(rule.forget_at(next))
            .bind(rule.holds_back(next))
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
