//! Second factors in SQL: the authenticator app's secret and last accepted step, the
//! recovery codes (hashes), and log-ins waiting for their second factor.

use super::SqlStore;
use crate::server::store::{MfaChallenge, SecondFactorStore, StoreError, TotpFactor};
use async_trait::async_trait;
use sqlx::{any::AnyRow, Row};

const CHALLENGE_COLUMNS: &str =
    "token_hash, user_id, address, binding, known_device, failures, created_at, expires_at, \
     continuation";

#[async_trait]
impl SecondFactorStore for SqlStore {
    async fn totp_factor(&self, user_id: i64) -> Result<Option<TotpFactor>, StoreError> {
        let row = sqlx::query(
            "SELECT secret, secret_sealed, created_at, confirmed_at, last_step, failed_codes \
             FROM totp_factors WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let factor = row.map(|row| -> Result<_, sqlx::Error> {
            let sealed = row.try_get::<i64, _>("secret_sealed")? != 0;
            Ok(TotpFactor {
                sealed_secret: sealed.then(|| row.try_get("secret")).transpose()?,
                created_at: row.try_get("created_at")?,
                confirmed_at: row.try_get("confirmed_at")?,
                last_step: row.try_get("last_step")?,
                failed_codes: row.try_get("failed_codes")?,
            })
        });
        Ok(factor.transpose()?)
    }

    async fn set_pending_totp(
        &self,
        user_id: i64,
        sealed_secret: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        // Replaces a secret still waiting for its first code, never an active one.
        let stored = sqlx::query(
            "INSERT INTO totp_factors (user_id, secret, secret_sealed, created_at, \
             confirmed_at, last_step) VALUES ($1, $2, 1, $3, NULL, 0) \
             ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, secret_sealed = 1, \
             created_at = excluded.created_at, last_step = 0 \
             WHERE totp_factors.confirmed_at IS NULL",
        )
        .bind(user_id)
        .bind(sealed_secret)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(stored.rows_affected() == 1)
    }

    async fn activate_totp(
        &self,
        user_id: i64,
        step: i64,
        now: i64,
        recovery_hashes: &[String],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let activated = sqlx::query(
            "UPDATE totp_factors SET confirmed_at = $2, last_step = $3 \
             WHERE user_id = $1 AND confirmed_at IS NULL",
        )
        .bind(user_id)
        .bind(now)
        .bind(step)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !activated {
            return Ok(false);
        }
        replace_codes(&mut tx, user_id, recovery_hashes, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StoreError> {
        let accepted = sqlx::query(
            "UPDATE totp_factors SET last_step = $2, failed_codes = 0 \
             WHERE user_id = $1 AND confirmed_at IS NOT NULL AND last_step < $2",
        )
        .bind(user_id)
        .bind(step)
        .execute(&self.pool)
        .await?;
        Ok(accepted.rows_affected() == 1)
    }

    async fn totp_code_failed(&self, user_id: i64) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "UPDATE totp_factors SET failed_codes = failed_codes + 1 \
             WHERE user_id = $1 AND confirmed_at IS NOT NULL RETURNING failed_codes",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row
            .map(|row| row.try_get("failed_codes"))
            .transpose()?
            .unwrap_or(0))
    }

    async fn clear_totp_failures(&self, user_id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE totp_factors SET failed_codes = 0 WHERE user_id = $1 AND failed_codes > 0",
        )
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn remove_totp(&self, user_id: i64) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for sql in [
            "DELETE FROM totp_factors WHERE user_id = $1",
            "DELETE FROM recovery_codes WHERE user_id = $1",
            "DELETE FROM mfa_challenges WHERE user_id = $1",
        ] {
            sqlx::query(sql).bind(user_id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn recovery_code_hashes(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT code_hash FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|row| row.try_get("code_hash"))
            .collect::<Result<_, _>>()?)
    }

    async fn use_recovery_code(
        &self,
        user_id: i64,
        hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let used = sqlx::query(
            "UPDATE recovery_codes SET used_at = $3 \
             WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(used.rows_affected() == 1)
    }

    async fn replace_recovery_codes(
        &self,
        user_id: i64,
        hashes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        replace_codes(&mut tx, user_id, hashes, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_mfa_challenge(&self, challenge: &MfaChallenge) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM mfa_challenges WHERE expires_at <= $1")
            .bind(challenge.created_at)
            .execute(&self.pool)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO mfa_challenges ({CHALLENGE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&challenge.token_hash)
        .bind(challenge.user_id)
        .bind(&challenge.address)
        .bind(&challenge.binding)
        .bind(i64::from(challenge.known_device))
        .bind(challenge.failures)
        .bind(challenge.created_at)
        .bind(challenge.expires_at)
        .bind(challenge.continuation.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn mfa_challenge(&self, token_hash: &str) -> Result<Option<MfaChallenge>, StoreError> {
        let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM mfa_challenges WHERE token_hash = $1");
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(challenge_from).transpose()?)
    }

    async fn mfa_challenge_failed(&self, token_hash: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "UPDATE mfa_challenges SET failures = failures + 1 WHERE token_hash = $1 \
             RETURNING failures",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        // A challenge taken meanwhile counts as spent.
        Ok(match row {
            Some(row) => row.try_get("failures")?,
            None => i64::MAX,
        })
    }

    async fn take_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> Result<Option<MfaChallenge>, StoreError> {
        let sql = format!(
            "DELETE FROM mfa_challenges WHERE token_hash = $1 RETURNING {CHALLENGE_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(challenge_from).transpose()?)
    }
}

/// Replaces the account's recovery codes with `hashes` inside `tx`.
async fn replace_codes(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    hashes: &[String],
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user_id)
        .bind(hash)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn challenge_from(row: &AnyRow) -> Result<MfaChallenge, sqlx::Error> {
    Ok(MfaChallenge {
        token_hash: row.try_get("token_hash")?,
        user_id: row.try_get("user_id")?,
        address: row.try_get("address")?,
        binding: row.try_get("binding")?,
        known_device: row.try_get::<i64, _>("known_device")? != 0,
        failures: row.try_get("failures")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        continuation: row.try_get("continuation")?,
    })
}
