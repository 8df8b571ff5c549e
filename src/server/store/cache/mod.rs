//! An in-process cache of user rows in front of the SQL store, for SQLite only: one
//! process owns a SQLite file, so every write passes through here and the cache can
//! never miss a change. (PostgreSQL serves several instances; there every request reads
//! the row, so a revocation on one instance holds on all of them at once.)
//!
//! Reads that race a write cannot cache a stale row: every write bumps an epoch, and a
//! row read from the database is only kept if no write happened while it was read.
//!
//! The one other writer is the `keyhold admin` command line: it bumps a serial in the
//! database, and `follow_external_changes` clears the cache within a second of that.
//!
//! Only user and session rows are cached; the other stores pass straight through
//! (`pass_through.rs`).

mod pass_through;

use super::{
    Credentials, NewUser, Rotation, Session, SessionLimits, SessionStore, SqlStore, Store,
    StoreError, Taken, User, UserStore,
};
use crate::server::building_blocks::images::ProcessedImage;
use async_trait::async_trait;
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, PoisonError, Weak,
    },
    time::Duration,
};

/// Rows kept before the cache starts over (bounds memory).
const CAPACITY: usize = 100_000;

pub struct CachedStore {
    inner: Arc<dyn Store>,
    users: Mutex<HashMap<i64, User>>,
    /// Sessions by id, with their user (the lookup behind every authenticated request).
    sessions: Mutex<SessionCache>,
    epoch: AtomicU64,
}

/// Cached sessions, indexed by user too, so forgetting a user's sessions costs what that
/// user has cached, not a scan of every session.
#[derive(Default)]
struct SessionCache {
    by_id: HashMap<String, (Session, User)>,
    by_user: HashMap<i64, Vec<String>>,
}

impl SessionCache {
    fn insert(&mut self, id: String, pair: (Session, User)) {
        if self.by_id.len() >= CAPACITY {
            *self = Self::default();
        }
        let user_id = pair.0.user_id;
        if self.by_id.insert(id.clone(), pair).is_none() {
            self.by_user.entry(user_id).or_default().push(id);
        }
    }

    fn forget_user(&mut self, user_id: i64) {
        for id in self.by_user.remove(&user_id).unwrap_or_default() {
            self.by_id.remove(&id);
        }
    }
}

impl CachedStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        Self {
            inner,
            users: Mutex::new(HashMap::new()),
            sessions: Mutex::new(SessionCache::default()),
            epoch: AtomicU64::new(0),
        }
    }

    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<i64, User>> {
        self.users.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, SessionCache> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets user `id` and its sessions (after a write, successful or not).
    fn forget(&self, id: i64) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.users().remove(&id);
        self.sessions().forget_user(id);
    }

    /// Forgets every cached row (another process wrote to the database).
    pub fn clear(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.users().clear();
        *self.sessions() = SessionCache::default();
    }

    /// Whether nothing was written since `epoch` was read (a row read meanwhile may
    /// be kept).
    fn unchanged_since(&self, epoch: u64) -> bool {
        self.epoch.load(Ordering::SeqCst) == epoch
    }

    /// The result of a write of `id`'s row, after forgetting the cached copy.
    fn written<T>(&self, id: i64, result: Result<T, StoreError>) -> Result<T, StoreError> {
        self.forget(id);
        result
    }
}

