//! The mail queue in SQL. A worker claims the oldest due message by moving its next
//! attempt forward (a lease); on PostgreSQL the claim re-checks that the message is
//! still due after waiting for the row, so two instances never claim the same one.

use super::SqlStore;
use crate::server::store::{MailStore, QueuedMail, StoreError};
use async_trait::async_trait;
use sqlx::{any::AnyRow, Row};

pub(super) const MAIL_COLUMNS: &str =
    "id, recipient, subject, text_body, html_body, bodies_sealed, created_at, attempts";

#[async_trait]
impl MailStore for SqlStore {
    async fn enqueue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO mail_queue (recipient, subject, text_body, html_body, bodies_sealed, \
             created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind(&mail.recipient)
        .bind(&mail.subject)
        .bind(&mail.text_body)
        .bind(&mail.html_body)
        .bind(i64::from(mail.sealed))
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
        let row = sqlx::query(&format!(
            "UPDATE mail_queue SET next_attempt_at = $1, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM mail_queue WHERE next_attempt_at <= $2 \
                         ORDER BY next_attempt_at, id LIMIT 1) \
             AND next_attempt_at <= $2 \
             RETURNING {MAIL_COLUMNS}"
        ))
        .bind(lease_until)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(mail_from).transpose()?)
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

pub(super) fn mail_from(row: &AnyRow) -> Result<QueuedMail, sqlx::Error> {
    Ok(QueuedMail {
        id: row.try_get("id")?,
        recipient: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        text_body: row.try_get("text_body")?,
        html_body: row.try_get("html_body")?,
        sealed: row.try_get::<i64, _>("bodies_sealed")? != 0,
        created_at: row.try_get("created_at")?,
        attempts: row.try_get("attempts")?,
    })
}
