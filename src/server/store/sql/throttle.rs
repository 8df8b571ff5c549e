//! Throttling state in PostgreSQL, so every instance spends the same budgets: the row is
//! locked while its step is computed, so concurrent attempts on any
//! instance are counted one after the other. (PostgreSQL only: SQLite's single instance
//! keeps the state in memory.)

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

/// About one step in this many also prunes rows that would step like new ones.
const PRUNE_EVERY_MS: i64 = 512;

#[async_trait]
impl ThrottleStore for SqlStore {
    async fn step(
        &self,
        key: &str,
        rule: Rule,
        now_ms: i64,
    ) -> Result<Result<(), RetryAfter>, StoreError> {
        let mut tx = self.pool.begin().await?;
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
        if now_ms % PRUNE_EVERY_MS == 0 {
            let horizon = now_ms - i64::try_from(LONGEST_QUIET.as_millis()).unwrap_or(0);
            sqlx::query("DELETE FROM throttle WHERE until_ms < $1")
                .bind(horizon)
                .execute(&self.pool)
                .await?;
        }
        Ok(verdict)
    }

    async fn forget(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM throttle WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
