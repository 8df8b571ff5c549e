//! Checking a password: at log-in and when it confirms a change (both throttled), and
//! upgrading a hash made with an older cost.

use super::{AccountError, Accounts};
use crate::server::{
    password::Verification,
    store::{Credentials, User},
    validation::{lookup_key, normalize_password},
};
use std::net::IpAddr;

impl Accounts {
    /// Checks a password re-entered to confirm a change (throttled like log-ins).
    pub(super) async fn confirm_password(
        &self,
        user: &User,
        password: &str,
        field: &'static str,
        client: IpAddr,
    ) -> Result<(), AccountError> {
        let key = lookup_key(&user.username);
        self.throttle
            .check(&key, client)
            .map_err(AccountError::Throttled)?;
        let matches = self
            .check_password(&key, normalize_password(password))
            .await?
            .is_some_and(|found| found.id == user.id);
        if !matches {
            self.throttle.record_failure(&key, client);
            return Err(AccountError::WrongPassword(field));
        }
        Ok(())
    }

    /// The account `key` names if `password` is its password (upgrading a weak hash).
    pub(super) async fn check_password(
        &self,
        key: &str,
        password: String,
    ) -> Result<Option<User>, AccountError> {
        let found = self.store.credentials(key).await?;
        let stored_hash = found.as_ref().map(|c| c.password_hash.clone());
        let verification = self.hasher.verify(password.clone(), stored_hash).await?;
        let (Some(credentials), Verification::Match { needs_rehash }) = (found, verification)
        else {
            return Ok(None);
        };
        if needs_rehash {
            self.upgrade_hash(&credentials, password);
        }
        Ok(Some(credentials.user))
    }

    /// Re-hashes with the current cost in the background after a successful log-in.
    pub(super) fn upgrade_hash(&self, credentials: &Credentials, password: String) {
        let (hasher, store) = (self.hasher.clone(), self.store.clone());
        let (user_id, old_hash) = (credentials.user.id, credentials.password_hash.clone());
        tokio::spawn(async move {
            let result = match hasher.hash(password).await {
                Ok(hash) => store
                    .upgrade_password_hash(user_id, &old_hash, &hash)
                    .await
                    .map_err(AccountError::from),
                Err(e) => Err(e.into()),
            };
            match result {
                Ok(()) => tracing::info!(user_id, "password hash upgraded to the current cost"),
                Err(e) => tracing::warn!(user_id, error = %e, "password hash upgrade failed"),
            }
        });
    }
}
