//! The authenticator app and recovery codes: the endpoints of `src/api/second_factors.rs`.

use super::{Answer, Client};
use keyhold::api::{
    proofs::{ConfirmedRequest, SecondFactorsView},
    second_factors::{ActivateRequest, AuthenticatorSetupView, RecoveryCodesView},
};

impl Client {
    /// `GET /api/users/me/second-factors`.
    pub async fn second_factors(&self) -> Answer<SecondFactorsView> {
        self.get("/api/users/me/second-factors").await
    }

    /// `POST /api/users/me/authenticator/setup`.
    pub async fn authenticator_setup(
        &self,
        request: &ConfirmedRequest,
    ) -> Answer<AuthenticatorSetupView> {
        self.post("/api/users/me/authenticator/setup", request)
            .await
    }

    /// `POST /api/users/me/authenticator/activate` with the app's `code`.
    pub async fn authenticator_activate(&self, code: &str) -> Answer<RecoveryCodesView> {
        let request = ActivateRequest { code: code.into() };
        self.post("/api/users/me/authenticator/activate", &request)
            .await
    }

    /// `POST /api/users/me/authenticator/remove`.
    pub async fn authenticator_remove(
        &self,
        request: &ConfirmedRequest,
    ) -> Answer<SecondFactorsView> {
        self.post("/api/users/me/authenticator/remove", request)
            .await
    }

    /// `POST /api/users/me/recovery-codes`: new codes, the old ones void.
    pub async fn new_recovery_codes(
        &self,
        request: &ConfirmedRequest,
    ) -> Answer<RecoveryCodesView> {
        self.post("/api/users/me/recovery-codes", request).await
    }
}
