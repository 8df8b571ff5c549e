//! The mail queue in SQL. A worker claims the oldest due message by moving its next
//! attempt forward (a lease); on PostgreSQL the claim re-checks that the message is
//! still due after waiting for the row, so two instances never claim the same one.

use super::SqlStore;
use crate::server::store::{MailStore, QueuedMail, StoreError};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl MailStore for SqlStore {
    async fn enqueue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mail_queue (recipient, subject, text_body, html_body, created_at, \
             next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(&mail.recipient)
        .bind(&mail.subject)
        .bind(&mail.text_body)
        .bind(&mail.html_body)
        .bind(mail.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<QueuedMail>, StoreError> {
        let row = sqlx::query(
            "UPDATE mail_queue SET next_attempt_at = $1, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM mail_queue WHERE next_attempt_at <= $2 \
                         ORDER BY next_attempt_at, id LIMIT 1) \
             AND next_attempt_at <= $2 \
             RETURNING id, recipient, subject, text_body, html_body, created_at, attempts",
        )
        .bind(lease_until)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(QueuedMail {
            id: row.try_get("id")?,
            recipient: row.try_get("recipient")?,
            subject: row.try_get("subject")?,
            text_body: row.try_get("text_body")?,
            html_body: row.try_get("html_body")?,
            created_at: row.try_get("created_at")?,
            attempts: row.try_get("attempts")?,
        }))
    }

    async fn mail_sent(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM mail_queue WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn mail_failed(&self, id: i64, retry_at: i64, error: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE mail_queue SET next_attempt_at = $1, last_error = $2 WHERE id = $3")
            .bind(retry_at)
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn mail_queue_depth(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS depth FROM mail_queue")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("depth")?)
    }
}
