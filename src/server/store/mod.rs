//! Where accounts live: the store traits (accounts, sessions, activity, links, mail,
//! second factors, passkeys, signing keys, secrets sealed at start-up, registered
//! applications) and their SQL implementation (SQLite by default, PostgreSQL when
//! `DATABASE_URL` points to one).

mod activity;
mod cache;
mod oauth_clients;
mod second_factors;
mod sql;

pub use activity::{ActivityStore, Fold, NewEvent, Recorded, StoredEvent};
pub use cache::{follow_external_changes, CachedStore};
pub use oauth_clients::{OAuthClient, OAuthClientStore};
pub use second_factors::{
    Ceremony, MfaChallenge, NewPasskey, PasskeyStore, SecondFactorStore, StoredPasskey, TotpFactor,
};
pub use sql::{DatabaseOptions, SqlStore, SqlThrottle};

use async_trait::async_trait;

/// A stored account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Tokens issued under an older generation are no longer accepted.
    pub token_generation: i64,
    /// Content hash of the profile image, if there is one.
    pub image_hash: Option<String>,
    /// When an administrator disabled the account (it cannot sign in until enabled).
    pub disabled_at: Option<i64>,
    /// When the person followed a link sent to `email` (none: not confirmed yet).
    pub email_verified_at: Option<i64>,
    /// A new address waiting for its confirmation link to be followed.
    pub pending_email: Option<String>,
}

/// An account with the hash, for log-in only.
#[derive(Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// A validated, hashed account about to be stored.
#[derive(Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password_hash: String,
}

debug_without_secrets!(Credentials { user });

debug_without_secrets!(NewUser { username, email });

/// A sign-in session (one per log-in), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Random, 128 bits, URL-safe; also the `sid` claim of its access tokens.
    pub id: String,
    pub user_id: i64,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The absolute end of the session, whatever the activity.
    pub expires_at: i64,
    pub user_agent: String,
    pub address: String,
    /// SHA-256 (hex) of the current refresh token's secret.
    pub refresh_hash: String,
    /// The hash it replaced, accepted until `rotated_at` + the grace window.
    pub previous_hash: Option<String>,
    pub rotated_at: i64,
    /// The user's token generation when the session opened (or last survived a password
    /// change); a session of an older generation is over.
    pub generation: i64,
    /// How the person authenticated when it opened: RFC 8176 `amr` values,
    /// comma-separated (`pwd`, `pwd,otp`, …).
    pub amr: String,
}

/// A link sent by mail (reset a password, confirm an address, undo a change), as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct OneTimeLink {
    /// SHA-256 (hex) of the secret the link carries.
    pub hash: String,
    pub user_id: i64,
    pub purpose: &'static str,
    /// The address it confirms or restores.
    pub email: String,
    /// What must still hold when it is used (see the migration `0007_recovery.sql`).
    pub binding: String,
    pub created_at: i64,
    pub expires_at: i64,
}

debug_without_secrets!(OneTimeLink {
    user_id,
    purpose,
    created_at,
    expires_at
});

/// A message in the mail queue.
#[derive(Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    /// The bodies, sealed (`mail/sealed_bodies.rs`) when `sealed`, else readable (rows
    /// queued before migration 0015, sealed at the next start-up).
    pub text_body: String,
    pub html_body: String,
    pub sealed: bool,
    pub created_at: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
}

debug_without_secrets!(QueuedMail {
    id,
    subject,
    sealed,
    created_at,
    attempts
});

/// Limits applied when a session is created.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Sessions last seen before this (unix seconds) are removed.
    pub idle_cutoff: i64,
    /// The user's most recently seen sessions kept; older ones are removed.
    pub max_per_user: i64,
}

/// How many replaced refresh tokens a session remembers (newest first): replaying one of
/// them ends the session; an older one is refused without ending it. About a day of
/// continuous use at one refresh every 14 minutes.
pub const RETIRED_HASHES_KEPT: i64 = 100;

/// A rotation of the refresh token, applied only if the stored hash is still `from`.
#[derive(Debug, Clone)]
pub struct Rotation<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub now: i64,
    pub user_agent: &'a str,
    pub address: &'a str,
}

