//! Accounts and their images in SQL.

use super::{set_image_hash, user_from, ConstraintExt, SqlStore, PING_TIMEOUT, USER_COLUMNS};
use crate::server::{
    building_blocks::{clock::unix_now, images::ProcessedImage},
    store::{Credentials, NewUser, StoreError, Taken, User, UserStore},
};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl UserStore for SqlStore {
    async fn insert(&self, user: NewUser) -> Result<User, StoreError> {
        let now = unix_now();
        let sql = format!(
            "INSERT INTO users (username, username_key, email, email_key, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(&user.username)
            .bind(user.username.to_lowercase())
            .bind(&user.email)
            .bind(user.email.to_lowercase())
            .bind(&user.password_hash)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .on_constraints()?;
        Ok(user_from(&row)?)
    }
    async fn taken(
        &self,
        username_key: &str,
        email_key: &str,
    ) -> Result<Option<Taken>, StoreError> {
        let row = sqlx::query(
            "SELECT username_key FROM users WHERE username_key = $1 OR email_key = $2 \
             ORDER BY CASE WHEN username_key = $1 THEN 0 ELSE 1 END LIMIT 1",
        )
        .bind(username_key)
        .bind(email_key)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let key: String = row.try_get("username_key")?;
        Ok(Some(if key == username_key {
            Taken::Username
        } else {
            Taken::Email
        }))
    }
    async fn credentials(&self, login_key: &str) -> Result<Option<Credentials>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username_key = $1 OR email_key = $1"
        );
        let row = sqlx::query(&sql)
            .bind(login_key)
            .fetch_optional(&self.pool)
            .await?;
        let credentials = row.map(|row| -> Result<_, sqlx::Error> {
            Ok(Credentials {
                user: user_from(&row)?,
                password_hash: row.try_get("password_hash")?,
            })
        });
        Ok(credentials.transpose()?)
    }
    async fn find(&self, id: i64) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(user_from).transpose()?)
    }
    async fn upgrade_password_hash(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3 AND password_hash = $4",
        )
        .bind(new_hash)
        .bind(unix_now())
        .bind(id)
        .bind(old_hash)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
    async fn change_password(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
        keep: Option<&str>,
    ) -> Result<i64, StoreError> {
        self.bump_generation(id, Some((old_hash, new_hash)), keep)
            .await
    }
    async fn revoke_tokens(&self, id: i64) -> Result<i64, StoreError> {
        self.bump_generation(id, None, None).await
    }
    async fn update_identity(
        &self,
        id: i64,
        username: &str,
        email: &str,
    ) -> Result<User, StoreError> {
        let sql = format!(
            "UPDATE users SET username = $1, username_key = $2, email = $3, email_key = $4, \
             updated_at = $5 WHERE id = $6 RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(username)
            .bind(username.to_lowercase())
            .bind(email)
            .bind(email.to_lowercase())
            .bind(unix_now())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .on_constraints()?
            .ok_or(StoreError::Missing)?;
        Ok(user_from(&row)?)
    }
    async fn delete(&self, id: i64) -> Result<(), StoreError> {
        // Everything else an account owns references it with ON DELETE CASCADE; the
        // activity log has no foreign key (an `account_deleted` entry outlives the
        // account), so its rows go in the same transaction.
        let mut tx = self.pool.begin().await?;
        let result = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::Missing);
        }
        sqlx::query("DELETE FROM security_events WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
    async fn set_image(&self, id: i64, image: &ProcessedImage) -> Result<User, StoreError> {
        let now = unix_now();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO images (user_id, hash, large, small, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id) DO UPDATE SET hash = excluded.hash, large = excluded.large, \
             small = excluded.small, created_at = excluded.created_at",
        )
        .bind(id)
        .bind(&image.hash)
        .bind(&image.large)
        .bind(&image.small)
        .bind(now)
        .execute(&mut *tx)
        .await
        .on_constraints()?;
        let user = set_image_hash(&mut tx, id, Some(&image.hash), now).await?;
        tx.commit().await?;
        Ok(user)
    }
    async fn remove_image(&self, id: i64) -> Result<User, StoreError> {
        let now = unix_now();
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM images WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let user = set_image_hash(&mut tx, id, None, now).await?;
        tx.commit().await?;
        Ok(user)
    }
    async fn set_pending_email(&self, id: i64, email: Option<&str>) -> Result<User, StoreError> {
        let sql = format!(
            "UPDATE users SET pending_email = $1, updated_at = $2 WHERE id = $3 \
             RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(email)
            .bind(unix_now())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::Missing)?;
        Ok(user_from(&row)?)
    }
    async fn confirm_email(&self, id: i64, email: &str, now: i64) -> Result<User, StoreError> {
        // Confirming the current address keeps a pending change; confirming the pending
        // one makes it the address.
        let sql = format!(
            "UPDATE users SET email = $1, email_key = $2, email_verified_at = $3, updated_at = $3, \
             pending_email = CASE WHEN email_key = $2 THEN pending_email ELSE NULL END \
             WHERE id = $4 AND (email_key = $2 OR pending_email = $1) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(email)
            .bind(email.to_lowercase())
            .bind(now)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .on_constraints()?
            .ok_or(StoreError::Missing)?;
        Ok(user_from(&row)?)
    }
    async fn restore_email(
        &self,
        id: i64,
        old: &str,
        from: &str,
        now: i64,
    ) -> Result<User, StoreError> {
        let sql = format!(
            "UPDATE users SET email = $1, email_key = $2, email_verified_at = $3, updated_at = $3, \
             pending_email = NULL WHERE id = $4 AND email_key = $5 RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(old)
            .bind(old.to_lowercase())
            .bind(now)
            .bind(id)
            .bind(from.to_lowercase())
            .fetch_optional(&self.pool)
            .await
            .on_constraints()?
            .ok_or(StoreError::Missing)?;
        Ok(user_from(&row)?)
    }
    async fn image(&self, hash: &str, large: bool) -> Result<Option<Vec<u8>>, StoreError> {
        let column = if large { "large" } else { "small" };
        let row = sqlx::query(&format!(
            "SELECT {column} AS bytes FROM images WHERE hash = $1 LIMIT 1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|row| row.try_get::<Vec<u8>, _>("bytes"))
            .transpose()?)
    }
    async fn ping(&self) -> Result<(), StoreError> {
        let query = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(PING_TIMEOUT, query).await {
            Ok(result) => result
                .map(|_| ())
                .map_err(|e| StoreError::Unavailable(e.into())),
            Err(e) => Err(StoreError::Unavailable(e.into())),
        }
    }
    fn pool_usage(&self) -> (u32, u32) {
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        (self.pool.size().saturating_sub(idle), idle)
    }
}
