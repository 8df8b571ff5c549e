//! `UserStore` over sqlx's `Any` driver: one set of queries for SQLite and PostgreSQL,
//! one migrations folder per engine.

use super::{
    Credentials, NewUser, Rotation, Session, SessionLimits, StoreError, Taken, User, UserStore,
};
use crate::server::{images::ProcessedImage, unix_now};
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

const SESSION_COLUMNS: &str = "s.id AS session_id, s.user_id, s.created_at AS session_created_at, \
     s.last_seen_at, s.expires_at, s.user_agent, s.address, s.refresh_hash, s.previous_hash, \
     s.rotated_at";

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
            Ok(Err(e)) => return Err(StoreError::Unavailable(e.into())),
            Err(e) => return Err(StoreError::Unavailable(e.into())),
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
            .map_err(|e| StoreError::Unavailable(e.into()))?;
        let migrator = if sqlite {
            &SQLITE_MIGRATIONS
        } else {
            &POSTGRES_MIGRATIONS
        };
        migrator.run(&pool).await?;
        Ok(Self { pool, sqlite })
    }
}

impl SqlUserStore {
    /// Whether this is an embedded SQLite database (owned by this one process).
    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// Increments the token generation (and sets a new hash if given) and ends every
    /// session but `keep`, in one transaction.
    async fn bump_generation(
        &self,
        id: i64,
        password_hash: Option<&str>,
        keep: Option<&str>,
    ) -> Result<i64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE users SET token_generation = token_generation + 1, \
             password_hash = COALESCE($1, password_hash), updated_at = $2 \
             WHERE id = $3 RETURNING token_generation",
        )
        .bind(password_hash)
        .bind(unix_now())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Missing)?;
        let generation = row.try_get("token_generation")?;
        delete_sessions_of(&mut tx, id, keep).await?;
        tx.commit().await?;
        Ok(generation)
    }
}

async fn delete_sessions_of(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    user_id: i64,
    keep: Option<&str>,
) -> Result<u64, StoreError> {
    let result = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> COALESCE($2, '')")
        .bind(user_id)
        .bind(keep)
        .execute(&mut **tx)
        .await?;
    Ok(result.rows_affected())
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
        .await?
        .ok_or(StoreError::Missing)?;
    Ok(user_from(&row)?)
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
        Some(dir) if !dir.as_os_str().is_empty() => {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable(e.into()))
        }
        _ => Ok(()),
    }
}

/// What a write's constraint violation means for accounts: a unique index, that the
/// username or e-mail is taken; a foreign key, that the account went away meanwhile (a
/// concurrent deletion). Any other error keeps its cause.
trait ConstraintExt<T> {
    fn on_constraints(self) -> Result<T, StoreError>;
}

impl<T> ConstraintExt<T> for Result<T, sqlx::Error> {
    fn on_constraints(self) -> Result<T, StoreError> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::Missing,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                taken_by(db.as_ref()).map_or(StoreError::Database(e), StoreError::Conflict)
            }
            _ => StoreError::Database(e),
        })
    }
}

/// The attribute a unique violation is about. PostgreSQL names the constraint; SQLite
/// names none, only the column in its message ("UNIQUE constraint failed:
/// users.email_key").
fn taken_by(violation: &dyn sqlx::error::DatabaseError) -> Option<Taken> {
    match violation.constraint() {
        Some("users_email_key_unique") => Some(Taken::Email),
        Some("users_username_key_unique") => Some(Taken::Username),
        Some(_) => None,
        None if violation.message().contains("users.email_key") => Some(Taken::Email),
        None if violation.message().contains("users.username_key") => Some(Taken::Username),
        None => None,
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

fn session_from(row: &AnyRow) -> Result<Session, sqlx::Error> {
    Ok(Session {
        id: row.try_get("session_id")?,
        user_id: row.try_get("user_id")?,
        created_at: row.try_get("session_created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        expires_at: row.try_get("expires_at")?,
        user_agent: row.try_get("user_agent")?,
        address: row.try_get("address")?,
        refresh_hash: row.try_get("refresh_hash")?,
        previous_hash: row.try_get("previous_hash")?,
        rotated_at: row.try_get("rotated_at")?,
    })
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
        password_hash: &str,
        keep: Option<&str>,
    ) -> Result<i64, StoreError> {
        self.bump_generation(id, Some(password_hash), keep).await
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
        // Everything else an account owns references it with ON DELETE CASCADE, so this
        // one statement removes it all atomically.
        let result = sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if result.rows_affected() == 0 {
            return Err(StoreError::Missing);
        }
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

    async fn create_session(
        &self,
        session: &Session,
        limits: SessionLimits,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, user_agent, \
             address, refresh_hash, previous_hash, rotated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&session.id)
        .bind(session.user_id)
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.expires_at)
        .bind(&session.user_agent)
        .bind(&session.address)
        .bind(&session.refresh_hash)
        .bind(session.previous_hash.as_deref())
        .bind(session.rotated_at)
        .execute(&mut *tx)
        .await
        .on_constraints()?;
        sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND (expires_at <= $2 OR last_seen_at < $3 \
             OR id NOT IN (SELECT id FROM sessions WHERE user_id = $1 \
             ORDER BY last_seen_at DESC, created_at DESC LIMIT $4))",
        )
        .bind(session.user_id)
        .bind(session.created_at)
        .bind(limits.idle_cutoff)
        .bind(limits.max_per_user)
        .execute(&mut *tx)
        .await?;
        Ok(tx.commit().await?)
    }

    async fn session(&self, id: &str) -> Result<Option<(Session, User)>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS}, u.id, u.username, u.email, u.created_at, u.updated_at, \
             u.token_generation, u.image_hash \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let pair = row
            .map(|row| -> Result<_, sqlx::Error> { Ok((session_from(&row)?, user_from(&row)?)) });
        Ok(pair.transpose()?)
    }

    async fn rotate_session(
        &self,
        user_id: i64,
        id: &str,
        rotation: Rotation<'_>,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE sessions SET refresh_hash = $1, previous_hash = $2, rotated_at = $3, \
             last_seen_at = $3, user_agent = $4, address = $5 \
             WHERE id = $6 AND user_id = $7 AND refresh_hash = $2",
        )
        .bind(rotation.to)
        .bind(rotation.from)
        .bind(rotation.now)
        .bind(rotation.user_agent)
        .bind(rotation.address)
        .bind(id)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn touch_session(&self, user_id: i64, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND user_id = $3")
            .bind(now)
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn sessions(&self, user_id: i64) -> Result<Vec<Session>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = $1 \
             ORDER BY s.last_seen_at DESC, s.created_at DESC"
        );
        let rows = sqlx::query(&sql)
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(session_from).collect::<Result<_, _>>()?)
    }

    async fn delete_session(&self, user_id: i64, id: &str) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn delete_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let ended = delete_sessions_of(&mut tx, user_id, keep).await?;
        tx.commit().await?;
        Ok(ended)
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
}
