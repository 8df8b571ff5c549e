//! "Forgot password": a reset link by mail (the same answer whether or not the account
//! exists, the work done after the answer), and the reset itself, which ends every
//! session, forgives the account's failed log-ins, tells the owner by mail and does not
//! sign anybody in. On an address never confirmed, it also removes the second factors
//! (a squatter's, maybe) and confirms the address.

use super::{links::RESET, AccountError, Accounts, Client};
use crate::api::security_events::ActivityKind;
use crate::server::{
    building_blocks::{
        digest::sha256_hex,
        validation::{email_rule, lookup_key, Invalid},
    },
    mail::messages,
    store::{StoreError, User},
    throttle::Action,
};
use std::net::IpAddr;
use subtle::ConstantTimeEq;

impl Accounts {
    /// Checks a "forgot password" request before it is answered: the address's budget
    /// and the e-mail's shape. Whether an account uses it is not looked at here.
    pub async fn forgot_password(
        &self,
        email: &str,
        client: IpAddr,
    ) -> Result<String, AccountError> {
        self.spend(Action::Recovery, client).await?;
        Ok(email_rule(email)?)
    }

    /// Sends a reset link to the account using `email`, if there is one, it is enabled
    /// and it got none in the last minute. Runs after the answer was sent.
    pub async fn send_reset_link(&self, email: &str) -> Result<(), AccountError> {
        let key = lookup_key(email);
        let Some(found) = self.store.credentials(&key).await? else {
            return Ok(());
        };
        // `credentials` also matches usernames: only the address counts here.
        if lookup_key(&found.user.email) != key || found.user.disabled_at.is_some() {
            return Ok(());
        }
        let user = &found.user;
        let binding = sha256_hex(&found.password_hash);
        let Some(token) = self
            .issue_link(user.id, RESET, &user.email, &binding, true)
            .await?
        else {
            tracing::info!(
                user_id = user.id,
                "reset link not sent: one went out under a minute ago"
            );
            return Ok(());
        };
        let link = self.mailer.link("/reset-password", &token);
        let minutes = RESET.lifetime_secs / 60;
        self.send(&user.email, messages::password_reset(&link, minutes))
            .await?;
        tracing::info!(user_id = user.id, "reset link queued");
        Ok(())
    }

    /// A reset proves the mailbox. Second factors added while the address was never
    /// confirmed may be a squatter's (someone who signed up with this address before its
    /// owner, then added an authenticator app or a passkey, which would outlive the
    /// reset and keep signing them in): they are removed, and the address counts as
    /// confirmed. An account whose address was confirmed keeps its factors (they were
    /// added by whoever held the mailbox).
    async fn clear_squatted_factors(
        &self,
        user: &User,
        client: Client<'_>,
    ) -> Result<(), AccountError> {
        if user.email_verified_at.is_some() {
            return Ok(());
        }
        let had_app = self.store.totp_factor(user.id).await?.is_some();
        self.store.remove_totp(user.id).await?;
        let passkeys = self.store.remove_passkeys(user.id).await?;
        self.store
            .confirm_email(user.id, &user.email, self.clock.now())
            .await?;
        if had_app {
            self.record(ActivityKind::AuthenticatorAppRemoved, user.id, client, None)
                .await;
        }
        if passkeys > 0 {
            self.record(ActivityKind::PasskeyRemoved, user.id, client, None)
                .await;
        }
        self.record(ActivityKind::EmailVerified, user.id, client, None)
            .await;
        tracing::info!(
            user_id = user.id,
            passkeys,
            had_app,
            "factors of an unconfirmed address removed by a reset"
        );
        Ok(())
    }

    /// Sets a new password with a reset link's token. Every session of the account
    /// ends; the person then logs in with the new password.
    pub async fn reset_password(
        &self,
        token: &str,
        password: &str,
        client: Client<'_>,
    ) -> Result<(), AccountError> {
        self.spend(Action::Recovery, client.addr).await?;
        let link = self.find_link(token, RESET).await?;
        let gone = AccountError::InvalidLink { expired: false };
        let user = self.store.find(link.user_id).await?.ok_or(gone)?;
        let found = self
            .store
            .credentials(&lookup_key(&user.email))
            .await?
            .filter(|found| found.user.id == user.id)
            .ok_or(AccountError::InvalidLink { expired: false })?;
        // Sent under another password, or to an address the account no longer has: a
        // change since voids it (whoever reads the old mailbox is not the owner now).
        let current = sha256_hex(&found.password_hash);
        let same_password = bool::from(current.as_bytes().ct_eq(link.binding.as_bytes()));
        if !same_password || lookup_key(&link.email) != lookup_key(&user.email) {
            self.take_link(token, RESET).await.ok();
            return Err(AccountError::InvalidLink { expired: false });
        }
        let password = self
            .policy
            .check(password, &user.username, &user.email)
            .map_err(|invalid| Invalid {
                field: "password",
                ..invalid
            })?;
        let hash = self.hasher.hash(password).await?;
        // Single use, settled here: of two resets with one link, one goes on.
        self.take_link(token, RESET).await?;
        self.store
            .change_password(user.id, &found.password_hash, &hash, None)
            .await
            .map_err(|e| match e {
                StoreError::Missing => AccountError::InvalidLink { expired: false },
                other => other.into(),
            })?;
        self.throttle.forgive_account(user.id).await?;
        self.clear_squatted_factors(&user, client).await?;
        self.drop_pending_email(user.id).await?;
        let login = format!("{}/login", self.mailer.public_url);
        self.send(&user.email, messages::password_changed(&login))
            .await?;
        self.record(ActivityKind::PasswordReset, user.id, client, None)
            .await;
        Ok(())
    }
}
