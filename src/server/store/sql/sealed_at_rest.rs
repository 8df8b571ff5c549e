//! The key check and the rows earlier versions stored readable, in SQL: what a start-up
//! reads and rewrites once (`runtime/sealed_at_rest.rs`). Each rewrite only lands on a
//! row that still holds what was read, so instances starting together, or a request
//! replacing the row meanwhile, never lose a write.

use super::{
    mail_queue::{mail_from, MAIL_COLUMNS},
    SqlStore,
};
use crate::server::store::{QueuedMail, SealedAtRestStore, StoreError};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl SealedAtRestStore for SqlStore {
    async fn key_check(&self, candidate: &str) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO key_check (id, sealed) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(candidate)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT sealed FROM key_check WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("sealed")?)
    }

    async fn readable_totp_secrets(&self) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query("SELECT user_id, secret FROM totp_factors WHERE secret_sealed = 0")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| -> Result<(i64, String), sqlx::Error> {
                Ok((row.try_get("user_id")?, row.try_get("secret")?))
            })
            .collect::<Result<_, _>>()?)
    }

    async fn seal_totp_secret(
        &self,
        user_id: i64,
        readable: &str,
        sealed: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE totp_factors SET secret = $3, secret_sealed = 1 \
             WHERE user_id = $1 AND secret = $2 AND secret_sealed = 0",
        )
        .bind(user_id)
        .bind(readable)
        .bind(sealed)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn readable_mail(&self) -> Result<Vec<QueuedMail>, StoreError> {
        let sql = format!("SELECT {MAIL_COLUMNS} FROM mail_queue WHERE bodies_sealed = 0");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        Ok(rows
            .iter()
            .map(mail_from)
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn seal_mail(&self, id: i64, text: &str, html: &str) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE mail_queue SET text_body = $2, html_body = $3, bodies_sealed = 1 \
             WHERE id = $1 AND bodies_sealed = 0",
        )
        .bind(id)
        .bind(text)
        .bind(html)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
