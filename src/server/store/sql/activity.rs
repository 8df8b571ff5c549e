//! The security activity log in SQL.

use super::SqlStore;
use crate::server::store::{ActivityStore, Fold, NewEvent, Recorded, StoreError, StoredEvent};
use async_trait::async_trait;
use sqlx::{
    any::{AnyArguments, AnyRow},
    query::Query,
    Any, Row,
};

#[async_trait]
impl ActivityStore for SqlStore {
    async fn record_event(&self, event: NewEvent<'_>) -> Result<Recorded, StoreError> {
        match (event.fold, event.session_id) {
            (Some(Fold::IntoLatest { since }), _) => {
                // Only into the user's very latest entry, so the list stays in time
                // order; from whatever address (alternating addresses must not each write
                // a row), the entry showing the latest one.
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
                    return Ok(Recorded::Folded);
                }
            }
            (Some(Fold::SameSession { since }), Some(session)) => {
                // The session's earlier entry of the kind leaves its place and comes back
                // on top with one more in its count: alternating kinds (revoke the
                // others, "this wasn't me", …) cannot add a row each.
                let mut tx = self.pool.begin().await?;
                let earlier = sqlx::query(
                    "DELETE FROM security_events WHERE id = (SELECT MAX(id) \
                     FROM security_events WHERE user_id = $1 AND kind = $2 \
                     AND session_id = $3 AND at >= $4) RETURNING count",
                )
                .bind(event.user_id)
                .bind(event.kind)
                .bind(session)
                .bind(since)
                .fetch_optional(&mut *tx)
                .await?;
                let before: i64 = earlier
                    .map(|row| row.try_get("count"))
                    .transpose()?
                    .unwrap_or(0);
                insert(&event, before + 1).execute(&mut *tx).await?;
                tx.commit().await?;
                return Ok(if before > 0 {
                    Recorded::Folded
                } else {
                    Recorded::Added
                });
            }
            _ => {}
        }
        insert(&event, 1).execute(&self.pool).await?;
        Ok(Recorded::Added)
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

/// The statement adding `event` as an entry standing for `count` occurrences.
fn insert<'q>(event: &NewEvent<'q>, count: i64) -> Query<'q, Any, AnyArguments<'q>> {
    sqlx::query(
        "INSERT INTO security_events (user_id, kind, at, address, user_agent, session_id, \
         count) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(event.user_id)
    .bind(event.kind)
    .bind(event.at)
    .bind(event.address)
    .bind(event.user_agent)
    .bind(event.session_id)
    .bind(count)
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
