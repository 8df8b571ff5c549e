//! The account rules, one file per job: creating an account (`registration`), logging
//! in and checking bearer tokens (`log_in`), what every completed log-in shares
//! (`complete_log_in`) and its first-party tokens (`first_party`), the browser session
//! the server sees (`browser_session`), password checks (`password_check`), the
//! refresh cookie's rotation (`refresh_rotation`), ending sessions (`session_control`),
//! self-service (`self_service`), the security activity log (`activity`), "forgot
//! password" (`recovery`), confirming addresses (`email_verification`) and the links
//! both mail (`links`), second factors (`second_factor`, `authenticator_app`), passkeys
//! (`passkeys`) and signing in with one (`passkey_log_in`). This file holds what they
//! share.

mod activity;
mod authenticator_app;
mod browser_session;
mod complete_log_in;
mod deferred_activity;
mod email_verification;
mod first_party;
mod links;
mod log_in;
mod passkey_log_in;
mod passkey_second_factor;
mod passkeys;
mod password_check;
mod recovery;
mod refresh_rotation;
mod registration;
mod second_factor;
mod self_service;
mod session_control;
#[cfg(test)]
mod tests;

pub use activity::{record_event, Origin};
pub use authenticator_app::{AuthenticatorSetup, SecondFactorStatus};
pub use complete_log_in::{Authenticated, LogInStep, OpenedSession};
pub use first_party::SignIn;
pub use links::{new_link, RESET};
pub use passkeys::{Challenge, MAX_PASSKEYS};
pub use second_factor::{PasskeyProof, SecondFactorProof, TOTP_FAILURE_CAP};
pub use self_service::ProfileChange;

use deferred_activity::DeferredActivity;

use crate::server::{
    building_blocks::{
        clock::Clock,
        device_cookie::DeviceCookies,
        images::{ImageError, ImageProcessor},
        password::{HashError, PasswordHasher},
        refresh_token::RefreshToken,
        relying_party::{RelyingParty, Unavailable},
        second_factors::totp_at_rest::TotpSecrets,
        session_cookie::SessionCookies,
        session_policy::SessionPolicy,
        token::{IssuedToken, TokenError, TokenService},
        validation::{Invalid, PasswordPolicy},
    },
    mail::Mailer,
    store::{Store, StoreError, Taken, User},
    throttle::{Action, RetryAfter, Throttle},
};
use std::{net::IpAddr, sync::Arc};

/// Longest user agent kept with a session.
const MAX_USER_AGENT: usize = 512;

/// Where a request comes from, recorded on the session it opens or refreshes.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub addr: IpAddr,
    pub user_agent: &'a str,
}

/// The answer to a refresh: always an access token; a rotated refresh token unless the
/// request raced another refresh of the same session (grace window).
#[derive(Debug, Clone)]
pub struct Refreshed {
    pub access: IssuedToken,
    pub refresh: Option<(RefreshToken, i64)>,
}

/// Levels sampled for the metrics.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    pub hashes_in_flight: usize,
    pub pool_in_use: u32,
    pub pool_idle: u32,
    pub sessions_active: Option<i64>,
    pub mail_queued: Option<i64>,
    /// Throttling states kept (bounded by `KEYHOLD_THROTTLE_MAX_KEYS`).
    pub throttle_keys: Option<u64>,
}

