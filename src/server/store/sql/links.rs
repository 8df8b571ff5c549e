//! Links sent by mail, in SQL: stored by the hash of their secret, one live link per
//! account and purpose, deleted when used.

use super::SqlStore;
use crate::server::store::{LinkStore, OneTimeLink, StoreError};
use async_trait::async_trait;
use sqlx::{any::AnyRow, Row};

const LINK_COLUMNS: &str = "hash, user_id, purpose, email, binding, created_at, expires_at";

#[async_trait]
impl LinkStore for SqlStore {
    async fn issue_link(
        &self,
        link: &OneTimeLink,
        not_since: Option<i64>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        // Locks the account's row, so two requests (on any instance) take turns here.
        sqlx::query("UPDATE users SET updated_at = updated_at WHERE id = $1")
            .bind(link.user_id)
            .execute(&mut *tx)
            .await?;
        if let Some(since) = not_since {
            let recent = sqlx::query(
                "SELECT 1 AS recent FROM one_time_links \
                 WHERE user_id = $1 AND purpose = $2 AND created_at > $3 LIMIT 1",
            )
            .bind(link.user_id)
            .bind(link.purpose)
            .bind(since)
            .fetch_optional(&mut *tx)
            .await?;
            if recent.is_some() {
                return Ok(false);
            }
        }
        sqlx::query("DELETE FROM one_time_links WHERE user_id = $1 AND purpose = $2")
            .bind(link.user_id)
            .bind(link.purpose)
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO one_time_links ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&link.hash)
        .bind(link.user_id)
        .bind(link.purpose)
        .bind(&link.email)
        .bind(&link.binding)
        .bind(link.created_at)
        .bind(link.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn has_live_link(
        &self,
        user_id: i64,
        purpose: &'static str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let live = sqlx::query(
            "SELECT 1 AS live FROM one_time_links \
             WHERE user_id = $1 AND purpose = $2 AND expires_at > $3 LIMIT 1",
        )
        .bind(user_id)
        .bind(purpose)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(live.is_some())
    }

    async fn find_link(
        &self,
        hash: &str,
        purpose: &'static str,
    ) -> Result<Option<OneTimeLink>, StoreError> {
        let sql =
            format!("SELECT {LINK_COLUMNS} FROM one_time_links WHERE hash = $1 AND purpose = $2");
        let row = sqlx::query(&sql)
            .bind(hash)
            .bind(purpose)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| link_from(&row, purpose)).transpose()?)
    }

    async fn take_link(
        &self,
        hash: &str,
        purpose: &'static str,
    ) -> Result<Option<OneTimeLink>, StoreError> {
        let sql = format!(
            "DELETE FROM one_time_links WHERE hash = $1 AND purpose = $2 RETURNING {LINK_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(hash)
            .bind(purpose)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|row| link_from(&row, purpose)).transpose()?)
    }
}

/// The link in `row`, which was looked up by its `purpose`.
fn link_from(row: &AnyRow, purpose: &'static str) -> Result<OneTimeLink, sqlx::Error> {
    Ok(OneTimeLink {
        hash: row.try_get("hash")?,
        user_id: row.try_get("user_id")?,
        purpose,
        email: row.try_get("email")?,
        binding: row.try_get("binding")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}
