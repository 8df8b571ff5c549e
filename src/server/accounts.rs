//! The account rules: register, log in, and who a bearer token belongs to.

use super::{
    images::{ImageError, ImageProcessor},
    password::{HashError, PasswordHasher, Verification},
    sessions::{RefreshToken, SessionPolicy},
    store::{
        Credentials, NewUser, Rotation, Session, SessionLimits, StoreError, Taken, User, UserStore,
    },
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
use super::unix_now;
use std::{net::IpAddr, sync::Arc};

/// Longest user agent kept with a session.
const MAX_USER_AGENT: usize = 512;

/// Where a request comes from, recorded on the session it opens or refreshes.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub addr: IpAddr,
    pub user_agent: &'a str,
}

/// A successful log-in: the access token and the session's refresh token.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub access: IssuedToken,
    pub refresh: RefreshToken,
    /// When the session ends at the latest (unix seconds): the cookie's lifetime.
    pub expires_at: i64,
}

/// The answer to a refresh: always an access token; a rotated refresh token unless the
/// request raced another refresh of the same session (grace window).
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub access: IssuedToken,
    pub refresh: Option<(RefreshToken, i64)>,
}

/// Who a valid access token speaks for: the user and the session it belongs to.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub session_id: String,
}

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
    /// No usable refresh token, or its session is over (expired, revoked, or ended
    /// because a replaced token was replayed).
    #[error("the session has ended")]
    SessionEnded,
    #[error("no such session")]
    NoSuchSession,
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
    sessions: SessionPolicy,
}

/// What `Accounts` is built from.
pub struct Parts {
    pub store: Arc<dyn UserStore>,
    pub hasher: PasswordHasher,
    pub tokens: TokenService,
    pub policy: PasswordPolicy,
    pub throttle: LoginThrottle,
    pub images: ImageProcessor,
    pub sessions: SessionPolicy,
}

