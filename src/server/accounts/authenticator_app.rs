//! Turning the authenticator app (TOTP) on and off, and the recovery codes that come
//! with it. Setting up, removing and new codes need the password (and the second factor
//! once there is one); the app is active only after it produced a valid code. Its secret
//! is stored sealed for the account (`second_factors/totp_at_rest.rs`) from the set-up
//! on, and opened only to check a code.

use super::{AccountError, Accounts, Client, Principal, SecondFactorProof};
use crate::api::security_events::ActivityKind;
use crate::server::{
    building_blocks::second_factors::{qr_code, recovery_codes, totp},
    store::TotpFactor,
};
use secrecy::{ExposeSecret, SecretString};

/// How long a set-up secret waits for its first code.
const SETUP_SECS: i64 = 15 * 60;

/// A new secret for the authenticator app, not active yet.
#[derive(Clone)]
pub struct AuthenticatorSetup {
    /// Base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://` URI the QR code carries.
    pub uri: String,
    /// The QR code, as SVG.
    pub qr_svg: String,
}

debug_without_secrets!(AuthenticatorSetup {});

/// What second factors an account has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondFactorStatus {
    pub authenticator_app: bool,
    pub recovery_codes_left: usize,
    /// Passkeys, which also serve as the second factor.
    pub passkeys: usize,
}

impl Accounts {
    pub async fn second_factor_status(
        &self,
        user_id: i64,
    ) -> Result<SecondFactorStatus, AccountError> {
        let app = self.store.totp_factor(user_id).await?;
        Ok(SecondFactorStatus {
            authenticator_app: app.is_some_and(|app| app.confirmed_at.is_some()),
            recovery_codes_left: self.store.recovery_code_hashes(user_id).await?.len(),
            passkeys: match self.relying_party {
                Ok(_) => self.store.passkeys(user_id).await?.len(),
                Err(_) => 0,
            },
        })
    }

    /// Makes a new secret for the authenticator app (replacing one not yet confirmed).
    pub async fn start_authenticator_setup(
        &self,
        principal: &Principal,
        password: &str,
        proof: SecondFactorProof<'_>,
        client: Client<'_>,
    ) -> Result<AuthenticatorSetup, AccountError> {
        let user = &principal.user;
        if self.second_factor_status(user.id).await?.authenticator_app {
            return Err(AccountError::SecondFactorState(
                "An authenticator app is already set up. Remove it first to use another.",
            ));
        }
        let session = Some(principal.session_id.as_str());
        self.confirm_identity(user, (password, "current_password"), proof, client, session)
            .await?;
        let secret = totp::new_secret();
        let uri = totp::provisioning_uri(&secret, &user.username)
            .ok_or_else(|| AccountError::Internal("cannot build the otpauth URI".into()))?;
        let qr_svg = qr_code::svg(&uri, "QR code for your authenticator app")
            .ok_or_else(|| AccountError::Internal("cannot draw the QR code".into()))?;
        let sealed = self.totp_secrets.seal(user.id, &secret);
        if !self
            .store
            .set_pending_totp(user.id, &sealed, self.clock.now())
            .await?
        {
            return Err(AccountError::SecondFactorState(
                "An authenticator app is already set up. Remove it first to use another.",
            ));
        }
        Ok(AuthenticatorSetup {
            secret,
            uri,
            qr_svg,
        })
    }