/// Who a valid access token speaks for: the user and the session it belongs to.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub session_id: String,
    /// How the session was authenticated (RFC 8176 values, comma-separated).
    pub amr: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("the {0:?} is already taken")]
    Taken(Taken),
    #[error("unknown user or wrong password")]
    InvalidCredentials,
    /// The right password for an account an administrator disabled.
    #[error("the account is disabled")]
    Disabled,
    /// The right password, but the address is not confirmed (and that is required).
    #[error("the e-mail address is not confirmed")]
    EmailNotVerified,
    /// A mailed link that is unknown, used, replaced, voided or (`expired`) too old.
    #[error("the link is not valid (expired: {expired})")]
    InvalidLink { expired: bool },
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
    #[error("no such activity entry")]
    NoSuchEntry,
    /// The right password for an account with a second factor: the log-in goes on at
    /// `POST /api/login/mfa` with this token and one of these methods.
    #[error("a second factor is required")]
    MfaRequired {
        mfa_token: String,
        methods: Vec<&'static str>,
    },
    /// An `mfa_token` that is unknown, used, expired, from another address, voided by a
    /// password change or spent by wrong codes.
    #[error("the mfa_token is not valid (expired: {expired})")]
    InvalidMfaToken { expired: bool },
    /// A wrong second factor (field `code` or `recovery_code`) at log-in.
    #[error("the second factor is wrong")]
    WrongSecondFactor(&'static str),
    /// A wrong second factor (field `code` or `recovery_code`) confirming a change.
    #[error("the second factor confirming the change is wrong")]
    WrongConfirmationCode(&'static str),
    /// The account has no such second factor, or already has one (setting it up).
    #[error("{0}")]
    SecondFactorState(&'static str),
    /// The address changed less than the undo link's lifetime ago: it stays until the
    /// old address's undo link has expired (or was used).
    #[error("the address changed recently and cannot change again yet")]
    EmailChangeFrozen,
    /// The password re-entered in field `.0` to confirm a change is wrong.
    #[error("the password confirming the change is wrong")]
    WrongPassword(&'static str),
    #[error("too many attempts")]
    Throttled(RetryAfter),
    /// The account asked for more confirmation links (field `email`) than it may be
    /// mailed: one a minute, and a daily budget.
    #[error("too many confirmation mails")]
    TooManyMails(RetryAfter),
    /// `KEYHOLD_PUBLIC_URL` gives WebAuthn no domain to bind passkeys to.
    #[error("passkeys are unavailable: {0}")]
    PasskeysUnavailable(Unavailable),
    /// The authenticator app took `TOTP_FAILURE_CAP` wrong codes in a row: its codes
    /// are refused until a recovery code or a passkey is used.
    #[error("the authenticator app is locked after too many wrong codes")]
    AuthenticatorLocked,
    /// The authenticator app's stored secret does not open for this account (its row
    /// was altered, e.g. another account's secret copied in): its codes are refused
    /// until it is removed and set up again.
    #[error("the authenticator app's sealed secret does not open for this account")]
    AuthenticatorUnreadable,
    /// The account's only second factor is a passkey, and passkeys are unavailable: the
    /// password alone does not sign in (fail closed).
    #[error("the account's passkeys cannot be checked: {0}")]
    PasskeyFactorUnavailable(Unavailable),
    /// A WebAuthn ceremony id that is unknown, used, of another account or (`expired`)
    /// too old.
    #[error("the passkey ceremony is not valid (expired: {expired})")]
    InvalidCeremony { expired: bool },
    /// What the browser sent for a passkey cannot be read, or does not verify against
    /// the ceremony (registration).
    #[error("the passkey response was refused: {0}")]
    InvalidPasskeyResponse(String),
    /// A passkey presented to sign in is unknown, does not verify, or looks cloned.
    #[error("the passkey was not accepted")]
    PasskeyNotAccepted,
    #[error("no such passkey")]
    NoSuchPasskey,
    #[error("the account has the most passkeys allowed")]
    TooManyPasskeys,
    #[error(transparent)]
    Image(#[from] ImageError),
    /// Password hashing or image uploads are saturated: the request is shed (503).
    #[error("the server is saturated (password hashing or image uploads)")]
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
            other => {
                metrics::counter!("keyhold_db_errors_total").increment(1);
                Self::Store(other)
            }
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
    clock: Clock,
    store: Arc<dyn Store>,
    hasher: PasswordHasher,
    tokens: TokenService,
    policy: PasswordPolicy,
    throttle: Throttle,
    devices: DeviceCookies,
    session_cookies: SessionCookies,
    images: ImageProcessor,
    sessions: SessionPolicy,
    mailer: Mailer,
    totp_secrets: TotpSecrets,
    require_verified_email: bool,
    relying_party: Result<RelyingParty, Unavailable>,
    /// Failed and throttled log-ins' entries, written after the answer.
    deferred: DeferredActivity,
}

/// What `Accounts` is built from.
pub struct Parts {
    pub clock: Clock,
    pub store: Arc<dyn Store>,
    pub hasher: PasswordHasher,
    pub tokens: TokenService,
    pub policy: PasswordPolicy,
    pub throttle: Throttle,
    pub devices: DeviceCookies,
    /// The browser session cookie's key (`session_cookie.rs`).
    pub session_cookies: SessionCookies,
    pub images: ImageProcessor,
    pub sessions: SessionPolicy,
    pub mailer: Mailer,
    /// Seals the authenticator apps' secrets at rest (`KEYHOLD_KEY_ENCRYPTION_KEY`).
    pub totp_secrets: TotpSecrets,
    /// `KEYHOLD_REQUIRE_VERIFIED_EMAIL`.
    pub require_verified_email: bool,
    /// WebAuthn's view of the site, from `KEYHOLD_PUBLIC_URL` (or why passkeys are off).
    pub relying_party: Result<RelyingParty, Unavailable>,
}

impl Accounts {
    /// The account rules; starts the writer of deferred activity entries (inside a Tokio
    /// runtime).
    pub fn new(parts: Parts) -> Self {
        Self {
            deferred: DeferredActivity::start(parts.store.clone()),
            clock: parts.clock,
            store: parts.store,
            hasher: parts.hasher,
            tokens: parts.tokens,
            policy: parts.policy,
            throttle: parts.throttle,
            devices: parts.devices,
            session_cookies: parts.session_cookies,
            images: parts.images,
            sessions: parts.sessions,
            mailer: parts.mailer,
            totp_secrets: parts.totp_secrets,
            require_verified_email: parts.require_verified_email,
            relying_party: parts.relying_party,
        }
    }

    /// Spends `action`'s budget from `client` (429 when it is spent).
    pub(super) async fn spend(&self, action: Action, client: IpAddr) -> Result<(), AccountError> {
        self.throttle
            .act(action, client)
            .await?
            .map_err(AccountError::Throttled)
    }

    /// What the metrics sample (`edge/metrics.rs`); live sessions are `None` when the
    /// database cannot count them.
    pub async fn gauges(&self) -> Gauges {
        let (pool_in_use, pool_idle) = self.store.pool_usage();
        Gauges {
            hashes_in_flight: self.hasher.in_flight(),
            pool_in_use,
            pool_idle,
            sessions_active: self.store.count_sessions(self.clock.now()).await.ok(),
            mail_queued: self.store.mail_queue_depth().await.ok(),
            throttle_keys: self.throttle.tracked_keys().await.ok(),
        }
    }

    /// The token keys (for the published JWKS).
    pub fn token_keys(&self) -> &Arc<crate::server::building_blocks::token::key_ring::KeyRing> {
        self.tokens.keys()
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn database_reachable(&self) -> bool {
        self.store.ping().await.is_ok()
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
