//! The account rules: register, log in, and who a bearer token belongs to.

use super::{
    password::{HashError, PasswordHasher, Verification},
    store::{NewUser, StoreError, Taken, User, UserStore},
    token::{IssuedToken, TokenError, TokenService},
    validation::{lookup_key, normalize_password, Invalid, PasswordPolicy, Registration},
};
use std::sync::Arc;

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
}

impl Accounts {
    pub fn new(
        store: Arc<dyn UserStore>,
        hasher: PasswordHasher,
        tokens: TokenService,
        policy: PasswordPolicy,
    ) -> Self {
        Self {
            store,
            hasher,
            tokens,
            policy,
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
    /// wrong password give the same error after the same amount of work.
    pub async fn login(
        &self,
        identifier: &str,
        password: &str,
    ) -> Result<IssuedToken, AccountError> {
        let password = normalize_password(password);
        if password.chars().count() > self.policy.max_chars {
            return Err(AccountError::InvalidCredentials);
        }
        let found = self.store.credentials(&lookup_key(identifier)).await?;
        let stored_hash = found.as_ref().map(|c| c.password_hash.clone());
        let verification = self.hasher.verify(password.clone(), stored_hash).await?;
        let (Some(credentials), Verification::Match { needs_rehash }) = (found, verification)
        else {
            return Err(AccountError::InvalidCredentials);
        };
        if needs_rehash {
            self.upgrade_hash(credentials.user.id, password);
        }
        Ok(self.tokens.issue(credentials.user.id)?)
    }

    /// The user a bearer token (the value after `Bearer `) belongs to.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<User, AccountError> {
        let token = token.ok_or(AccountError::MissingToken)?;
        let claims = self.tokens.verify(token)?;
        let id: i64 = claims.sub.parse().map_err(|_| TokenError::Malformed)?;
        self.store.find(id).await?.ok_or(AccountError::UnknownUser)
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn database_reachable(&self) -> bool {
        self.store.ping().await.is_ok()
    }

    /// Re-hashes with the current cost in the background after a successful log-in.
    fn upgrade_hash(&self, user_id: i64, password: String) {
        let (hasher, store) = (self.hasher.clone(), self.store.clone());
        tokio::spawn(async move {
            let result = match hasher.hash(password).await {
                Ok(hash) => store
                    .set_password_hash(user_id, &hash)
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
