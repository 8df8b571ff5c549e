//! The account rules: register, log in, and who a bearer token belongs to.

use super::{
    images::{ImageError, ImageProcessor},
    password::{HashError, PasswordHasher, Verification},
    store::{Credentials, NewUser, StoreError, Taken, User, UserStore},
    throttle::{LoginThrottle, RetryAfter},
    token::{IssuedToken, TokenError, TokenService},
    validation::{
        email_rule, lookup_key, normalize_password, username_rule, Invalid, PasswordPolicy,
        Registration,
    },
};

/// What "Edit profile" asks to change (`None`: keep).
#[derive(Debug, Clone, Copy, Default)]
pub struct ProfileChange<'a> {
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub current_password: Option<&'a str>,
}
use std::{net::IpAddr, sync::Arc};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("the {0:?} is already taken")]
    Taken(Taken),
    #[error("unknown user or wrong password")]
    InvalidCredentials,
    #[error("no bearer token was sent")]
    MissingToken,
    #[error("the token was refused: {0}")]
    InvalidToken(#[from] TokenError),
    #[error("the token's user no longer exists")]
    UnknownUser,
    /// The password re-entered in field `.0` to confirm a change is wrong.
    #[error("the password confirming the change is wrong")]
    WrongPassword(&'static str),
    #[error("too many failed attempts")]
    Throttled(RetryAfter),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("password hashing is saturated")]
    Busy,
    #[error(transparent)]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(taken) => Self::Taken(taken),
            StoreError::Missing => Self::UnknownUser,
            other => Self::Store(other),
        }
    }
}

impl From<HashError> for AccountError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => Self::Busy,
            HashError::Internal(reason) => Self::Internal(reason),
        }
    }
}

pub struct Accounts {
    store: Arc<dyn UserStore>,
    hasher: PasswordHasher,
    tokens: TokenService,
    policy: PasswordPolicy,
    throttle: LoginThrottle,
    images: ImageProcessor,
}

impl Accounts {
    pub fn new(
        store: Arc<dyn UserStore>,
        hasher: PasswordHasher,
        tokens: TokenService,
        policy: PasswordPolicy,
        throttle: LoginThrottle,
        images: ImageProcessor,
    ) -> Self {
        Self {
            store,
            hasher,
            tokens,
            policy,
            throttle,
            images,
        }
    }

    /// Creates an account after every rule passed. A taken name is reported before the
    /// (expensive) hash is computed; the unique index still settles races.
    pub async fn register(
        &self,
        username: &str,
        email: &str,
        password: &str,
    ) -> Result<User, AccountError> {
        let input = Registration::check(username, email, password, self.policy)?;
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
        Ok(user)
    }

    /// Checks a username-or-email and password and issues a token. An unknown user and a
    /// wrong password give the same error after the same amount of work; repeated
    /// failures for one account are throttled before any hashing.
    pub async fn login(
        &self,
        identifier: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<IssuedToken, AccountError> {
        let key = lookup_key(identifier);
        self.throttle
            .check(&key, client)
            .map_err(AccountError::Throttled)?;
        let password = normalize_password(password);
        if password.chars().count() > self.policy.max_chars {
            self.throttle.record_failure(&key, client);
            return Err(AccountError::InvalidCredentials);
        }
        let Some(user) = self.check_password(&key, password).await? else {
            self.throttle.record_failure(&key, client);
            return Err(AccountError::InvalidCredentials);
        };
        self.throttle.record_success(&key, client);
        Ok(self.tokens.issue(user.id, user.token_generation)?)
    }

    /// The user a bearer token (the value after `Bearer `) belongs to, if the token is
    /// valid and was issued after the user's last password change or log-out-everywhere.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<User, AccountError> {
        let token = token.ok_or(AccountError::MissingToken)?;
        let claims = self.tokens.verify(token)?;
        let id: i64 = claims.sub.parse().map_err(|_| TokenError::Malformed)?;
        let user = self
            .store
            .find(id)
            .await?
            .ok_or(AccountError::UnknownUser)?;
        if claims.gen != user.token_generation {
            return Err(TokenError::Revoked.into());
        }
        Ok(user)
    }