/// The unique attribute a new row collided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Username,
    Email,
    /// A passkey's credential id (registered already, to this account or another).
    Passkey,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the {0:?} is already taken")]
    Conflict(Taken),
    #[error("no such account")]
    Missing,
    /// The database cannot be reached (connecting, a ping).
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database schema could not be migrated: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Whether the database could not be reached (a 503 for the caller, worth a
    /// retry), rather than refusing the request.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Database(e) => matches!(
                e,
                sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
            ),
            _ => false,
        }
    }
}

/// Accounts and their images.
#[async_trait]
pub trait UserStore: Send + Sync {
    async fn insert(&self, user: NewUser) -> Result<User, StoreError>;
    async fn taken(&self, username_key: &str, email_key: &str)
        -> Result<Option<Taken>, StoreError>;
    async fn credentials(&self, login_key: &str) -> Result<Option<Credentials>, StoreError>;
    async fn find(&self, id: i64) -> Result<Option<User>, StoreError>;
    async fn upgrade_password_hash(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
    ) -> Result<(), StoreError>;
    /// Replaces the hash if it is still `old_hash` (else `Missing`), bumps the token
    /// generation and ends every session but `keep`; returns the new generation.
    async fn change_password(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
        keep: Option<&str>,
    ) -> Result<i64, StoreError>;
    async fn revoke_tokens(&self, id: i64) -> Result<i64, StoreError>;
    async fn update_identity(
        &self,
        id: i64,
        username: &str,
        email: &str,
    ) -> Result<User, StoreError>;
    /// Deletes the account with everything it owns, its activity log included.
    async fn delete(&self, id: i64) -> Result<(), StoreError>;
    async fn set_image(
        &self,
        id: i64,
        image: &crate::server::building_blocks::images::ProcessedImage,
    ) -> Result<User, StoreError>;
    async fn remove_image(&self, id: i64) -> Result<User, StoreError>;
    /// Sets (or clears) the address waiting for confirmation.
    async fn set_pending_email(&self, id: i64, email: Option<&str>) -> Result<User, StoreError>;
    /// Marks `email` confirmed: the current address, or the pending one, which then
    /// replaces it (`Conflict` if another account took it meanwhile). `Missing` when
    /// it is neither any more.
    async fn confirm_email(&self, id: i64, email: &str, now: i64) -> Result<User, StoreError>;
    /// Puts `old` back as the (confirmed) address if the account's address is still
    /// `from`; `Missing` otherwise.
    async fn restore_email(
        &self,
        id: i64,
        old: &str,
        from: &str,
        now: i64,
    ) -> Result<User, StoreError>;
    async fn image(&self, hash: &str, large: bool) -> Result<Option<Vec<u8>>, StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    /// Connections of the pool: (in use, idle).
    fn pool_usage(&self) -> (u32, u32);
}

/// Sign-in sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session if its user's token generation is still
    /// `session.generation`; `false` if it moved on meanwhile (nothing stored).
    async fn create_session(
        &self,
        session: &Session,
        limits: SessionLimits,
    ) -> Result<bool, StoreError>;
    async fn session(&self, id: &str) -> Result<Option<(Session, User)>, StoreError>;
    /// Replaces the refresh hash if it is still `rotation.from`, keeping the replaced
    /// one among the session's retired hashes; `false` if another rotation came first.
    async fn rotate_session(
        &self,
        user_id: i64,
        id: &str,
        rotation: Rotation<'_>,
    ) -> Result<bool, StoreError>;
    /// Whether `hash` is a refresh hash session `id` handed out and has since replaced.
    async fn was_retired(&self, id: &str, hash: &str) -> Result<bool, StoreError>;
    async fn touch_session(&self, user_id: i64, id: &str, now: i64) -> Result<(), StoreError>;
    async fn sessions(&self, user_id: i64) -> Result<Vec<Session>, StoreError>;
    async fn delete_session(&self, user_id: i64, id: &str) -> Result<bool, StoreError>;
    async fn delete_sessions(&self, user_id: i64, keep: Option<&str>) -> Result<u64, StoreError>;
    /// Sessions whose absolute end is after `now` (idle ones included until met).
    async fn count_sessions(&self, now: i64) -> Result<i64, StoreError>;
}

