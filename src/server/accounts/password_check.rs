//! Checking a password: at log-in and when it confirms a change (both throttled), and
//! upgrading a hash made with an older cost.

use super::{AccountError, Accounts};
use crate::server::{
    building_blocks::{
        password::Verification,
        validation::{lookup_key, normalize_password},
    },
    store::{Credentials, User},
};
use std::net::IpAddr;

/// Whether a successful check re-hashes a hash of an older cost. Not when the password
/// is about to change anyway (the change must find the hash it checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Upgrade {
    Yes,
    No,
}

impl Accounts {
    /// Checks a password re-entered to confirm a change (throttled like log-ins);
    /// returns the hash it matched, which the change may require to be still current.
    pub(super) async fn confirm_password(
        &self,
        user: &User,
        password: &str,
        field: &'static str,
        client: IpAddr,
    ) -> Result<String, AccountError> {
        // Its own budget, which only the account's signed-in sessions can spend: failed
        // log-ins elsewhere never block the owner's changes.
        self.throttle
            .confirm(user.id)
            .await?
            .map_err(AccountError::Throttled)?;
        let key = lookup_key(&user.username);
        let found = self.store.credentials(&key).await?;
        let found = self
            .verify_password(found, normalize_password(password), Upgrade::No)
            .await?
            .filter(|found| found.user.id == user.id);
        let Some(found) = found else {
            tracing::info!(user_id = user.id, %client, "a password confirming a change was wrong");
            return Err(AccountError::WrongPassword(field));
        };
        self.throttle.confirm_succeeded(user.id).await?;
        Ok(found.password_hash)
    }

    /// The account `found` (looked up by the name typed), if `password` is its password;
    /// an unknown account costs the same hash (upgrading a hash of an older cost if
    /// asked).
    pub(super) async fn verify_password(
        &self,
        found: Option<Credentials>,
        password: String,
        upgrade: Upgrade,
    ) -> Result<Option<Credentials>, AccountError> {
        let stored_hash = found.as_ref().map(|c| c.password_hash.clone());
        let verification = self.hasher.verify(password.clone(), stored_hash).await?;
        let (Some(credentials), Verification::Match { needs_rehash }) = (found, verification)
        else {
            return Ok(None);
        };
        if needs_rehash && upgrade == Upgrade::Yes {
            self.upgrade_hash(&credentials, password);
        }
        Ok(Some(credentials))
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
