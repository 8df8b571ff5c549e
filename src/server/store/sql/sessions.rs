//! Sign-in sessions in SQL: created (with pruning), looked up with their user, rotated
//! only if the presented hash is still current, touched, listed and ended.

use super::{
    delete_sessions_of, session_from, user_from, ConstraintExt, SqlStore, SESSION_COLUMNS,
};
use crate::server::store::{
    Rotation, Session, SessionLimits, SessionStore, StoreError, User, RETIRED_HASHES_KEPT,
};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl SessionStore for SqlStore {
    async fn create_session(
        &self,
        session: &Session,
        limits: SessionLimits,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Only while the user's generation is still the one the log-in read: a password
        // change or log-out-everywhere that landed during the password check wins.
        let created = sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, user_agent, \
             address, refresh_hash, previous_hash, rotated_at, generation, amr) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 FROM users \
             WHERE id = $2 AND token_generation = $11",
        )
        .bind(&session.id)
        .bind(session.user_id)
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.expires_at)
        .bind(&session.user_agent)
        .bind(&session.address)
        .bind(&session.refresh_hash)
        .bind(session.previous_hash.as_deref())
        .bind(session.rotated_at)
        .bind(session.generation)
        .bind(&session.amr)
        .execute(&mut *tx)
        .await
        .on_constraints()?
        .rows_affected()
            == 1;
        if !created {
            return Ok(false);
        }
        sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND (expires_at <= $2 OR last_seen_at < $3 \
             OR id NOT IN (SELECT id FROM sessions WHERE user_id = $1 \
             ORDER BY last_seen_at DESC, created_at DESC LIMIT $4))",
        )
        .bind(session.user_id)
        .bind(session.created_at)
        .bind(limits.idle_cutoff)
        .bind(limits.max_per_user)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
    async fn session(&self, id: &str) -> Result<Option<(Session, User)>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS}, u.id, u.username, u.email, u.created_at, u.updated_at, \
             u.token_generation, u.image_hash, u.disabled_at, u.email_verified_at, u.pending_email \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let pair = row
            .map(|row| -> Result<_, sqlx::Error> { Ok((session_from(&row)?, user_from(&row)?)) });
        Ok(pair.transpose()?)
    }
    async fn rotate_session(
        &self,
        user_id: i64,
        id: &str,
        rotation: Rotation<'_>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query(
            "UPDATE sessions SET refresh_hash = $1, previous_hash = $2, rotated_at = $3, \
             last_seen_at = $3, user_agent = $4, address = $5 \
             WHERE id = $6 AND user_id = $7 AND refresh_hash = $2",
        )
        .bind(rotation.to)
        .bind(rotation.from)
        .bind(rotation.now)
        .bind(rotation.user_agent)
        .bind(rotation.address)
        .bind(id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        if result.rows_affected() != 1 {
            return Ok(false);
        }
        // Numbered per session (the row update above admits one rotation at a time).
        sqlx::query(
            "INSERT INTO retired_refresh_hashes (session_id, hash, seq) \
             SELECT $1, $2, COALESCE(MAX(seq), 0) + 1 FROM retired_refresh_hashes \
             WHERE session_id = $1",
        )
        .bind(id)
        .bind(rotation.from)
        .execute(&mut *tx)
        .await?;
        // Only the most recent ones are kept (a bounded table, whatever a client does).
        sqlx::query(
            "DELETE FROM retired_refresh_hashes WHERE session_id = $1 AND seq <= \
             (SELECT MAX(seq) FROM retired_refresh_hashes WHERE session_id = $1) - $2",
        )
        .bind(id)
        .bind(RETIRED_HASHES_KEPT)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
    async fn was_retired(&self, id: &str, hash: &str) -> Result<bool, StoreError> {
        // The hash is of a 256-bit random secret: an index lookup on it tells a timing
        // observer nothing about any secret.
        let row = sqlx::query(
            "SELECT 1 AS found FROM retired_refresh_hashes WHERE session_id = $1 AND hash = $2",
        )
        .bind(id)
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }
    async fn touch_session(&self, user_id: i64, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND user_id = $3")
            .bind(now)
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
    async fn sessions(&self, user_id: i64) -> Result<Vec<Session>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = $1 \
             ORDER BY s.last_seen_at DESC, s.created_at DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(session_from).collect::<Result<_, _>>()?)
    }
    async fn delete_session(&self, user_id: i64, id: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }
    async fn count_sessions(&self, now: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS live FROM sessions WHERE expires_at > $1")
            .bind(now)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("live")?)
    }
    async fn delete_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ended = delete_sessions_of(&mut tx, user_id, keep).await?;
        tx.commit().await?;
        Ok(ended)
    }
}