    /// Turns the app on with its first code; returns the new recovery codes (shown once).
    pub async fn activate_authenticator(
        &self,
        principal: &Principal,
        code: &str,
        client: Client<'_>,
    ) -> Result<Vec<String>, AccountError> {
        let user = &principal.user;
        let now = self.clock.now();
        let pending = self
            .store
            .totp_factor(user.id)
            .await?
            .filter(|factor| factor.confirmed_at.is_none() && now - factor.created_at < SETUP_SECS)
            .ok_or(AccountError::SecondFactorState(
                "There is no authenticator app waiting for its first code (or it waited more \
                 than 15 minutes). Start the set-up again.",
            ))?;
        self.throttle
            .second_factor(user.id)
            .await?
            .map_err(AccountError::Throttled)?;
        let secret = self.authenticator_secret(user.id, &pending).map_err(|_| {
            AccountError::SecondFactorState(
                "The authenticator app waiting for its first code cannot be checked. Start \
                     the set-up again.",
            )
        })?;
        let step = totp::matching_step(secret.expose_secret(), code, now)
            .ok_or(AccountError::WrongConfirmationCode("code"))?;
        self.throttle.second_factor_succeeded(user.id).await?;
        let codes = recovery_codes::generate();
        let hashes: Vec<String> = codes
            .iter()
            .filter_map(|c| recovery_codes::hash(c))
            .collect();
        if !self
            .store
            .activate_totp(user.id, step, now, &hashes)
            .await?
        {
            return Err(AccountError::SecondFactorState(
                "The authenticator app was already turned on.",
            ));
        }
        let session = Some(principal.session_id.as_str());
        self.record(
            ActivityKind::AuthenticatorAppAdded,
            user.id,
            client,
            session,
        )
        .await;
        Ok(codes)
    }

    /// Removes the app and the recovery codes: the password is enough to log in again.
    pub async fn remove_authenticator(
        &self,
        principal: &Principal,
        password: &str,
        proof: SecondFactorProof<'_>,
        client: Client<'_>,
    ) -> Result<(), AccountError> {
        let user = &principal.user;
        self.require_authenticator(user.id).await?;
        let session = Some(principal.session_id.as_str());
        self.confirm_identity(user, (password, "current_password"), proof, client, session)
            .await?;
        self.store.remove_totp(user.id).await?;
        self.record(
            ActivityKind::AuthenticatorAppRemoved,
            user.id,
            client,
            session,
        )
        .await;
        Ok(())
    }

    /// Replaces the recovery codes (the old ones stop working); returns the new ones.
    pub async fn regenerate_recovery_codes(
        &self,
        principal: &Principal,
        password: &str,
        proof: SecondFactorProof<'_>,
        client: Client<'_>,
    ) -> Result<Vec<String>, AccountError> {
        let user = &principal.user;
        self.require_authenticator(user.id).await?;
        let session = Some(principal.session_id.as_str());
        self.confirm_identity(user, (password, "current_password"), proof, client, session)
            .await?;
        let codes = recovery_codes::generate();
        let hashes: Vec<String> = codes
            .iter()
            .filter_map(|c| recovery_codes::hash(c))
            .collect();
        self.store
            .replace_recovery_codes(user.id, &hashes, self.clock.now())
            .await?;
        self.record(
            ActivityKind::RecoveryCodesRegenerated,
            user.id,
            client,
            session,
        )
        .await;
        Ok(codes)
    }

    /// The app's secret for account `user_id`, opened. One that does not open for this
    /// account (its row altered: another account's secret copied in; or a readable one
    /// of an earlier version that no start-up has sealed) is never used: its codes are
    /// refused (`AuthenticatorUnreadable`), and the log says so.
    pub(super) fn authenticator_secret(
        &self,
        user_id: i64,
        factor: &TotpFactor,
    ) -> Result<SecretString, AccountError> {
        let opened = match &factor.sealed_secret {
            Some(sealed) => self.totp_secrets.open(user_id, sealed).ok(),
            None => None,
        };
        opened.ok_or_else(|| {
            tracing::error!(
                user_id,
                "the authenticator app's stored secret does not open for this account (the \
                 row was altered); its codes are refused until it is set up again"
            );
            AccountError::AuthenticatorUnreadable
        })
    }

    async fn require_authenticator(&self, user_id: i64) -> Result<(), AccountError> {
        if self.second_factor_status(user_id).await?.authenticator_app {
            Ok(())
        } else {
            Err(AccountError::SecondFactorState(
                "This account has no authenticator app.",
            ))
        }
    }
}