/// Links sent by mail.
#[async_trait]
pub trait LinkStore: Send + Sync {
    /// Stores `link` in place of the user's earlier links of its purpose, unless one of
    /// them was created after `not_since` (then nothing changes: `false`).
    async fn issue_link(
        &self,
        link: &OneTimeLink,
        not_since: Option<i64>,
    ) -> Result<bool, StoreError>;
    async fn find_link(
        &self,
        hash: &str,
        purpose: &'static str,
    ) -> Result<Option<OneTimeLink>, StoreError>;
    /// Deletes the link and returns it: of two requests using it, one gets it.
    async fn take_link(
        &self,
        hash: &str,
        purpose: &'static str,
    ) -> Result<Option<OneTimeLink>, StoreError>;
    /// Whether account `user_id` has a link of `purpose` still good at `now`.
    async fn has_live_link(
        &self,
        user_id: i64,
        purpose: &'static str,
        now: i64,
    ) -> Result<bool, StoreError>;
}

/// The mail queue.
#[async_trait]
pub trait MailStore: Send + Sync {
    async fn enqueue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError>;
    /// The oldest message due at `now`, leased until `lease_until` (attempt counted).
    async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<QueuedMail>, StoreError>;
    async fn mail_sent(&self, id: i64) -> Result<(), StoreError>;
    async fn mail_failed(&self, id: i64, retry_at: i64, error: &str) -> Result<(), StoreError>;
    async fn mail_queue_depth(&self) -> Result<i64, StoreError>;
}

/// A token signing key as stored: its public JWK, and its private key sealed
/// (`building_blocks/token/key_encryption.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSigningKey {
    pub kid: String,
    pub alg: String,
    pub public_jwk: String,
    pub sealed_private_key: String,
    pub created_at: i64,
    /// Unix time from which it signs (`building_blocks/token/key_ring.rs`).
    pub activate_at: i64,
}

/// The published token signing keys (`building_blocks/token/key_rotation.rs`), shared by every instance.
#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Every stored key, earliest activation first.
    async fn signing_keys(&self) -> Result<Vec<StoredSigningKey>, StoreError>;
    /// Stores `key`; with `only_if_none`, only if no key is stored (the first key, which
    /// instances starting together may all try to make). Whether it was stored.
    async fn add_signing_key(
        &self,
        key: &StoredSigningKey,
        only_if_none: bool,
    ) -> Result<bool, StoreError>;
    /// Deletes the key `kid` (retired, or revoked at once); whether there was one.
    async fn delete_signing_key(&self, kid: &str) -> Result<bool, StoreError>;
}

/// What a start-up uses to check `KEYHOLD_KEY_ENCRYPTION_KEY` against the database and
/// to seal what versions before migration 0015 stored readable (`runtime/sealed_at_rest.rs`).
#[async_trait]
pub trait SealedAtRestStore: Send + Sync {
    /// The stored key check (`building_blocks/sealing.rs`), `candidate` stored first if
    /// there is none (of instances starting together, one stores it).
    async fn key_check(&self, candidate: &str) -> Result<String, StoreError>;
    /// The authenticator secrets still readable: account id and base32 secret.
    async fn readable_totp_secrets(&self) -> Result<Vec<(i64, String)>, StoreError>;
    /// Replaces the readable secret `readable` of account `user_id` with `sealed`, if the
    /// row still holds it; whether it did.
    async fn seal_totp_secret(
        &self,
        user_id: i64,
        readable: &str,
        sealed: &str,
    ) -> Result<bool, StoreError>;
    /// The queued messages whose bodies are still readable.
    async fn readable_mail(&self) -> Result<Vec<QueuedMail>, StoreError>;
    /// Replaces message `id`'s readable bodies with the sealed `text` and `html`, if it
    /// is still queued readable; whether it did.
    async fn seal_mail(&self, id: i64, text: &str, html: &str) -> Result<bool, StoreError>;
}

/// Everything the account rules keep: one database (or the SQLite cache in front of it).
pub trait Store:
    UserStore + SessionStore + ActivityStore + LinkStore + MailStore + SecondFactorStore + PasskeyStore
{
}

impl<T> Store for T where
    T: UserStore
        + SessionStore
        + ActivityStore
        + LinkStore
        + MailStore
        + SecondFactorStore
        + PasskeyStore
{
}

impl From<User> for crate::api::UserView {
    fn from(user: User) -> Self {
        Self {
            email_verified: user.email_verified_at.is_some(),
            pending_email: user.pending_email,
            username: user.username,
            email: user.email,
            image_url: user
                .image_hash
                .map(|hash| crate::api::image_url(&hash, 256)),
        }
    }
}
