//! How every log-in ends, whichever way it proved who the person is (password,
//! password and a second factor, passkey alone): the log-in paths return what they
//! proved ([`Authenticated`]) or that a second step is needed ([`LogInStep`]), and
//! [`Accounts::complete_log_in`] runs what every completed log-in shares: the gates
//! (disabled account, unconfirmed address), the session, the activity record and the
//! device cookie. What is then handed out is up to the caller: the first-party access
//! token and refresh cookie (`first_party.rs`) are one such consumer.

use super::{AccountError, Accounts, Client};
use crate::api::security_events::ActivityKind;
use crate::server::{building_blocks::refresh_token::RefreshToken, store::User};

/// Who a log-in proved the person to be, and how.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: User,
    /// How (RFC 8176 `amr` values), e.g. `["pwd"]` or `["pwd", "otp", "mfa"]`.
    pub amr: Vec<&'static str>,
    /// When the person authenticated (unix seconds).
    pub auth_time: i64,
    /// Whether the browser proved a device cookie of this account (no new one needed).
    pub known_device: bool,
    /// What the log-in is for (e.g. the page to go back to), carried across a second
    /// step so that a log-in started elsewhere resumes where it began.
    pub continuation: Option<String>,
    /// The activity entry the completed log-in records.
    pub(super) activity: ActivityKind,
}

/// Where a log-in stands after its first step.
#[derive(Debug)]
pub enum LogInStep {
    /// The person is known: [`Accounts::complete_log_in`] opens the session.
    Authenticated(Authenticated),
    /// The right password for an account with a second factor: nothing is signed in
    /// yet; the log-in goes on with `mfa_token` and one of `methods`.
    SecondFactorRequired {
        mfa_token: String,
        methods: Vec<&'static str>,
    },
}

/// The session a completed log-in opened.
#[derive(Debug, Clone)]
pub struct OpenedSession {
    pub user: User,
    /// The session's refresh token (its id is the session's id).
    pub refresh: RefreshToken,
    /// When the session ends at the latest (unix seconds).
    pub expires_at: i64,
    /// The session's `amr`, comma-separated.
    pub amr: String,
    pub auth_time: i64,
    /// A new device cookie for the browser (`None`: it proved a valid one).
    pub device: Option<String>,
    pub continuation: Option<String>,
}

impl OpenedSession {
    pub fn session_id(&self) -> &str {
        &self.refresh.session_id
    }
}

impl Accounts {
    /// Opens the session of a completed log-in: the gates first (an account disabled or,
    /// when required, unconfirmed since the log-in began gets no session), then the
    /// session, its activity entry and, for a browser that did not prove one, a device
    /// cookie.
    pub async fn complete_log_in(
        &self,
        authenticated: Authenticated,
        client: Client<'_>,
    ) -> Result<OpenedSession, AccountError> {
        let Authenticated {
            user,
            amr,
            auth_time,
            known_device,
            continuation,
            activity,
        } = authenticated;
        self.admit(&user, client).await?;
        let (refresh, expires_at) = self.open_session(&user, client, &amr).await?;
        self.record(activity, user.id, client, Some(&refresh.session_id))
            .await;
        let device = (!known_device).then(|| self.devices.issue(user.id, user.token_generation));
        Ok(OpenedSession {
            user,
            refresh,
            expires_at,
            amr: amr.join(","),
            auth_time,
            device,
            continuation,
        })
    }

    /// The gates every log-in passes once the person is known: a disabled account is
    /// refused (only the owner, who proved who they are, learns why), and where a
    /// confirmed address is required an unconfirmed one gets a fresh link (at most one a
    /// minute), so the way in is in the inbox.
    pub(super) async fn admit(&self, user: &User, client: Client<'_>) -> Result<(), AccountError> {
        if user.disabled_at.is_some() {
            self.record(ActivityKind::LoginRefusedDisabled, user.id, client, None)
                .await;
            return Err(AccountError::Disabled);
        }
        if self.require_verified_email && user.email_verified_at.is_none() {
            self.send_confirmation(user, &user.email, false, true)
                .await?;
            return Err(AccountError::EmailNotVerified);
        }
        Ok(())
    }
}
