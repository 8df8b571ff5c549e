//! The kinds of security events and how one entry of the activity log looks: shared by
//! the server (which records them), the API and the profile page.

use serde::{Deserialize, Serialize};

/// What happened. New kinds may appear: treat an unknown one as `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ActivityKind {
    LoginSucceeded,
    /// Wrong password (repeats from one address are one entry with a `count`).
    LoginFailed,
    /// Refused before the password was checked: too many attempts.
    LoginThrottled,
    /// The right password while the account was disabled.
    LoginRefusedDisabled,
    /// A refresh token that had been replaced was presented again: two parties held
    /// the session, so it was ended.
    RefreshReuseDetected,
    SessionRevoked,
    OtherSessionsRevoked,
    LoggedOutEverywhere,
    PasswordChanged,
    /// The password was set with a link sent by mail ("forgot password").
    PasswordReset,
    UsernameChanged,
    /// A new address was asked for; it takes effect once confirmed.
    EmailChangeRequested,
    EmailChanged,
    EmailVerified,
    /// The old address's "undo" link put it back; every session ended.
    EmailChangeUndone,
    /// The owner said an entry was not them; every other session was ended.
    ReportedNotMe,
    AccountDisabled,
    AccountEnabled,
    /// An administrator ended the account's sessions.
    SessionsRevokedByAdmin,
    /// An administrator made a password reset link for the account.
    ResetLinkIssuedByAdmin,
    AccountDeleted,
    /// The right password, then a wrong code from the authenticator app or a wrong
    /// recovery code (repeats from one address are one entry).
    SecondFactorFailed,
    AuthenticatorAppAdded,
    AuthenticatorAppRemoved,
    RecoveryCodesRegenerated,
    /// A recovery code was used (each works once).
    RecoveryCodeUsed,
    /// An administrator removed the account's second factors (lost phone and codes).
    SecondFactorsRemovedByAdmin,
    PasskeyAdded,
    PasskeyRemoved,
    /// Signed in with a passkey alone (no password).
    PasskeyLoginSucceeded,
    /// A registered passkey was presented to sign in but did not verify (repeats from
    /// one address are one entry with a `count`).
    PasskeyLoginFailed,
    /// A passkey's signature counter went backwards: a copy of it may exist; refused.
    PasskeyCloneSuspected,
    #[serde(other)]
    Unknown,
}

impl ActivityKind {
    const ALL: [Self; 32] = [
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::LoginThrottled,
        Self::LoginRefusedDisabled,
        Self::RefreshReuseDetected,
        Self::SessionRevoked,
        Self::OtherSessionsRevoked,
        Self::LoggedOutEverywhere,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::UsernameChanged,
        Self::EmailChangeRequested,
        Self::EmailChanged,
        Self::EmailVerified,
        Self::EmailChangeUndone,
        Self::ReportedNotMe,
        Self::AccountDisabled,
        Self::AccountEnabled,
        Self::SessionsRevokedByAdmin,
        Self::ResetLinkIssuedByAdmin,
        Self::AccountDeleted,
        Self::SecondFactorFailed,
        Self::AuthenticatorAppAdded,
        Self::AuthenticatorAppRemoved,
        Self::RecoveryCodesRegenerated,
        Self::RecoveryCodeUsed,
        Self::SecondFactorsRemovedByAdmin,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::PasskeyLoginSucceeded,
        Self::PasskeyLoginFailed,
        Self::PasskeyCloneSuspected,
    ];