    /// Replaces the password after checking the current one; every earlier token stops
    /// working. Returns a fresh token so the caller stays signed in.
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new: &str,
        client: IpAddr,
    ) -> Result<IssuedToken, AccountError> {
        let new = self
            .policy
            .check(new, &user.username, &user.email)
            .map_err(|invalid| Invalid {
                field: "new_password",
                ..invalid
            })?;
        self.confirm_password(user, current, "current_password", client)
            .await?;
        let hash = self.hasher.hash(new).await?;
        let generation = self.store.change_password(user.id, &hash).await?;
        tracing::info!(
            user_id = user.id,
            "password changed; earlier tokens revoked"
        );
        Ok(self.tokens.issue(user.id, generation)?)
    }

    /// Renames the account and/or changes its e-mail. Changing the e-mail needs the
    /// current password; both stay unique regardless of case. Tokens carry the stable
    /// user id, so nobody is signed out by a rename.
    pub async fn update_profile(
        &self,
        user: &User,
        change: ProfileChange<'_>,
        client: IpAddr,
    ) -> Result<User, AccountError> {
        let username = match change.username {
            Some(raw) => username_rule(raw)?,
            None => user.username.clone(),
        };
        let email = match change.email {
            Some(raw) => email_rule(raw)?,
            None => user.email.clone(),
        };
        if lookup_key(&email) != lookup_key(&user.email) {
            let password = change
                .current_password
                .filter(|p| !p.is_empty())
                .ok_or(Invalid {
                    field: "current_password",
                    message: "Enter your current password to change your e-mail.".into(),
                })?;
            self.confirm_password(user, password, "current_password", client)
                .await?;
        }
        if username == user.username && email == user.email {
            return Ok(user.clone());
        }
        let updated = self
            .store
            .update_identity(user.id, &username, &email)
            .await?;
        tracing::info!(user_id = user.id, "profile updated");
        Ok(updated)
    }

    /// Deletes the account after the password and a typed confirmation (the username);
    /// every token of it stops working at once and the name and e-mail become free.
    pub async fn delete_account(
        &self,
        user: &User,
        password: &str,
        confirmation: &str,
        client: IpAddr,
    ) -> Result<(), AccountError> {
        if lookup_key(confirmation) != lookup_key(&user.username) {
            return Err(Invalid {
                field: "confirm",
                message: format!("Type your username, {}, to confirm.", user.username),
            }
            .into());
        }
        self.confirm_password(user, password, "password", client)
            .await?;
        self.store.delete(user.id).await?;
        tracing::info!(user_id = user.id, "account deleted");
        Ok(())
    }

    /// Validates and re-encodes an uploaded picture and makes it the user's image
    /// (replacing the old one). A refused file changes nothing.
    pub async fn set_image(&self, user: &User, bytes: Vec<u8>) -> Result<User, AccountError> {
        let processed = self.images.process(bytes).await?;
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

    /// Checks a password re-entered to confirm a change (throttled like log-ins).
    async fn confirm_password(
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

    /// Revokes every token of the user, this one included.
    pub async fn log_out_everywhere(&self, user: &User) -> Result<(), AccountError> {
        self.store.revoke_tokens(user.id).await?;
        tracing::info!(user_id = user.id, "logged out everywhere");
        Ok(())
    }

    /// The account `key` names if `password` is its password (upgrading a weak hash).
    async fn check_password(
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

    /// Whether the database answers (for `/healthz`).
    pub async fn database_reachable(&self) -> bool {
        self.store.ping().await.is_ok()
    }

    /// Re-hashes with the current cost in the background after a successful log-in.
    fn upgrade_hash(&self, credentials: &Credentials, password: String) {
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
