//! Whether an address belongs to the person who typed it: a confirmation link on
//! sign-up and on every address change (the change takes effect only when the new
//! address is confirmed, and the old address gets a notice with a link that undoes it),
//! "resend", and `KEYHOLD_REQUIRE_VERIFIED_EMAIL`'s refusal at log-in.

use super::{
    links::{MAIL_INTERVAL_SECS, UNDO, VERIFY},
    AccountError, Accounts, Client, Principal,
};
use crate::api::security_events::ActivityKind;
use crate::server::{
    building_blocks::validation::Invalid,
    mail::messages,
    store::{StoreError, User},
    throttle::{Action, RetryAfter},
};
use std::time::Duration;

impl Accounts {
    /// Spends one of the confirmation links account `user_id` may ask to be mailed (one
    /// a minute, and a daily budget): an address change or "Resend" sends mail to an
    /// address the caller chooses, so a signed-in account must not make it a mail bomb.
    pub(super) async fn spend_address_mail(
        &self,
        user_id: i64,
        client: Client<'_>,
    ) -> Result<(), AccountError> {
        self.throttle
            .act(Action::AddressMail { user_id }, client.addr)
            .await?
            .map_err(AccountError::TooManyMails)
    }

    /// Sends a link confirming `address` for `user` (its address, or the new one it
    /// asked for when `change`); `false` when `limited` and one went out under a
    /// minute ago.
    pub(super) async fn send_confirmation(
        &self,
        user: &User,
        address: &str,
        change: bool,
        limited: bool,
    ) -> Result<bool, AccountError> {
        let Some(token) = self
            .issue_link(user.id, VERIFY, address, "", limited)
            .await?
        else {
            return Ok(false);
        };
        let link = self.mailer.link("/verify-email", &token);
        let hours = VERIFY.lifetime_secs / 3_600;
        self.send(address, messages::verify_email(&link, hours, change))
            .await?;
        Ok(true)
    }

    /// "Resend": a new confirmation link for the pending address, else for the
    /// account's own if it is not confirmed yet.
    pub async fn resend_confirmation(
        &self,
        principal: &Principal,
        client: Client<'_>,
    ) -> Result<String, AccountError> {
        self.spend(Action::Recovery, client.addr).await?;
        let user = &principal.user;
        let (address, change) = match (&user.pending_email, user.email_verified_at) {
            (Some(pending), _) => (pending.as_str(), true),
            (None, None) => (user.email.as_str(), false),
            (None, Some(_)) => {
                return Err(Invalid {
                    field: "email",
                    message: "Your e-mail address is already confirmed.".into(),
                }
                .into())
            }
        };
        self.spend_address_mail(user.id, client).await?;
        if !self.send_confirmation(user, address, change, true).await? {
            let wait = Duration::from_secs(MAIL_INTERVAL_SECS.unsigned_abs());
            return Err(AccountError::TooManyMails(RetryAfter(wait)));
        }
        Ok(address.to_owned())
    }

    /// Drops the account's address change that waits for its link. After a password
    /// change, log-out everywhere, "This wasn't me" or a reset, whoever asked for it may
    /// be the one shut out: the change (and so its link) must not outlive that.
    pub(super) async fn drop_pending_email(&self, user_id: i64) -> Result<(), AccountError> {
        match self.store.set_pending_email(user_id, None).await {
            Ok(_) | Err(StoreError::Missing) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    /// Follows a confirmation link: the address is confirmed; a pending one becomes
    /// the account's, and the old address is told, with a link that undoes it.
    pub async fn verify_email(
        &self,
        token: &str,
        client: Client<'_>,
    ) -> Result<User, AccountError> {
        self.spend(Action::Recovery, client.addr).await?;
        let link = self.take_link(token, VERIFY).await?;
        let before = self
            .store
            .find(link.user_id)
            .await?
            .ok_or(AccountError::InvalidLink { expired: false })?;
        let now = self.clock.now();
        let after = self
            .store
            .confirm_email(link.user_id, &link.email, now)
            .await
            .map_err(outdated_link)?;
        if after.email == before.email {
            self.record(ActivityKind::EmailVerified, after.id, client, None)
                .await;
            return Ok(after);
        }
        self.record(ActivityKind::EmailChanged, after.id, client, None)
            .await;
        if let Some(token) = self
            .issue_link(after.id, UNDO, &before.email, &after.email, false)
            .await?
        {
            let undo = self.mailer.link("/undo-email-change", &token);
            let days = UNDO.lifetime_secs / 86_400;
            let notice = messages::email_changed(&messages::masked(&after.email), &undo, days);
            self.send(&before.email, notice).await?;
        }
        Ok(after)
    }

    /// Follows an "undo the change" link: the old address is back (confirmed) and every
    /// session and token of the account ends.
    pub async fn undo_email_change(
        &self,
        token: &str,
        client: Client<'_>,
    ) -> Result<User, AccountError> {
        self.spend(Action::Recovery, client.addr).await?;
        let link = self.take_link(token, UNDO).await?;
        let now = self.clock.now();
        let restored = self
            .store
            .restore_email(link.user_id, &link.email, &link.binding, now)
            .await
            .map_err(outdated_link)?;
        self.store.revoke_tokens(restored.id).await?;
        self.record(ActivityKind::EmailChangeUndone, restored.id, client, None)
            .await;
        Ok(restored)
    }
}

/// What a link's address change meeting the database means: nothing matched (the
/// address moved on since the link was sent: a newer change) is an outdated link.
fn outdated_link(e: StoreError) -> AccountError {
    match e {
        StoreError::Missing => AccountError::InvalidLink { expired: false },
        StoreError::Conflict(taken) => AccountError::Taken(taken),
        other => other.into(),
    }
}
