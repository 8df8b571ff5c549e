//! The request bodies the tests send, built from the crate's own request types: short
//! names for the common ones; a second factor is added with struct update syntax,
//! `ChangePasswordRequest { second_factor: code(&now), ..password_change(old, new) }`.

use keyhold::api::{
    account::{DeleteAccountRequest, UpdateProfileRequest},
    activity::ListActivity,
    auth::{LoginMfaRequest, RegisterRequest},
    email::LinkToken,
    proofs::{ConfirmedRequest, PasskeyAssertion, SecondFactorFields},
    recovery::{ForgotPasswordRequest, ResetPasswordRequest},
    users::ChangePasswordRequest,
};

/// A sign-up.
pub fn registration(username: &str, email: &str, password: &str) -> RegisterRequest {
    RegisterRequest {
        username: username.into(),
        email: email.into(),
        password: password.into(),
    }
}

/// The second step of a log-in: its `mfa_token` and the second factor.
pub fn second_step(mfa_token: &str, second_factor: SecondFactorFields) -> LoginMfaRequest {
    LoginMfaRequest {
        mfa_token: mfa_token.into(),
        second_factor,
    }
}

/// A code from the authenticator app.
pub fn code(code: &str) -> SecondFactorFields {
    SecondFactorFields {
        code: Some(code.into()),
        ..Default::default()
    }
}

/// One of the recovery codes.
pub fn recovery_code(code: &str) -> SecondFactorFields {
    SecondFactorFields {
        recovery_code: Some(code.into()),
        ..Default::default()
    }
}

/// A passkey's answer to a ceremony begun for this step.
pub fn passkey(ceremony: &str, credential: serde_json::Value) -> SecondFactorFields {
    SecondFactorFields {
        passkey: Some(PasskeyAssertion {
            ceremony: ceremony.into(),
            credential,
        }),
        ..Default::default()
    }
}

/// A change of the second factors, confirmed with the password alone.
pub fn confirmed(password: &str) -> ConfirmedRequest {
    ConfirmedRequest {
        current_password: password.into(),
        second_factor: SecondFactorFields::default(),
    }
}

/// A password change, without a second factor.
pub fn password_change(current: &str, new: &str) -> ChangePasswordRequest {
    ChangePasswordRequest {
        current_password: current.into(),
        new_password: new.into(),
        second_factor: SecondFactorFields::default(),
    }
}

/// A new username, confirmed with `password` if given.
pub fn new_username(username: &str, password: Option<&str>) -> UpdateProfileRequest {
    UpdateProfileRequest {
        username: Some(username.into()),
        current_password: password.map(Into::into),
        ..Default::default()
    }
}

/// A new e-mail address, confirmed with `password` if given.
pub fn new_email(email: &str, password: Option<&str>) -> UpdateProfileRequest {
    UpdateProfileRequest {
        email: Some(email.into()),
        current_password: password.map(Into::into),
        ..Default::default()
    }
}

/// Deleting the account: the password and the username typed again.
pub fn deletion(password: &str, confirm: &str) -> DeleteAccountRequest {
    DeleteAccountRequest {
        password: password.into(),
        confirm: confirm.into(),
        second_factor: SecondFactorFields::default(),
    }
}

/// "Forgot password" for `email`.
pub fn forgotten(email: &str) -> ForgotPasswordRequest {
    ForgotPasswordRequest {
        email: email.into(),
    }
}

/// A new password set with the mailed link's `token`.
pub fn reset(token: &str, password: &str) -> ResetPasswordRequest {
    ResetPasswordRequest {
        token: token.into(),
        password: password.into(),
    }
}

/// The token of a mailed link (confirm an address, undo a change).
pub fn link(token: &str) -> LinkToken {
    LinkToken {
        token: token.into(),
    }
}

/// The newest page of the activity log, `limit` entries (none: the default, 20).
pub fn newest(limit: Option<i64>) -> ListActivity {
    ListActivity {
        before: None,
        limit,
    }
}
