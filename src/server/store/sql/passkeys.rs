//! Passkeys and WebAuthn ceremonies in SQL: credentials found by their id, a use
//! recorded only while the counter moves forward, ceremonies deleted by the request that
//! finishes them.

use super::{ConstraintExt, SqlStore};
use crate::server::store::{Ceremony, NewPasskey, PasskeyStore, StoreError, StoredPasskey};
use async_trait::async_trait;
use sqlx::{any::AnyRow, Row};

const PASSKEY_COLUMNS: &str = "id, user_id, name, credential_id, user_handle, credential, \
     sign_count, created_at, last_used_at";

#[async_trait]
impl PasskeyStore for SqlStore {
    async fn passkeys(&self, user_id: i64) -> Result<Vec<StoredPasskey>, StoreError> {
        let sql = format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(passkey_from).collect::<Result<_, _>>()?)
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        let sql = format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = $1");
        let row = sqlx::query(&sql)
            .bind(credential_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(passkey_from).transpose()?)
    }

    async fn add_passkey(&self, passkey: NewPasskey<'_>) -> Result<StoredPasskey, StoreError> {
        let sql = format!(
            "INSERT INTO passkeys (user_id, name, credential_id, user_handle, credential, \
             sign_count, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING {PASSKEY_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(passkey.user_id)
            .bind(passkey.name)
            .bind(passkey.credential_id)
            .bind(passkey.user_handle)
            .bind(passkey.credential)
            .bind(passkey.sign_count)
            .bind(passkey.created_at)
            .fetch_one(&self.pool)
            .await
            .on_constraints()?;
        Ok(passkey_from(&row)?)
    }

    async fn rename_passkey(
        &self,
        user_id: i64,
        id: i64,
        name: &str,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        let sql = format!(
            "UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3 \
             RETURNING {PASSKEY_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(name)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(passkey_from).transpose()?)
    }

    async fn remove_passkey(
        &self,
        user_id: i64,
        id: i64,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        let sql = format!(
            "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING {PASSKEY_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(passkey_from).transpose()?)
    }

    async fn remove_passkeys(&self, user_id: i64) -> Result<u64, StoreError> {
        let removed = sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(removed.rows_affected())
    }

    async fn passkey_used(
        &self,
        id: i64,
        credential: &str,
        sign_count: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        // One statement decides between two uses presenting the same counter (a clone
        // racing the original): the second finds the counter already there.
        let updated = sqlx::query(
            "UPDATE passkeys SET credential = $1, sign_count = $2, last_used_at = $3 \
             WHERE id = $4 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))",
        )
        .bind(credential)
        .bind(sign_count)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    async fn begin_ceremony(&self, id_hash: &str, ceremony: &Ceremony) -> Result<(), StoreError> {
        // Ceremonies nobody finished go as new ones begin, and so does the one begun
        // before for the same step: the table stays as small as the last few minutes'
        // passwordless starts (throttled per address) plus one per session or log-in
        // step, however often a signed-in account begins one.
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE expires_at <= $1 \
             OR (purpose = $2 AND step = $3)",
        )
        .bind(ceremony.created_at)
        .bind(ceremony.purpose)
        .bind(ceremony.step.as_deref())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO webauthn_ceremonies (id_hash, purpose, user_id, step, state, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id_hash)
        .bind(ceremony.purpose)
        .bind(ceremony.user_id)
        .bind(ceremony.step.as_deref())
        .bind(&ceremony.state)
        .bind(ceremony.created_at)
        .bind(ceremony.expires_at)
        .execute(&mut *tx)
        .await
        .on_constraints()?;
        tx.commit().await?;
        Ok(())
    }

    async fn take_ceremony(
        &self,
        id_hash: &str,
        purpose: &'static str,
    ) -> Result<Option<Ceremony>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM webauthn_ceremonies WHERE id_hash = $1 AND purpose = $2 \
             RETURNING user_id, step, state, created_at, expires_at",
        )
        .bind(id_hash)
        .bind(purpose)
        .fetch_optional(&self.pool)
        .await?;
        let ceremony = row.map(|row| -> Result<_, sqlx::Error> {
            Ok(Ceremony {
                purpose,
                user_id: row.try_get("user_id")?,
                step: row.try_get("step")?,
                state: row.try_get("state")?,
                created_at: row.try_get("created_at")?,
                expires_at: row.try_get("expires_at")?,
            })
        });
        Ok(ceremony.transpose()?)
    }
}

fn passkey_from(row: &AnyRow) -> Result<StoredPasskey, sqlx::Error> {
    Ok(StoredPasskey {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        name: row.try_get("name")?,
        credential_id: row.try_get("credential_id")?,
        user_handle: row.try_get("user_handle")?,
        credential: row.try_get("credential")?,
        sign_count: row.try_get("sign_count")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
    })
}
