//! Creating an account.

use super::{AccountError, Accounts};
use crate::server::{
    building_blocks::validation::{lookup_key, Registration},
    store::{NewUser, User},
    throttle::Action,
};
use std::net::IpAddr;

impl Accounts {
    /// Creates an account after every rule passed. A taken name is reported before the
    /// (expensive) hash is computed; the unique index still settles races.
    pub async fn register(
        &self,
        username: &str,
        email: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<User, AccountError> {
        let input = Registration::check(username, email, password, self.policy)?;
        // Per address: whether a name or e-mail is taken is not free to ask.
        self.spend(Action::Registration, client).await?;
        let (username_key, email_key) = (lookup_key(&input.username), lookup_key(&input.email));
        if let Some(taken) = self.store.taken(&username_key, &email_key).await? {
            return Err(AccountError::Taken(taken));
        }
        let password_hash = self.hasher.hash(input.password).await?;
        let user = self
            .store
            .insert(NewUser {
                username: input.username,
                email: input.email,
                password_hash,
            })
            .await?;
        tracing::info!(user_id = user.id, "account created");
        // The account exists whatever happens to the mail: "Resend" is on the profile.
        if let Err(e) = self
            .send_confirmation(&user, &user.email, false, false)
            .await
        {
            tracing::warn!(user_id = user.id, reason = %e, "cannot queue the confirmation mail");
        }
        Ok(user)
    }
}
