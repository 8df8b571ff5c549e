//! `UserStore` over sqlx's `Any` driver: one set of queries for SQLite and PostgreSQL,
//! one migrations folder per engine.

use super::{Credentials, NewUser, StoreError, Taken, User, UserStore};
use crate::server::images::ProcessedImage;
use async_trait::async_trait;
use sqlx::{
    any::{install_default_drivers, AnyPoolOptions, AnyRow},
    migrate::Migrator,
    AnyConnection, AnyPool, Connection, Row,
};
use std::{path::Path, time::Duration};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// How long `/healthz` waits for the database.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

const USER_COLUMNS: &str =
    "id, username, email, created_at, updated_at, token_generation, image_hash";

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct DatabaseOptions {
    pub url: String,
    pub pool_size: u32,
    pub acquire_timeout: Duration,
    /// Longest a statement may run (PostgreSQL) or wait for the write lock (SQLite).
    pub statement_timeout: Duration,
}

#[derive(Clone)]
pub struct SqlUserStore {
    pool: AnyPool,
    sqlite: bool,
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

impl SqlUserStore {
    /// Connects, applies pending migrations and returns the store.
    pub async fn connect(options: &DatabaseOptions) -> Result<Self, StoreError> {
        install_default_drivers();
        let sqlite = is_sqlite(&options.url);
        if sqlite {
            create_parent_dir(&options.url)?;
        }
        // One plain connection first: a refused or unknown host fails at once (and the
        // caller retries with backoff) instead of waiting for the pool's timeout.
        match tokio::time::timeout(
            options.acquire_timeout,
            AnyConnection::connect(&options.url),
        )
        .await
        {
            Ok(Ok(conn)) => drop(conn),
            Ok(Err(e)) => return Err(unavailable(e)),
            Err(_) => return Err(StoreError::Unavailable("connection timed out".into())),
        }
        let timeout_ms = options.statement_timeout.as_millis().max(1);
        let pool = AnyPoolOptions::new()
            .max_connections(options.pool_size)
            .acquire_timeout(options.acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if sqlite {
                        // WAL lets readers run beside the single writer; the busy
                        // timeout queues concurrent writers.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query(&format!("PRAGMA busy_timeout = {timeout_ms}"))
                            .execute(&mut *conn)
                            .await?;
                    } else {
                        sqlx::query(&format!("SET statement_timeout = {timeout_ms}"))
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&options.url)
            .await
            .map_err(unavailable)?;
        let migrator = if sqlite {
            &SQLITE_MIGRATIONS
        } else {
            &POSTGRES_MIGRATIONS
        };
        migrator
            .run(&pool)
            .await
            .map_err(|e| StoreError::Database(format!("migration failed: {e}")))?;
        Ok(Self { pool, sqlite })
    }
}

impl SqlUserStore {
    /// Whether this is an embedded SQLite database (owned by this one process).
    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// Increments the token generation (and sets a new hash if given) atomically.
    async fn bump_generation(
        &self,
        id: i64,
        password_hash: Option<&str>,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "UPDATE users SET token_generation = token_generation + 1, \
             password_hash = COALESCE($1, password_hash), updated_at = $2 \
             WHERE id = $3 RETURNING token_generation",
        )
        .bind(password_hash)
        .bind(unix_now())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?
        .ok_or(StoreError::Missing)?;
        row.try_get("token_generation").map_err(database_error)
    }
}

async fn set_image_hash(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    hash: Option<&str>,
    now: i64,
) -> Result<User, StoreError> {
    let sql = format!(
        "UPDATE users SET image_hash = $1, updated_at = $2 WHERE id = $3 RETURNING {USER_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(hash)
        .bind(now)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(database_error)?
        .ok_or(StoreError::Missing)?;
    user_from(&row).map_err(database_error)
}

fn create_parent_dir(url: &str) -> Result<(), StoreError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    match Path::new(path).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

fn database_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => unavailable(e),
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let text = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
            StoreError::Conflict(if text.contains("email_key") {
                Taken::Email
            } else {
                Taken::Username
            })
        }
        // The account went away meanwhile (a concurrent deletion).
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Missing,
        _ => StoreError::Database(e.to_string()),
    }
}

fn user_from(row: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        token_generation: row.try_get("token_generation")?,
        image_hash: row.try_get("image_hash")?,
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[async_trait]
impl UserStore for SqlUserStore {
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
            .map_err(database_error)?;
        user_from(&row).map_err(database_error)
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
        .await
        .map_err(database_error)?;
        let Some(row) = row else { return Ok(None) };
        let key: String = row.try_get("username_key").map_err(database_error)?;
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
            .await
            .map_err(database_error)?;
        row.map(|row| {
            Ok(Credentials {
                user: user_from(&row)?,
                password_hash: row.try_get("password_hash")?,
            })
        })
        .transpose()
        .map_err(database_error)
    }

    async fn find(&self, id: i64) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(database_error)?;
        row.as_ref()
            .map(user_from)
            .transpose()
            .map_err(database_error)
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
        .await
        .map_err(database_error)?;
        Ok(())
    }

    async fn change_password(&self, id: i64, password_hash: &str) -> Result<i64, StoreError> {
        self.bump_generation(id, Some(password_hash)).await
    }

    async fn revoke_tokens(&self, id: i64) -> Result<i64, StoreError> {
        self.bump_generation(id, None).await
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
            .map_err(database_error)?
            .ok_or(StoreError::Missing)?;
        user_from(&row).map_err(database_error)
    }

    async fn delete(&self, id: i64) -> Result<(), StoreError> {
        // Everything else an account owns references it with ON DELETE CASCADE, so this
        // one statement removes it all atomically.
        let result = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(database_error)?;
        if result.rows_affected() == 0 {
            return Err(StoreError::Missing);
        }
        Ok(())
    }

    async fn set_image(&self, id: i64, image: &ProcessedImage) -> Result<User, StoreError> {
        let now = unix_now();
        let mut tx = self.pool.begin().await.map_err(database_error)?;
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
        .map_err(database_error)?;
        let user = set_image_hash(&mut tx, id, Some(&image.hash), now).await?;
        tx.commit().await.map_err(database_error)?;
        Ok(user)
    }

    async fn remove_image(&self, id: i64) -> Result<User, StoreError> {
        let now = unix_now();
        let mut tx = self.pool.begin().await.map_err(database_error)?;
        sqlx::query("DELETE FROM images WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(database_error)?;
        let user = set_image_hash(&mut tx, id, None, now).await?;
        tx.commit().await.map_err(database_error)?;
        Ok(user)
    }

    async fn image(&self, hash: &str, large: bool) -> Result<Option<Vec<u8>>, StoreError> {
        let column = if large { "large" } else { "small" };
        let row = sqlx::query(&format!(
            "SELECT {column} AS bytes FROM images WHERE hash = $1 LIMIT 1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(database_error)?;
        row.map(|row| row.try_get::<Vec<u8>, _>("bytes"))
            .transpose()
            .map_err(database_error)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let query = sqlx::query("SELECT 1").execute(&self.pool);
        match tokio::time::timeout(PING_TIMEOUT, query).await {
            Ok(result) => result.map(|_| ()).map_err(unavailable),
            Err(_) => Err(StoreError::Unavailable("no answer to a ping".into())),
        }
    }
}
