//! Passkeys: the endpoints of `src/api/passkeys.rs` and `passkey_log_in.rs`.

use super::{Answer, Client};
use keyhold::api::{
    passkey_log_in::PasskeySecondFactorRequest,
    passkeys::{
        PasskeyRemoved, PasskeyView, RegisterPasskeyRequest, RemovePasskeyRequest,
        RenamePasskeyRequest,
    },
    proofs::{ConfirmedRequest, PasskeyAssertion, PasskeyChallenge},
    TokenResponse,
};

impl Client {
    /// `GET /api/users/me/passkeys`.
    pub async fn passkeys(&self) -> Answer<Vec<PasskeyView>> {
        self.get("/api/users/me/passkeys").await
    }

    /// `POST /api/users/me/passkeys/register/start`.
    pub async fn start_passkey_registration(
        &self,
        request: &ConfirmedRequest,
    ) -> Answer<PasskeyChallenge> {
        self.post("/api/users/me/passkeys/register/start", request)
            .await
    }

    /// `POST /api/users/me/passkeys/register/finish`.
    pub async fn finish_passkey_registration(
        &self,
        request: &RegisterPasskeyRequest,
    ) -> Answer<PasskeyView> {
        self.post("/api/users/me/passkeys/register/finish", request)
            .await
    }

    /// `POST /api/users/me/passkeys/rename`.
    pub async fn rename_passkey(&self, request: &RenamePasskeyRequest) -> Answer<PasskeyView> {
        self.post("/api/users/me/passkeys/rename", request).await
    }

    /// `POST /api/users/me/passkeys/remove`.
    pub async fn remove_passkey(&self, request: &RemovePasskeyRequest) -> Answer<PasskeyRemoved> {
        self.post("/api/users/me/passkeys/remove", request).await
    }

    /// `POST /api/users/me/passkeys/confirm`: a ceremony to confirm a change with a passkey.
    pub async fn start_passkey_confirmation(&self) -> Answer<PasskeyChallenge> {
        self.post_empty("/api/users/me/passkeys/confirm").await
    }

    /// `POST /api/login/passkey/start`.
    pub async fn start_passkey_log_in(&self) -> Answer<PasskeyChallenge> {
        self.post_empty("/api/login/passkey/start").await
    }

    /// `POST /api/login/passkey/finish`.
    pub async fn finish_passkey_log_in(&self, answer: &PasskeyAssertion) -> Answer<TokenResponse> {
        self.post("/api/login/passkey/finish", answer).await
    }

    /// `POST /api/login/mfa/passkey`: the passkey step of the log-in behind `mfa_token`.
    pub async fn start_passkey_second_factor(&self, mfa_token: &str) -> Answer<PasskeyChallenge> {
        let request = PasskeySecondFactorRequest {
            mfa_token: mfa_token.into(),
        };
        self.post("/api/login/mfa/passkey", &request).await
    }
}