#[async_trait]
impl UserStore for CachedStore {
    async fn insert(&self, user: NewUser) -> Result<User, StoreError> {
        self.inner.insert(user).await
    }
    async fn taken(
        &self,
        username_key: &str,
        email_key: &str,
    ) -> Result<Option<Taken>, StoreError> {
        self.inner.taken(username_key, email_key).await
    }
    async fn credentials(&self, login_key: &str) -> Result<Option<Credentials>, StoreError> {
        self.inner.credentials(login_key).await
    }
    async fn find(&self, id: i64) -> Result<Option<User>, StoreError> {
        if let Some(user) = self.users().get(&id) {
            return Ok(Some(user.clone()));
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let found = self.inner.find(id).await?;
        if let Some(user) = &found {
            let mut users = self.users();
            if self.unchanged_since(epoch) {
                if users.len() >= CAPACITY {
                    users.clear();
                }
                users.insert(id, user.clone());
            }
        }
        Ok(found)
    }
    async fn upgrade_password_hash(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<(), StoreError> {
        self.inner
            .upgrade_password_hash(id, old_hash, new_hash)
            .await
    }
    async fn change_password(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
        keep: Option<&str>,
    ) -> Result<i64, StoreError> {
        let result = self
            .inner
            .change_password(id, old_hash, new_hash, keep)
            .await;
        self.written(id, result)
    }
    async fn revoke_tokens(&self, id: i64) -> Result<i64, StoreError> {
        let result = self.inner.revoke_tokens(id).await;
        self.written(id, result)
    }
    async fn update_identity(
        &self,
        id: i64,
        username: &str,
        email: &str,
    ) -> Result<User, StoreError> {
        let result = self.inner.update_identity(id, username, email).await;
        self.written(id, result)
    }
    async fn delete(&self, id: i64) -> Result<(), StoreError> {
        let result = self.inner.delete(id).await;
        self.written(id, result)
    }
    async fn set_image(&self, id: i64, image: &ProcessedImage) -> Result<User, StoreError> {
        let result = self.inner.set_image(id, image).await;
        self.written(id, result)
    }
    async fn remove_image(&self, id: i64) -> Result<User, StoreError> {
        let result = self.inner.remove_image(id).await;
        self.written(id, result)
    }
    async fn image(&self, hash: &str, large: bool) -> Result<Option<Vec<u8>>, StoreError> {
        self.inner.image(hash, large).await
    }
    async fn set_pending_email(&self, id: i64, email: Option<&str>) -> Result<User, StoreError> {
        let result = self.inner.set_pending_email(id, email).await;
        self.written(id, result)
    }
    async fn confirm_email(&self, id: i64, email: &str, now: i64) -> Result<User, StoreError> {
        let result = self.inner.confirm_email(id, email, now).await;
        self.written(id, result)
    }
    async fn restore_email(
        &self,
        id: i64,
        old: &str,
        from: &str,
        now: i64,
    ) -> Result<User, StoreError> {
        let result = self.inner.restore_email(id, old, from, now).await;
        self.written(id, result)
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }
    fn pool_usage(&self) -> (u32, u32) {
        self.inner.pool_usage()
    }
}

#[async_trait]
impl SessionStore for CachedStore {
    async fn create_session(
        &self,
        session: &Session,
        limits: SessionLimits,
    ) -> Result<bool, StoreError> {
        let result = self.inner.create_session(session, limits).await;
        self.written(session.user_id, result)
    }
    async fn session(&self, id: &str) -> Result<Option<(Session, User)>, StoreError> {
        if let Some(found) = self.sessions().by_id.get(id) {
            return Ok(Some(found.clone()));
        }
        let epoch = self.epoch.load(Ordering::SeqCst);
        let found = self.inner.session(id).await?;
        if let Some(pair) = &found {
            let mut sessions = self.sessions();
            if self.unchanged_since(epoch) {
                sessions.insert(id.to_owned(), pair.clone());
            }
        }
        Ok(found)
    }
    async fn rotate_session(
        &self,
        user_id: i64,
        id: &str,
        rotation: Rotation<'_>,
    ) -> Result<bool, StoreError> {
        let result = self.inner.rotate_session(user_id, id, rotation).await;
        self.written(user_id, result)
    }
    async fn was_retired(&self, id: &str, hash: &str) -> Result<bool, StoreError> {
        self.inner.was_retired(id, hash).await
    }
    async fn touch_session(&self, user_id: i64, id: &str, now: i64) -> Result<(), StoreError> {
        let result = self.inner.touch_session(user_id, id, now).await;
        self.written(user_id, result)
    }
    async fn sessions(&self, user_id: i64) -> Result<Vec<Session>, StoreError> {
        self.inner.sessions(user_id).await
    }
    async fn delete_session(&self, user_id: i64, id: &str) -> Result<bool, StoreError> {
        let result = self.inner.delete_session(user_id, id).await;
        self.written(user_id, result)
    }
    async fn delete_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64, StoreError> {
        let result = self.inner.delete_sessions(user_id, keep).await;
        self.written(user_id, result)
    }
    async fn count_sessions(&self, now: i64) -> Result<i64, StoreError> {
        self.inner.count_sessions(now).await
    }
}

/// Checks `db` every `every` for writes by another process (`keyhold admin`) and clears
/// `cache` after one; stops when the cache is gone.
pub fn follow_external_changes(cache: Weak<CachedStore>, db: SqlStore, every: Duration) {
    tokio::spawn(async move {
        let mut seen = db.external_changes().await.ok();
        loop {
            tokio::time::sleep(every).await;
            let Some(cache) = cache.upgrade() else { return };
            match db.external_changes().await {
                Ok(serial) => {
                    if seen.is_some_and(|seen| seen != serial) {
                        cache.clear();
                        tracing::info!("another process changed the database; cache cleared");
                    }
                    seen = Some(serial);
                }
                Err(e) => tracing::warn!(reason = %e, "cannot read the database's change serial"),
            }
        }
    });
}
