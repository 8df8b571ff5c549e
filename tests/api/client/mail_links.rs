//! What mailed links lead to: the endpoints of `src/api/recovery.rs` and `email.rs`.

use super::{Answer, Client};
use keyhold::api::{
    email::{ConfirmationSent, EmailConfirmed, LinkToken},
    recovery::{
        ForgotPasswordRequest, ForgotPasswordResponse, PasswordReset, ResetPasswordRequest,
    },
};

impl Client {
    /// `POST /api/password/forgot`.
    pub async fn forgot_password(
        &self,
        request: &ForgotPasswordRequest,
    ) -> Answer<ForgotPasswordResponse> {
        self.post("/api/password/forgot", request).await
    }

    /// `POST /api/password/reset`.
    pub async fn reset_password(&self, request: &ResetPasswordRequest) -> Answer<PasswordReset> {
        self.post("/api/password/reset", request).await
    }

    /// `POST /api/email/verify`.
    pub async fn verify_email(&self, link: &LinkToken) -> Answer<EmailConfirmed> {
        self.post("/api/email/verify", link).await
    }

    /// `POST /api/email/verify/resend`.
    pub async fn resend_confirmation(&self) -> Answer<ConfirmationSent> {
        self.post_empty("/api/email/verify/resend").await
    }

    /// `POST /api/email/undo-change`.
    pub async fn undo_email_change(&self, link: &LinkToken) -> Answer<EmailConfirmed> {
        self.post("/api/email/undo-change", link).await
    }
}
