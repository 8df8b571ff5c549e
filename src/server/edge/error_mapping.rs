//! The one mapping from account errors to the API's status + JSON body: a pure
//! conversion; the cause of a refusal or failure rides along for the edge to log
//! (`error_body.rs`).

use crate::api::{ApiError, ErrorCode};
use crate::server::accounts::AccountError;
use crate::server::building_blocks::images::ImageError;
use crate::server::store::Taken;

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(invalid) => {
                ApiError::invalid_field(invalid.field, invalid.message)
            }
            AccountError::Taken(Taken::Username) => {
                ApiError::new(ErrorCode::Conflict, "That username is already taken.")
                    .on_field("username")
            }
            AccountError::Taken(Taken::Email) => ApiError::new(
                ErrorCode::Conflict,
                "An account with that e-mail already exists.",
            )
            .on_field("email"),
            AccountError::Taken(Taken::Passkey) => ApiError::new(
                ErrorCode::Conflict,
                "This passkey is already registered.",
            )
            .on_field("credential"),
            AccountError::InvalidCredentials => ApiError::new(
                ErrorCode::InvalidCredentials,
                "Incorrect username or password.",
            ),
            AccountError::Disabled => ApiError::new(
                ErrorCode::AccountDisabled,
                "This account has been disabled. Contact the administrator of this site.",
            ),
            AccountError::EmailNotVerified => ApiError::new(
                ErrorCode::EmailNotVerified,
                "Confirm your e-mail address first: we sent a link to it. Follow it, then log in.",
            ),
            AccountError::InvalidLink { expired } => ApiError::new(
                ErrorCode::InvalidLink,
                if expired {
                    "This link has expired. Ask for a new one."
                } else {
                    "This link is not valid: it was already used, replaced by a newer one, or mistyped. Ask for a new one."
                },
            )
            .on_field("token"),
            AccountError::MfaRequired { mfa_token, methods } => ApiError {
                mfa: Some(Box::new(crate::api::MfaRequired {
                    mfa_token,
                    methods: methods.into_iter().map(str::to_owned).collect(),
                })),
                ..ApiError::new(
                    ErrorCode::MfaRequired,
                    "Finish signing in with your second factor: a code from your authenticator \
                     app, a recovery code or a passkey.",
                )
            },
            AccountError::InvalidMfaToken { expired } => ApiError::new(
                ErrorCode::InvalidMfaToken,
                if expired {
                    "This sign-in took too long. Enter your password again."
                } else {
                    "This sign-in is no longer valid. Enter your password again."
                },
            )
            .on_field("mfa_token"),
            AccountError::WrongSecondFactor(field) => {
                ApiError::new(ErrorCode::InvalidCredentials, wrong_code(field)).on_field(field)
            }
            AccountError::WrongConfirmationCode(field) => {
                ApiError::new(ErrorCode::Forbidden, wrong_code(field)).on_field(field)
            }
            AccountError::SecondFactorState(message) => {
                ApiError::new(ErrorCode::Conflict, message)
            }
            AccountError::EmailChangeFrozen => ApiError::new(
                ErrorCode::Conflict,
                "Your e-mail address changed less than 7 days ago: it can change again once \
                 the link that undoes that change (sent to the old address) has expired.",
            )
            .on_field("email"),
            AccountError::MissingToken => ApiError::new(
                ErrorCode::MissingToken,
                "Sign in first: send the header Authorization: Bearer <token>.",
            ),
            AccountError::InvalidToken(reason) => invalid_token().caused_by(reason),
            AccountError::UnknownUser | AccountError::SessionEnded => invalid_token(),
            AccountError::NoSuchEntry => ApiError::new(
                ErrorCode::NotFound,
                "Your account has no activity entry with that id.",
            )
            .on_field("id"),
            AccountError::NoSuchSession => ApiError::new(
                ErrorCode::NotFound,
                "You have no session with that id (it may have ended already).",
            )
            .on_field("id"),
            AccountError::WrongPassword(field) => ApiError::new(
                ErrorCode::Forbidden,
                if field == "current_password" {
                    "Your current password is not correct."
                } else {
                    "That password is not correct."
                },
            )
            .on_field(field),
            AccountError::Throttled(wait) => {
                let seconds = wait.seconds();
                ApiError::new(
                    ErrorCode::TooManyRequests,
                    format!(
                        "Too many attempts. Wait {} and try again.",
                        human_wait(seconds)
                    ),
                )
                .retry_after(seconds)
            }
            AccountError::TooManyMails(wait) => {
                let seconds = wait.seconds();
                ApiError::new(
                    ErrorCode::TooManyRequests,
                    format!(
                        "Confirmation links go out at most once a minute and a few times a \
                         day. Wait {} before asking for another.",
                        human_wait(seconds)
                    ),
                )
                .on_field("email")
                .retry_after(seconds)
            }
            AccountError::Image(ImageError::Unsupported) => ApiError::new(
                ErrorCode::UnsupportedMediaType,
                ImageError::Unsupported.to_string(),
            )
            .on_field("image"),
            AccountError::Image(ImageError::Internal(reason)) => {
                ApiError::for_status(500).caused_by(format!("image processing failed: {reason}"))
            }
            AccountError::Image(refused) => ApiError::invalid_field("image", refused.to_string()),
            AccountError::PasskeysUnavailable(why) => ApiError::new(
                ErrorCode::NotFound,
                "Passkeys are not available on this site: its address has no domain name.",
            )
            .caused_by(why),
            AccountError::AuthenticatorLocked => ApiError::new(
                ErrorCode::Forbidden,
                "Too many wrong codes: your authenticator app is locked. Use one of your \
                 recovery codes or a passkey instead (that unlocks it).",
            )
            .on_field("code"),
            AccountError::AuthenticatorUnreadable => ApiError::new(
                ErrorCode::Forbidden,
                "Your authenticator app cannot be checked: its stored key was altered. Use one \
                 of your recovery codes or a passkey instead, then remove the app and set it up \
                 again.",
            )
            .on_field("code"),
            AccountError::PasskeyFactorUnavailable(why) => ApiError::new(
                ErrorCode::Unavailable,
                "This account's second step is a passkey, and passkeys are turned off on this \
                 site for now: the password alone cannot sign in. Use a recovery option, or ask \
                 the administrator.",
            )
            .caused_by(why),
            AccountError::InvalidCeremony { expired } => ApiError::new(
                ErrorCode::InvalidCeremony,
                if expired {
                    "This passkey request has expired. Start again."
                } else {
                    "This passkey request is not valid: it was already used or never started. Start again."
                },
            )
            .on_field("ceremony"),
            AccountError::InvalidPasskeyResponse(reason) => ApiError::invalid_field(
                "credential",
                "The passkey's answer could not be verified. Try again.",
            )
            .caused_by(reason),
            AccountError::PasskeyNotAccepted => ApiError::new(
                ErrorCode::InvalidCredentials,
                "This passkey was not accepted. Try another one, or log in with your password.",
            ),
            AccountError::NoSuchPasskey => ApiError::new(
                ErrorCode::NotFound,
                "You have no passkey with that id (it may have been removed already).",
            )
            .on_field("id"),
            AccountError::TooManyPasskeys => ApiError::new(
                ErrorCode::Conflict,
                format!(
                    "You have {} passkeys, the most an account may have. Remove one first.",
                    crate::server::accounts::MAX_PASSKEYS
                ),
            ),
            AccountError::Busy => ApiError::new(
                ErrorCode::Unavailable,
                "The server is busy right now; try again in a moment.",
            ),
            AccountError::Store(e) if e.is_unavailable() => ApiError::for_status(503).caused_by(e),
            other => ApiError::for_status(500).caused_by(other),
        }
    }
}

fn invalid_token() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidToken,
        "Your session has expired or is no longer valid; sign in again.",
    )
}

fn wrong_code(field: &str) -> &'static str {
    if field == "recovery_code" {
        "That recovery code is not right, or was already used."
    } else if field == "passkey" {
        "That passkey is not one of this account's, or it was not accepted. Try again."
    } else {
        "That code is not right, or was already used. Check the time on your device, and \
         wait for the next code."
    }
}

fn human_wait(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".into(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "a minute".into(),
        120..=5399 => format!("{} minutes", seconds.div_ceil(60)),
        _ => format!("{} hours", seconds.div_ceil(3600)),
    }
}
