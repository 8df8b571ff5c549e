//! Logging in with a password, and who a bearer token belongs to.

use super::{password_check::Upgrade, AccountError, Accounts, Client, Principal, SignIn};
use crate::server::{
    token::TokenError,
    validation::{lookup_key, normalize_password},
};

impl Accounts {
    /// Checks a username-or-email and password and issues a token. An unknown user and a
    /// wrong password give the same error after the same amount of work; repeated
    /// failures for one account are throttled before any hashing.
    pub async fn login(
        &self,
        identifier: &str,
        password: &str,
        client: Client<'_>,
    ) -> Result<SignIn, AccountError> {
        let key = lookup_key(identifier);
        let addr = client.addr;
        self.throttle
            .check(&key, addr)
            .map_err(AccountError::Throttled)?;
        let password = normalize_password(password);
        if password.chars().count() > self.policy.max_chars {
            self.throttle.record_failure(&key, addr);
            return Err(AccountError::InvalidCredentials);
        }
        let Some(found) = self.check_password(&key, password, Upgrade::Yes).await? else {
            self.throttle.record_failure(&key, addr);
            return Err(AccountError::InvalidCredentials);
        };
        self.throttle.record_success(&key, addr);
        self.open_session(&found.user, client).await
    }

    /// The user and session a bearer token (the value after `Bearer `) belongs to, if
    /// the token is valid, its session live and no password change or
    /// log-out-everywhere happened since it was issued.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Principal, AccountError> {
        let token = token.ok_or(AccountError::MissingToken)?;
        let claims = self.tokens.verify(token)?;
        let id: i64 = claims.sub.parse().map_err(|_| TokenError::Malformed)?;
        let (session, user) = self.live_session(&claims.sid).await.map_err(|e| match e {
            AccountError::SessionEnded => TokenError::Revoked.into(),
            other => other,
        })?;
        if session.user_id != id || claims.gen != user.token_generation {
            return Err(TokenError::Revoked.into());
        }
        let now = self.clock.now();
        if now - session.last_seen_at >= self.sessions.touch_interval() {
            self.store.touch_session(user.id, &session.id, now).await?;
        }
        Ok(Principal {
            user,
            session_id: session.id,
        })
    }
}
