//! Signing in with a passkey alone (passwordless): the browser offers the passkeys it
//! holds for this site (discoverable credentials), the authenticator verifies the person
//! (user verification required), and the session opens exactly as a password log-in
//! opens it. Attempts are throttled per address; a passkey whose signature counter goes
//! backwards (a clone) is refused.

use super::{
    passkeys::{credential_key, internal},
    second_factor::AMR_MULTI_FACTOR,
    AccountError, Accounts, Authenticated, Challenge, Client,
};
use crate::api::security_events::ActivityKind;
use crate::server::store::StoredPasskey;
use std::net::IpAddr;
use webauthn_rs::prelude::{
    AuthenticationResult, DiscoverableAuthentication, Passkey, PublicKeyCredential, WebauthnError,
    WebauthnResult,
};

/// The purpose of a passwordless log-in ceremony.
const LOG_IN: &str = "login";

/// How a passkey authenticated (RFC 8176 `amr`): a key bound to the authenticator's
/// hardware, or one that may be copied between devices (a synced passkey).
const AMR_HARDWARE_KEY: &str = "hwk";
const AMR_SOFTWARE_KEY: &str = "swk";
/// The authenticator checked the person (user verification).
const AMR_USER_PRESENT: &str = "user";

impl Accounts {
    /// Begins a passwordless log-in: a challenge any of this site's passkeys may answer.
    pub async fn start_passkey_log_in(&self, client: IpAddr) -> Result<Challenge, AccountError> {
        let rp = self.relying_party()?;
        self.throttle
            .passkey(client)
            .await?
            .map_err(AccountError::Throttled)?;
        let (mut options, state) = rp
            .webauthn
            .start_discoverable_authentication()
            .map_err(internal)?;
        // The person pressed a button: ask now, not as a form's autofill suggestion.
        options.mediation = None;
        let state = serde_json::to_string(&state).map_err(internal)?;
        let ceremony = self.begin_ceremony(LOG_IN, (None, None), state).await?;
        let options = serde_json::to_value(&options).map_err(internal)?;
        Ok(Challenge { ceremony, options })
    }

    /// Finishes a passwordless log-in with the browser's answer (`credential.toJSON()`):
    /// the passkey's account, for [`Accounts::complete_log_in`].
    pub async fn passkey_log_in(
        &self,
        ceremony: &str,
        credential: serde_json::Value,
        client: Client<'_>,
        device_cookie: Option<&str>,
    ) -> Result<Authenticated, AccountError> {
        let result = self
            .check_passkey_log_in(ceremony, credential, client, device_cookie)
            .await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(
                AccountError::PasskeyNotAccepted
                | AccountError::InvalidCeremony { .. }
                | AccountError::InvalidPasskeyResponse(_),
            ) => "invalid",
            Err(AccountError::Throttled(_)) => "throttled",
            Err(AccountError::Disabled) => "disabled",
            Err(AccountError::EmailNotVerified) => "unverified",
            Err(_) => "error",
        };
        metrics::counter!("keyhold_passkey_logins_total", "outcome" => outcome).increment(1);
        result
    }

    async fn check_passkey_log_in(
        &self,
        ceremony: &str,
        credential: serde_json::Value,
        client: Client<'_>,
        device_cookie: Option<&str>,
    ) -> Result<Authenticated, AccountError> {
        let rp = self.relying_party()?;
        self.throttle
            .passkey(client.addr)
            .await?
            .map_err(AccountError::Throttled)?;
        let ceremony = self.take_ceremony(ceremony, LOG_IN).await?;
        let response: PublicKeyCredential = serde_json::from_value(credential)
            .map_err(|e| AccountError::InvalidPasskeyResponse(e.to_string()))?;
        let state: DiscoverableAuthentication =
            serde_json::from_str(&ceremony.state).map_err(internal)?;
        // The authenticator names the account (its handle) and the passkey it used.
        let (handle, credential_id) = rp
            .webauthn
            .identify_discoverable_authentication(&response)
            .map_err(|_| AccountError::PasskeyNotAccepted)?;
        let stored = self
            .store
            .passkey_by_credential(&credential_key(credential_id))
            .await?
            .filter(|stored| stored.user_handle == handle.to_string())
            .ok_or(AccountError::PasskeyNotAccepted)?;
        let passkey: Passkey = serde_json::from_str(&stored.credential).map_err(internal)?;
        let verdict = rp
            .webauthn
            .finish_discoverable_authentication_v2(&response, state, &passkey);
        let key = self
            .accept_assertion(&stored, passkey, verdict, client, true)
            .await?;
        let user = self
            .store
            .find(stored.user_id)
            .await?
            .ok_or(AccountError::PasskeyNotAccepted)?;
        self.throttle.passkey_succeeded(client.addr).await?;
        let known_device = device_cookie
            .and_then(|cookie| self.devices.verify(cookie, user.id, user.token_generation));
        Ok(Authenticated {
            user,
            // The key, and the person verified by the authenticator: two factors (RFC 8176).
            amr: vec![key, AMR_USER_PRESENT, AMR_MULTI_FACTOR],
            auth_time: self.clock.now(),
            known_device: known_device.is_some(),
            continuation: None,
            activity: ActivityKind::PasskeyLoginSucceeded,
        })
    }

    /// Accepts webauthn-rs's verdict on an assertion made with `stored` and records the
    /// use (new counter, last used); returns the `amr` of the key: `swk` for a passkey
    /// that may be synced between devices (backup eligible), else `hwk`. Refused: a
    /// signature that does not verify or missing user verification (recorded as a failed
    /// passkey sign-in if `record_failure`), or a counter that did not move forward (a
    /// clone, always recorded).
    pub(super) async fn accept_assertion(
        &self,
        stored: &StoredPasskey,
        mut passkey: Passkey,
        verdict: WebauthnResult<AuthenticationResult>,
        client: Client<'_>,
        record_failure: bool,
    ) -> Result<&'static str, AccountError> {
        let result = match verdict {
            Ok(result) => result,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                return Err(self.clone_suspected(stored, client).await);
            }
            Err(e) => {
                tracing::info!(user_id = stored.user_id, reason = %e, "a passkey assertion was refused");
                if record_failure {
                    let kind = ActivityKind::PasskeyLoginFailed;
                    self.record(kind, stored.user_id, client, None).await;
                }
                return Err(AccountError::PasskeyNotAccepted);
            }
        };
        passkey.update_credential(&result);
        let credential = serde_json::to_string(&passkey).map_err(internal)?;
        let counter = i64::from(result.counter());
        let now = self.clock.now();
        if !self
            .store
            .passkey_used(stored.id, &credential, counter, now)
            .await?
        {
            // Another use presented this counter (or a later one) meanwhile.
            return Err(self.clone_suspected(stored, client).await);
        }
        Ok(if result.backup_eligible() {
            AMR_SOFTWARE_KEY
        } else {
            AMR_HARDWARE_KEY
        })
    }

    async fn clone_suspected(&self, stored: &StoredPasskey, client: Client<'_>) -> AccountError {
        metrics::counter!("keyhold_passkey_clones_suspected_total").increment(1);
        tracing::warn!(
            user_id = stored.user_id,
            passkey = stored.id,
            "a passkey's signature counter went backwards; refused"
        );
        self.record(
            ActivityKind::PasskeyCloneSuspected,
            stored.user_id,
            client,
            None,
        )
        .await;
        AccountError::PasskeyNotAccepted
    }
}
