//! The security activity log in SQL.

use super::SqlStore;
use crate::server::store::{ActivityStore, NewEvent, StoreError, StoredEvent};
use async_trait::async_trait;
use sqlx::{any::AnyRow, Row};

#[async_trait]
impl ActivityStore for SqlStore {
    async fn record_event(&self, event: NewEvent<'_>) -> Result<(), StoreError> {
        if let Some(since) = event.fold_since {
            // Only into the user's very latest entry, so the list stays in time order;
            // from whatever address (alternating addresses must not each write a row),
            // the entry showing the latest one.
            let folded = sqlx::query(
                "UPDATE security_events SET count = count + 1, at = $1, address = $4 \
                 WHERE id = (SELECT MAX(id) FROM security_events WHERE user_id = $2) \
                 AND kind = $3 AND at >= $5",
            )
            .bind(event.at)
            .bind(event.user_id)
            .bind(event.kind)
            .bind(event.address)
            .bind(since)
            .execute(&self.pool)
            .await?;
            if folded.rows_affected() > 0 {
                return Ok(());
            }
        }
        sqlx::query(
            "INSERT INTO security_events (user_id, kind, at, address, user_agent, session_id) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(event.user_id)
        .bind(event.kind)
        .bind(event.at)
        .bind(event.address)
        .bind(event.user_agent)
        .bind(event.session_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn events(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, kind, at, address, user_agent, session_id, count \
             FROM security_events WHERE user_id = $1 AND id < COALESCE($2, 9223372036854775807) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(user_id)
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(event_from)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn prune_events(&self, cutoff: i64) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM security_events WHERE at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected())
    }
}

fn event_from(row: &AnyRow) -> Result<StoredEvent, sqlx::Error> {
    Ok(StoredEvent {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        kind: row.try_get("kind")?,
        at: row.try_get("at")?,
        address: row.try_get("address")?,
        user_agent: row.try_get("user_agent")?,
        session_id: row.try_get("session_id")?,
        count: row.try_get("count")?,
    })
}