impl Accounts {
    pub fn new(parts: Parts) -> Self {
        Self {
            store: parts.store,
            hasher: parts.hasher,
            tokens: parts.tokens,
            policy: parts.policy,
            throttle: parts.throttle,
            images: parts.images,
            sessions: parts.sessions,
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
        let Some(user) = self.check_password(&key, password).await? else {
            self.throttle.record_failure(&key, addr);
            return Err(AccountError::InvalidCredentials);
        };
        self.throttle.record_success(&key, addr);
        self.open_session(&user, client).await
    }

    /// Starts a session for `user` (after a log-in).
    async fn open_session(&self, user: &User, client: Client<'_>) -> Result<SignIn, AccountError> {
        let now = unix_now();
        let refresh = RefreshToken::generate();
        let session = Session {
            id: refresh.session_id.clone(),
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
            expires_at: self.sessions.expires_at(now),
            user_agent: truncate(client.user_agent, MAX_USER_AGENT),
            address: client.addr.to_string(),
            refresh_hash: refresh.hash(),
            previous_hash: None,
            rotated_at: now,
        };
        let limits = SessionLimits {
            idle_cutoff: self.sessions.idle_cutoff(now),
            max_per_user: i64::from(self.sessions.max_per_user),
        };
        self.store.create_session(&session, limits).await?;
        let access = self
            .tokens
            .issue(user.id, user.token_generation, &session.id)?;
        Ok(SignIn {
            access,
            refresh,
            expires_at: session.expires_at,
        })
    }

    /// Exchanges a refresh token for a new access token and rotates it. Replaying the
    /// token it replaced after the grace window ends the whole session (theft detection).
    pub async fn refresh(
        &self,
        token: Option<&str>,
        client: Client<'_>,
    ) -> Result<Refreshed, AccountError> {
        let presented = token
            .and_then(RefreshToken::parse)
            .ok_or(AccountError::SessionEnded)?;
        let (session, user) = self.live_session(&presented.session_id).await?;
        let now = unix_now();
        if presented.matches(&session.refresh_hash) {
            let next = RefreshToken::for_session(session.id.clone());
            let user_agent = truncate(client.user_agent, MAX_USER_AGENT);
            let rotation = Rotation {
                from: &session.refresh_hash,
                to: &next.hash(),
                now,
                user_agent: &user_agent,
                address: &client.addr.to_string(),
            };
            let rotated = self
                .store
                .rotate_session(user.id, &session.id, rotation)
                .await?;
            let access = self
                .tokens
                .issue(user.id, user.token_generation, &session.id)?;
            // Lost a race with another refresh of this token: that one rotated it, and
            // its answer carries the new cookie.
            let refresh = rotated.then_some((next, session.expires_at));
            return Ok(Refreshed { access, refresh });
        }
        let just_replaced = session
            .previous_hash
            .as_deref()
            .is_some_and(|previous| presented.matches(previous));
        if !just_replaced {
            // Not a token this session handed out lately (or a forgery by somebody who
            // only knows the session id, which every access token shows): refuse it, but
            // do not let it end the session.
            return Err(AccountError::SessionEnded);
        }
        if self.sessions.in_grace(session.rotated_at, now) {
            let access = self
                .tokens
                .issue(user.id, user.token_generation, &session.id)?;
            return Ok(Refreshed {
                access,
                refresh: None,
            });
        }
        self.store.delete_session(user.id, &session.id).await?;
        tracing::warn!(
            user_id = user.id,
            "a replaced refresh token was replayed; the session was ended"
        );
        Err(AccountError::SessionEnded)
    }

    /// The session `id` and its user, if it is still live (an expired one is removed).
    async fn live_session(&self, id: &str) -> Result<(Session, User), AccountError> {
        let (session, user) = self
            .store
            .session(id)
            .await?
            .ok_or(AccountError::SessionEnded)?;
        if self
            .sessions
            .is_over(session.last_seen_at, session.expires_at, unix_now())
        {
            self.store.delete_session(user.id, &session.id).await?;
            return Err(AccountError::SessionEnded);
        }
        Ok((session, user))
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
        let now = unix_now();
        if now - session.last_seen_at >= self.sessions.touch_interval() {
            self.store.touch_session(user.id, &session.id, now).await?;
        }
        Ok(Principal {
            user,
            session_id: session.id,
        })
    }

    /// Ends the session of a valid access token, else of a refresh token (current or
    /// just replaced). Nothing to end is fine: signing out twice is no error.
    pub async fn sign_out(
        &self,
        access: Option<&str>,
        refresh: Option<&str>,
    ) -> Result<(), AccountError> {
        if let Ok(principal) = self.authenticate(access).await {
            return self
                .end_session(principal.user.id, &principal.session_id)
                .await;
        }
        let Some(presented) = refresh.and_then(RefreshToken::parse) else {
            return Ok(());
        };
        if let Some((session, user)) = self.store.session(&presented.session_id).await? {
            let known = std::iter::once(session.refresh_hash.as_str())
                .chain(session.previous_hash.as_deref())
                .any(|hash| presented.matches(hash));
            if known {
                self.end_session(user.id, &session.id).await?;
            }
        }
        Ok(())
    }

    async fn end_session(&self, user_id: i64, id: &str) -> Result<(), AccountError> {
        self.store.delete_session(user_id, id).await?;
        tracing::info!(user_id, "signed out");
        Ok(())
    }

    /// The user's live sessions, most recently active first.
    pub async fn sessions(&self, principal: &Principal) -> Result<Vec<Session>, AccountError> {
        let now = unix_now();
        let mut sessions = self.store.sessions(principal.user.id).await?;
        sessions.retain(|s| !self.sessions.is_over(s.last_seen_at, s.expires_at, now));
        Ok(sessions)
    }

    /// Ends one of the user's sessions (possibly the caller's own).
    pub async fn revoke_session(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(), AccountError> {
        if !self.store.delete_session(principal.user.id, id).await? {
            return Err(AccountError::NoSuchSession);
        }
        tracing::info!(user_id = principal.user.id, "session revoked");
        Ok(())
    }

    /// Ends every session of the user but the caller's; returns how many ended.
    pub async fn revoke_other_sessions(&self, principal: &Principal) -> Result<u64, AccountError> {
        let ended = self
            .store
            .delete_sessions(principal.user.id, Some(&principal.session_id))
            .await?;
        tracing::info!(user_id = principal.user.id, ended, "other sessions revoked");
        Ok(ended)
    }

    /// Replaces the password after checking the current one; every earlier token stops
    /// working and every other session ends. Returns a fresh token for the caller's
    /// session, so the caller stays signed in.
    pub async fn change_password(
        &self,
        principal: &Principal,
        current: &str,
        new: &str,
        client: IpAddr,
    ) -> Result<IssuedToken, AccountError> {
        let user = &principal.user;
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
        let session = principal.session_id.as_str();
        let generation = self
            .store
            .change_password(user.id, &hash, Some(session))
            .await?;
        tracing::info!(
            user_id = user.id,
            "password changed; earlier tokens and other sessions revoked"
        );
        Ok(self.tokens.issue(user.id, generation, session)?)
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

    /// Revokes every token and session of the user, this one included.
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

/// At most `max` bytes of `text`, cut at a character boundary.
fn truncate(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}
