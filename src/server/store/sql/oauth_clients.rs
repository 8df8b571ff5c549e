//! Registered applications (OpenID Connect clients) in SQL.

use super::SqlStore;
use crate::server::store::{OAuthClient, OAuthClientStore, StoreError};
use async_trait::async_trait;
use sqlx::{any::AnyRow, Row};

const CLIENT_COLUMNS: &str = "client_id, name, public, first_party, secret_hash, redirect_uris, \
     post_logout_redirect_uris, scopes, id_token_alg, created_at";

#[async_trait]
impl OAuthClientStore for SqlStore {
    async fn add_client(&self, client: &OAuthClient) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO oauth_clients ({CLIENT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        sqlx::query(&sql)
            .bind(&client.client_id)
            .bind(&client.name)
            .bind(i64::from(client.public))
            .bind(i64::from(client.first_party))
            .bind(client.secret_hash.as_deref())
            .bind(uri_list(&client.redirect_uris))
            .bind(uri_list(&client.post_logout_redirect_uris))
            .bind(client.scopes.join(" "))
            .bind(&client.id_token_alg)
            .bind(client.created_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError> {
        let sql =
            format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients ORDER BY created_at, client_id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(client_from).collect()
    }

    async fn client(&self, client_id: &str) -> Result<Option<OAuthClient>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE client_id = $1");
        let row = sqlx::query(&sql)
            .bind(client_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(client_from).transpose()
    }

    async fn set_client_secret_hash(
        &self,
        client_id: &str,
        hash: &str,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE oauth_clients SET secret_hash = $1 WHERE client_id = $2 AND public = 0",
        )
        .bind(hash)
        .bind(client_id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() > 0)
    }

    async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM oauth_clients WHERE client_id = $1")
            .bind(client_id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() > 0)
    }
}

fn uri_list(uris: &[String]) -> String {
    serde_json::Value::from(uris).to_string()
}

fn client_from(row: &AnyRow) -> Result<OAuthClient, StoreError> {
    let uris = |column: &str| -> Result<Vec<String>, StoreError> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Database(sqlx::Error::Decode(e.into())))
    };
    let scopes: String = row.try_get("scopes")?;
    Ok(OAuthClient {
        client_id: row.try_get("client_id")?,
        name: row.try_get("name")?,
        public: row.try_get::<i64, _>("public")? != 0,
        first_party: row.try_get::<i64, _>("first_party")? != 0,
        secret_hash: row.try_get("secret_hash")?,
        redirect_uris: uris("redirect_uris")?,
        post_logout_redirect_uris: uris("post_logout_redirect_uris")?,
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        id_token_alg: row.try_get("id_token_alg")?,
        created_at: row.try_get("created_at")?,
    })
}
