//! The published token signing keys in SQL.

use super::SqlStore;
use crate::server::store::{SigningKeyStore, StoreError, StoredSigningKey};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl SigningKeyStore for SqlStore {
    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT kid, alg, public_jwk, sealed_private_key, created_at, activate_at \
             FROM signing_keys ORDER BY activate_at, kid",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredSigningKey {
                    kid: row.try_get("kid")?,
                    alg: row.try_get("alg")?,
                    public_jwk: row.try_get("public_jwk")?,
                    sealed_private_key: row.try_get("sealed_private_key")?,
                    created_at: row.try_get("created_at")?,
                    activate_at: row.try_get("activate_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn add_signing_key(
        &self,
        key: &StoredSigningKey,
        only_if_none: bool,
    ) -> Result<bool, StoreError> {
        let condition = if only_if_none {
            "WHERE NOT EXISTS (SELECT 1 FROM signing_keys)"
        } else {
            ""
        };
        let sql = format!(
            "INSERT INTO signing_keys \
             (kid, alg, public_jwk, sealed_private_key, created_at, activate_at) \
             SELECT $1, $2, $3, $4, $5, $6 {condition}"
        );
        let result = sqlx::query(&sql)
            .bind(&key.kid)
            .bind(&key.alg)
            .bind(&key.public_jwk)
            .bind(&key.sealed_private_key)
            .bind(key.created_at)
            .bind(key.activate_at)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn delete_signing_key(&self, kid: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM signing_keys WHERE kid = $1")
            .bind(kid)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}