    /// The name stored and sent (`login_failed`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::LoginThrottled => "login_throttled",
            Self::LoginRefusedDisabled => "login_refused_disabled",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::SessionRevoked => "session_revoked",
            Self::OtherSessionsRevoked => "other_sessions_revoked",
            Self::LoggedOutEverywhere => "logged_out_everywhere",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::UsernameChanged => "username_changed",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::EmailVerified => "email_verified",
            Self::EmailChangeUndone => "email_change_undone",
            Self::ReportedNotMe => "reported_not_me",
            Self::AccountDisabled => "account_disabled",
            Self::AccountEnabled => "account_enabled",
            Self::SessionsRevokedByAdmin => "sessions_revoked_by_admin",
            Self::ResetLinkIssuedByAdmin => "reset_link_issued_by_admin",
            Self::AccountDeleted => "account_deleted",
            Self::SecondFactorFailed => "second_factor_failed",
            Self::AuthenticatorAppAdded => "authenticator_app_added",
            Self::AuthenticatorAppRemoved => "authenticator_app_removed",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::SecondFactorsRemovedByAdmin => "second_factors_removed_by_admin",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::PasskeyLoginSucceeded => "passkey_login_succeeded",
            Self::PasskeyLoginFailed => "passkey_login_failed",
            Self::PasskeyCloneSuspected => "passkey_clone_suspected",
            Self::Unknown => "unknown",
        }
    }

    /// The kind named `name` (`Unknown` for a name this build does not know).
    pub fn from_name(name: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .unwrap_or(Self::Unknown)
    }

    /// What the profile page says about it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "Signed in",
            Self::LoginFailed => "Failed sign-in: wrong password",
            Self::LoginThrottled => "Sign-in refused: too many attempts",
            Self::LoginRefusedDisabled => "Sign-in refused: account disabled",
            Self::RefreshReuseDetected => "A stolen or copied session was detected and ended",
            Self::SessionRevoked => "A session was signed out",
            Self::OtherSessionsRevoked => "Every other session was signed out",
            Self::LoggedOutEverywhere => "Logged out everywhere",
            Self::PasswordChanged => "Password changed",
            Self::PasswordReset => "Password reset with a link sent by e-mail",
            Self::UsernameChanged => "Username changed",
            Self::EmailChangeRequested => "New e-mail address waiting for confirmation",
            Self::EmailChanged => "E-mail address changed",
            Self::EmailVerified => "E-mail address confirmed",
            Self::EmailChangeUndone => "E-mail address change undone",
            Self::ReportedNotMe => "You reported activity that wasn't you",
            Self::AccountDisabled => "Account disabled by an administrator",
            Self::AccountEnabled => "Account enabled by an administrator",
            Self::SessionsRevokedByAdmin => "Sessions ended by an administrator",
            Self::ResetLinkIssuedByAdmin => "Password reset link made by an administrator",
            Self::AccountDeleted => "Account deleted",
            Self::SecondFactorFailed => "Failed sign-in: right password, wrong second-factor code",
            Self::AuthenticatorAppAdded => "Authenticator app turned on",
            Self::AuthenticatorAppRemoved => "Authenticator app removed",
            Self::RecoveryCodesRegenerated => {
                "New recovery codes made (the old ones stopped working)"
            }
            Self::RecoveryCodeUsed => "A recovery code was used",
            Self::SecondFactorsRemovedByAdmin => {
                "Two-step verification turned off by an administrator"
            }
            Self::PasskeyAdded => "Passkey added",
            Self::PasskeyRemoved => "Passkey removed",
            Self::PasskeyLoginSucceeded => "Signed in with a passkey",
            Self::PasskeyLoginFailed => "Failed sign-in with a passkey",
            Self::PasskeyCloneSuspected => {
                "Sign-in refused: a copy of one of your passkeys may exist (its counter went back)"
            }
            Self::Unknown => "Other security event",
        }
    }
}

/// One entry of the security activity log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivityEntry {
    /// Pass it to `POST /api/users/me/activity/not-me`, or as `before` for the next page.
    pub id: i64,
    pub kind: ActivityKind,
    /// Unix seconds (of the latest occurrence, when `count` > 1).
    pub at: i64,
    /// How many times it happened: repeats within 15 minutes are one entry (failures
    /// from wherever they come, and what one session does again and again).
    pub count: i64,
    /// The client address.
    pub address: String,
    /// "Firefox on Windows", "curl", …
    pub device: String,
    /// True when it happened in the session making this request.
    pub current_session: bool,
}
