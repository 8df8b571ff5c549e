//! What only the `keyhold admin` command line does to the database: listing accounts,
//! disabling them, and telling a running SQLite server that another process wrote.

use super::{delete_sessions_of, user_from, SqlStore, USER_COLUMNS};
use crate::server::{
    building_blocks::clock::unix_now,
    store::{StoreError, User},
};
use sqlx::Row;

impl SqlStore {
    /// Accounts in creation order, those with an id above `after` if given.
    pub async fn users_page(
        &self,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE id > COALESCE($1, 0) ORDER BY id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(user_from).collect::<Result<_, _>>()?)
    }

    /// Disables the account (`true`): every token stops working and every session ends
    /// at once; or enables it again. Returns the account as it now is.
    pub async fn set_disabled(&self, id: i64, disabled: bool) -> Result<User, StoreError> {
        let now = unix_now();
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "UPDATE users SET disabled_at = CASE WHEN $1 = 1 THEN COALESCE(disabled_at, $2) END, \
             token_generation = token_generation + $1, updated_at = $2 \
             WHERE id = $3 RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(i64::from(disabled))
            .bind(now)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::Missing)?;
        if disabled {
            delete_sessions_of(&mut tx, id, None).await?;
        }
        tx.commit().await?;
        Ok(user_from(&row)?)
    }

    /// Tells a server caching rows of this SQLite file that they may be stale (nothing
    /// to do on PostgreSQL, where no server caches rows).
    pub async fn note_external_change(&self) -> Result<(), StoreError> {
        if self.sqlite {
            sqlx::query("UPDATE external_changes SET serial = serial + 1 WHERE id = 1")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// How many external changes this SQLite file has seen (see `note_external_change`).
    pub async fn external_changes(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT serial FROM external_changes WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("serial")?)
    }
}
