//! The store over sqlx's `Any` driver: one set of queries for SQLite and PostgreSQL,
//! one migrations folder per engine. Accounts and images in `users.rs`, sessions in
//! `sessions.rs`, passkeys in `passkeys.rs`; here connecting, and what both share.

mod activity;
mod admin;
mod links;
mod mail_queue;
mod oauth_clients;
mod passkeys;
mod sealed_at_rest;
mod second_factors;
mod sessions;
mod signing_keys;
mod throttle;
mod users;

pub use throttle::SqlThrottle;

use super::{Session, StoreError, Taken, User};
use crate::server::{
    building_blocks::clock::unix_now, runtime::private_files::make_database_private,
};
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
    "id, username, email, created_at, updated_at, token_generation, image_hash, disabled_at, \
     email_verified_at, pending_email";

const SESSION_COLUMNS: &str = "s.id AS session_id, s.user_id, s.created_at AS session_created_at, \
     s.last_seen_at, s.expires_at, s.user_agent, s.address, s.refresh_hash, s.previous_hash, \
     s.rotated_at, s.generation AS session_generation, s.amr";

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
pub struct SqlStore {
    pool: AnyPool,
    sqlite: bool,
}

fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

impl SqlStore {
    /// Connects, applies pending migrations and returns the store.
    pub async fn connect(options: &DatabaseOptions) -> Result<Self, StoreError> {
        install_default_drivers();
        let sqlite = is_sqlite(&options.url);
        if sqlite {
            prepare_sqlite_file(&options.url)?;
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

impl SqlStore {
    /// Whether this is an embedded SQLite database (owned by this one process).
    pub fn is_sqlite(&self) -> bool {
        self.sqlite
    }

    /// Increments the token generation (and replaces the hash if given, only if it is
    /// still the old one) and ends every session but `keep`, which moves to the new
    /// generation, in one transaction.
    async fn bump_generation(
        &self,
        id: i64,
        password: Option<(&str, &str)>,
        keep: Option<&str>,
    ) -> Result<i64, StoreError> {
        let (old_hash, new_hash) = password.unzip();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE users SET token_generation = token_generation + 1, \
             password_hash = COALESCE($1, password_hash), updated_at = $2 \
             WHERE id = $3 AND password_hash = COALESCE($4, password_hash) \
             RETURNING token_generation",
        )
        .bind(new_hash)
        .bind(unix_now())
        .bind(id)
        .bind(old_hash)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::Missing)?;
        let generation: i64 = row.try_get("token_generation")?;
        delete_sessions_of(&mut tx, id, keep).await?;
        if let Some(keep) = keep {
            sqlx::query("UPDATE sessions SET generation = $1 WHERE id = $2 AND user_id = $3")
                .bind(generation)
                .bind(keep)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
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

/// The SQLite database file of `url` (none for an in-memory one), made private first.
fn prepare_sqlite_file(url: &str) -> Result<(), StoreError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    make_database_private(Path::new(path)).map_err(|e| StoreError::Unavailable(e.into()))
}

/// What a write's constraint violation means for accounts: a unique index, that the
/// username, e-mail or passkey is taken; a foreign key, that the account went away
/// meanwhile (a concurrent deletion). Any other error keeps its cause.
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
        Some("passkeys_credential_id_unique") => Some(Taken::Passkey),
        Some(_) => None,
        None if violation.message().contains("users.email_key") => Some(Taken::Email),
        None if violation.message().contains("users.username_key") => Some(Taken::Username),
        None if violation.message().contains("passkeys.credential_id") => Some(Taken::Passkey),
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
        disabled_at: row.try_get("disabled_at")?,
        email_verified_at: row.try_get("email_verified_at")?,
        pending_email: row.try_get("pending_email")?,
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
        generation: row.try_get("session_generation")?,
        amr: row.try_get("amr")?,
    })
}
