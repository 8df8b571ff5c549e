//! What a signed-in user changes about the account: password, username and e-mail,
//! profile image, deletion.

use super::{links::UNDO, AccountError, Accounts, Client, Principal, SecondFactorProof};
use crate::api::security_events::ActivityKind;
use crate::server::{
    building_blocks::{
        images::UploadSlot,
        token::IssuedToken,
        validation::{email_rule, lookup_key, username_rule, Invalid},
    },
    store::{StoreError, User},
    throttle::Action,
};
use std::net::IpAddr;

/// What "Edit profile" asks to change (`None`: keep).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProfileChange<'a> {
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub current_password: Option<&'a str>,
    /// Needed with the password when the account has a second factor.
    pub second_factor: SecondFactorProof<'a>,
}
impl Accounts {
    /// Replaces the password after checking the current one (and the second factor, if
    /// any); every earlier token stops working and every other session ends. Returns a
    /// fresh token for the caller's session, so the caller stays signed in.
    pub async fn change_password(
        &self,
        principal: &Principal,
        (current, new): (&str, &str),
        proof: SecondFactorProof<'_>,
        client: Client<'_>,
    ) -> Result<IssuedToken, AccountError> {
        let user = &principal.user;
        let new = self
            .policy
            .check(new, &user.username, &user.email)
            .map_err(|invalid| Invalid {
                field: "new_password",
                ..invalid
            })?;
        let session = principal.session_id.as_str();
        let old_hash = self
            .confirm_identity(
                user,
                (current, "current_password"),
                proof,
                client,
                Some(session),
            )
            .await?;
        let hash = self.hasher.hash(new).await?;
        // Only over the hash just checked: of two changes racing with the same current
        // password, the second finds it replaced and is refused like a wrong password.
        let generation = self
            .store
            .change_password(user.id, &old_hash, &hash, Some(session))
            .await
            .map_err(|e| match e {
                StoreError::Missing => AccountError::WrongPassword("current_password"),
                other => other.into(),
            })?;
        self.drop_pending_email(user.id).await?;
        self.record(
            ActivityKind::PasswordChanged,
            user.id,
            client,
            Some(session),
        )
        .await;
        Ok(self
            .tokens
            .issue(user.id, generation, session, &principal.amr)?)
    }

    /// Renames the account and/or changes its e-mail. Either change needs the current
    /// password; both stay unique regardless of case. Tokens carry the stable
    /// user id, so nobody is signed out by a rename.
    pub async fn update_profile(
        &self,
        principal: &Principal,
        change: ProfileChange<'_>,
        client: Client<'_>,
    ) -> Result<User, AccountError> {
        let user = &principal.user;
        let username = match change.username {
            Some(raw) => username_rule(raw)?,
            None => user.username.clone(),
        };
        let email = match change.email {
            Some(raw) => email_rule(raw)?,
            None => user.email.clone(),
        };
        self.spend(Action::ProfileChange, client.addr).await?;
        // Either identifier is how the account signs in: a stolen token alone must not
        // change it.
        if username != user.username || lookup_key(&email) != lookup_key(&user.email) {
            let password = change
                .current_password
                .filter(|p| !p.is_empty())
                .ok_or(Invalid {
                    field: "current_password",
                    message: "Enter your current password to change your username or e-mail."
                        .into(),
                })?;
            self.confirm_identity(
                user,
                (password, "current_password"),
                change.second_factor,
                client,
                Some(&principal.session_id),
            )
            .await?;
        }
        // Another address takes effect once its link is followed; until then it waits
        // (a change of letter case is the same mailbox: at once).
        let new_address = lookup_key(&email) != lookup_key(&user.email);
        if new_address {
            // The old address's undo link holds for its whole life: no change meanwhile
            // moves the account out of its reach (or deletes it).
            if self
                .store
                .has_live_link(user.id, UNDO.name, self.clock.now())
                .await?
            {
                return Err(AccountError::EmailChangeFrozen);
            }
            if let Some(taken) = self.store.taken("", &lookup_key(&email)).await? {
                return Err(AccountError::Taken(taken));
            }
            // Last, so only a change that will mail spends the budget; before anything
            // is written, so a refused change leaves the account as it was.
            self.spend_address_mail(user.id, client).await?;
        }
        let email_now = if new_address { &user.email } else { &email };
        let mut updated = if username != user.username || *email_now != user.email {
            self.store
                .update_identity(user.id, &username, email_now)
                .await?
        } else {
            user.clone()
        };
        let session = Some(principal.session_id.as_str());
        if updated.username != user.username {
            self.record(ActivityKind::UsernameChanged, user.id, client, session)
                .await;
        }
        if new_address {
            updated = self.store.set_pending_email(user.id, Some(&email)).await?;
            self.send_confirmation(&updated, &email, true, false)
                .await?;
            self.record(ActivityKind::EmailChangeRequested, user.id, client, session)
                .await;
        } else if change.email.is_some() && updated.pending_email.is_some() {
            // Back to the current address: the pending change is dropped.
            updated = self.store.set_pending_email(user.id, None).await?;
        }
        Ok(updated)
    }

    /// Deletes the account after the password (and the second factor, if any) and a
    /// typed confirmation (the username); every token of it stops working at once and
    /// the name and e-mail become free.
    pub async fn delete_account(
        &self,
        principal: &Principal,
        (password, confirmation): (&str, &str),
        proof: SecondFactorProof<'_>,
        client: Client<'_>,
    ) -> Result<(), AccountError> {
        let user = &principal.user;
        if lookup_key(confirmation) != lookup_key(&user.username) {
            return Err(Invalid {
                field: "confirm",
                message: format!("Type your username, {}, to confirm.", user.username),
            }
            .into());
        }
        let session = Some(principal.session_id.as_str());
        self.confirm_identity(user, (password, "password"), proof, client, session)
            .await?;
        // No failed log-in's entry may be written after the account's are deleted.
        self.deferred.written(user.id).await;
        self.store.delete(user.id).await?;
        // Outlives the account (its other entries went with it) until pruned.
        self.record(ActivityKind::AccountDeleted, user.id, client, None)
            .await;
        Ok(())
    }

    /// A slot to receive and process one upload of `user`'s, taken before the body is
    /// read: first the upload budgets per account and address (429), then a slot
    /// (`Busy`, 503, when every slot and place in the queue is taken).
    pub async fn take_upload_slot(
        &self,
        user: &User,
        client: IpAddr,
    ) -> Result<UploadSlot, AccountError> {
        self.spend(Action::Upload { user_id: user.id }, client)
            .await?;
        self.images.take_slot().await.ok_or(AccountError::Busy)
    }

    /// Validates and re-encodes a picture received in `slot` and makes it the user's
    /// image (replacing the old one). A refused file changes nothing.
    pub async fn set_image(
        &self,
        user: &User,
        slot: UploadSlot,
        bytes: Vec<u8>,
    ) -> Result<User, AccountError> {
        let processed = self.images.process(&slot, bytes).await?;
        drop(slot);
        let updated = self.store.set_image(user.id, &processed).await?;
        tracing::info!(user_id = user.id, hash = %processed.hash, "profile image set");
        Ok(updated)
    }

    pub async fn remove_image(&self, user: &User) -> Result<User, AccountError> {
        Ok(self.store.remove_image(user.id).await?)
    }

    /// A stored picture by content hash (`large`: 256 px, else 64 px).
    pub async fn image(&self, hash: &str, large: bool) -> Result<Option<Vec<u8>>, AccountError> {
        Ok(self.store.image(hash, large).await?)
    }
}
