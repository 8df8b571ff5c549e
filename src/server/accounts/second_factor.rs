//! Second factors at log-in and for sensitive changes: which factors an account has,
//! checking a code or a recovery code (throttled per account like passwords), the
//! log-in that waits for its second factor (`mfa_token`: single use, 5 minutes, bound
//! to the address and the password hash it checked, dead after 5 wrong codes), and
//! confirming a change with the password and, when enrolled, the second factor. The
//! authenticator app locks after `TOTP_FAILURE_CAP` wrong codes in a row, however slow;
//! a recovery code or a passkey still signs in, and unlocks it.

use super::{
    links::{new_secret, secret_hash},
    AccountError, Accounts, Authenticated, Client, LogInStep,
};
use crate::api::security_events::ActivityKind;
use crate::server::{
    building_blocks::{
        digest::sha256_hex,
        second_factors::{recovery_codes, totp},
        validation::{lookup_key, Invalid},
    },
    mail::messages,
    store::{Credentials, MfaChallenge, User},
};
use secrecy::ExposeSecret;

/// How long an `mfa_token` lives.
pub const MFA_TOKEN_SECS: i64 = 5 * 60;
/// Wrong second factors an `mfa_token` survives.
pub const MFA_MAX_FAILURES: i64 = 5;

/// A second factor presented at log-in or to confirm a change: a code from the
/// authenticator app, a recovery code, or a passkey's answer to a ceremony begun for
/// this step (`passkey_second_factor.rs`).
#[derive(Clone, Copy, Default)]
pub struct SecondFactorProof<'a> {
    pub code: Option<&'a str>,
    pub recovery_code: Option<&'a str>,
    pub passkey: Option<PasskeyProof<'a>>,
}

/// A passkey's assertion: the ceremony it answers and `credential.toJSON()`.
#[derive(Clone, Copy)]
pub struct PasskeyProof<'a> {
    pub ceremony: &'a str,
    pub credential: &'a serde_json::Value,
}

impl std::fmt::Debug for SecondFactorProof<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecondFactorProof")
            .field("code", &self.code.map(|_| "…"))
            .field("recovery_code", &self.recovery_code.map(|_| "…"))
            .field("passkey", &self.passkey.map(|_| "…"))
            .finish()
    }
}

/// Where a second factor is checked: the second step of a log-in (its `mfa_token`'s
/// hash), or a change confirmed from a session. A passkey ceremony is begun for one of
/// them and answers only there.
#[derive(Debug, Clone, Copy)]
pub(super) enum FactorStep<'a> {
    LogIn { mfa_token_hash: &'a str },
    Change { session_id: Option<&'a str> },
}

impl<'a> FactorStep<'a> {
    fn session_id(self) -> Option<&'a str> {
        match self {
            Self::LogIn { .. } => None,
            Self::Change { session_id } => session_id,
        }
    }
}

/// How a session was authenticated (RFC 8176 `amr` values).
pub(super) const AMR_PASSWORD: &str = "pwd";
const AMR_ONE_TIME_CODE: &str = "otp";
pub(super) const AMR_MULTI_FACTOR: &str = "mfa";

/// Wrong authenticator codes in a row after which the app is locked (NIST SP 800-63B
/// §5.2.2: at most 100 consecutive failures), however slowly they come: the per-account
/// backoff alone forgets after an hour of quiet.
pub const TOTP_FAILURE_CAP: i64 = 100;

impl Accounts {
    /// The second-factor methods account `user_id` can use (empty: none enrolled): the
    /// authenticator app and its recovery codes, and `webauthn` for an account with a
    /// passkey (on a site that has passkeys). Passkeys turned off (a public URL with no
    /// domain) never turn an account's factor off: with no other factor, it is
    /// `PasskeyFactorUnavailable`, and the password alone goes nowhere.
    pub(super) async fn second_factor_methods(
        &self,
        user_id: i64,
    ) -> Result<Vec<&'static str>, AccountError> {
        let mut methods = Vec::new();
        let totp = self.store.totp_factor(user_id).await?;
        if totp.is_some_and(|factor| factor.confirmed_at.is_some()) {
            methods.push("totp");
        }
        if !self.store.passkeys(user_id).await?.is_empty() {
            match &self.relying_party {
                Ok(_) => methods.push("webauthn"),
                Err(why) if methods.is_empty() => {
                    return Err(AccountError::PasskeyFactorUnavailable(why.clone()));
                }
                Err(_) => {}
            }
        }
        if methods.contains(&"totp") && !self.store.recovery_code_hashes(user_id).await?.is_empty()
        {
            methods.push("recovery_code");
        }
        Ok(methods)
    }

    /// Checks `proof` for `user` (throttled per account): the `amr` value it proves
    /// (`otp`; `hwk` or `swk` for a passkey). `Err(WrongSecondFactor(field))` when it is
    /// wrong; 422 on `code` when there is none.
    async fn check_second_factor(
        &self,
        user: &User,
        proof: SecondFactorProof<'_>,
        client: Client<'_>,
        step: FactorStep<'_>,
    ) -> Result<&'static str, AccountError> {
        if let Some(passkey) = proof.passkey {
            self.throttle
                .second_factor(user.id)
                .await?
                .map_err(AccountError::Throttled)?;
            let amr = self
                .check_passkey_proof(user, passkey, step, client)
                .await?;
            self.throttle.second_factor_succeeded(user.id).await?;
            self.store.clear_totp_failures(user.id).await?;
            return Ok(amr);
        }
        let session_id = step.session_id();
        let code = proof.code.filter(|code| !code.trim().is_empty());
        let recovery = proof.recovery_code.filter(|code| !code.trim().is_empty());
        if code.is_none() && recovery.is_none() {
            return Err(Invalid {
                field: "code",
                message: "Enter the 6-digit code from your authenticator app, or one of your \
                          recovery codes, or confirm with a passkey."
                    .into(),
            }
            .into());
        }
        self.throttle
            .second_factor(user.id)
            .await?
            .map_err(AccountError::Throttled)?;
        let accepted = match (code, recovery) {
            (Some(code), _) => self.accept_code(user, code).await?,
            (None, Some(recovery)) => {
                let used = self.use_recovery_code(user.id, recovery).await?;
                if used {
                    self.record(ActivityKind::RecoveryCodeUsed, user.id, client, session_id)
                        .await;
                }
                used
            }
            (None, None) => false,
        };
        if !accepted {
            return Err(AccountError::WrongSecondFactor(if code.is_some() {
                "code"
            } else {
                "recovery_code"
            }));
        }
        self.throttle.second_factor_succeeded(user.id).await?;
        if recovery.is_some() {
            self.store.clear_totp_failures(user.id).await?;
        }
        Ok(AMR_ONE_TIME_CODE)
    }

    /// Whether `code` is the authenticator app's code for now (±1 step) and its step
    /// was not used before (it is used now). A wrong code counts towards the lock;
    /// a locked app accepts none (`AuthenticatorLocked`), and its owner is told by mail
    /// when it locks; an app whose secret does not open accepts none either
    /// (`AuthenticatorUnreadable`, counted as no wrong code).
    async fn accept_code(&self, user: &User, code: &str) -> Result<bool, AccountError> {
        let Some(factor) = self.store.totp_factor(user.id).await? else {
            return Ok(false);
        };
        if factor.confirmed_at.is_none() {
            return Ok(false);
        }
        if factor.failed_codes >= TOTP_FAILURE_CAP {
            return Err(AccountError::AuthenticatorLocked);
        }
        let secret = self.authenticator_secret(user.id, &factor)?;
        let accepted = match totp::matching_step(secret.expose_secret(), code, self.clock.now()) {
            Some(step) => {
                step > factor.last_step && self.store.accept_totp_step(user.id, step).await?
            }
            None => false,
        };
        if !accepted {
            let failures = self.store.totp_code_failed(user.id).await?;
            if failures == TOTP_FAILURE_CAP {
                tracing::warn!(
                    user_id = user.id,
                    "authenticator app locked: too many wrong codes"
                );
                let login = format!("{}/login", self.mailer.public_url);
                self.send(
                    &user.email,
                    messages::authenticator_locked(&login, failures),
                )
                .await?;
            }
        }
        Ok(accepted)
    }

    /// Whether `typed` is one of the account's unused recovery codes (it is used now).
    async fn use_recovery_code(&self, user_id: i64, typed: &str) -> Result<bool, AccountError> {
        let Some(candidate) = recovery_codes::hash(typed) else {
            return Ok(false);
        };
        let stored = self.store.recovery_code_hashes(user_id).await?;
        let Some(hash) = recovery_codes::find(&stored, &candidate) else {
            return Ok(false);
        };
        Ok(self
            .store
            .use_recovery_code(user_id, hash, self.clock.now())
            .await?)
    }

    /// Checks the password re-entered to confirm a sensitive change and, when the account
    /// has a second factor, the second factor too. Returns the password hash it matched.
    pub(super) async fn confirm_identity(
        &self,
        user: &User,
        (password, field): (&str, &'static str),
        proof: SecondFactorProof<'_>,
        client: Client<'_>,
        session_id: Option<&str>,
    ) -> Result<String, AccountError> {
        let hash = self
            .confirm_password(user, password, field, client.addr)
            .await?;
        if !self.second_factor_methods(user.id).await?.is_empty() {
            self.check_second_factor(user, proof, client, FactorStep::Change { session_id })
                .await
                .map_err(|e| match e {
                    AccountError::WrongSecondFactor(field) => {
                        AccountError::WrongConfirmationCode(field)
                    }
                    other => other,
                })?;
        }
        Ok(hash)
    }

    /// After the right password for an account with a second factor: the log-in waits
    /// for it. Nothing is signed in yet; the answer carries the `mfa_token`.
    pub(super) async fn require_second_factor(
        &self,
        found: &Credentials,
        methods: Vec<&'static str>,
        client: Client<'_>,
        known_device: bool,
        continuation: Option<&str>,
    ) -> Result<LogInStep, AccountError> {
        let now = self.clock.now();
        let (token, token_hash) = new_secret();
        let challenge = MfaChallenge {
            token_hash,
            user_id: found.user.id,
            address: client.addr.to_string(),
            binding: sha256_hex(&found.password_hash),
            known_device,
            failures: 0,
            created_at: now,
            expires_at: now + MFA_TOKEN_SECS,
            continuation: continuation.map(str::to_owned),
        };
        self.store.create_mfa_challenge(&challenge).await?;
        Ok(LogInStep::SecondFactorRequired {
            mfa_token: token,
            methods,
        })
    }

    /// The second step of a log-in: the `mfa_token` from the first and a second factor.
    /// The person, as a log-in without a second factor gives it, with the continuation
    /// the first step recorded.
    pub async fn login_second_factor(
        &self,
        mfa_token: &str,
        proof: SecondFactorProof<'_>,
        client: Client<'_>,
    ) -> Result<Authenticated, AccountError> {
        let result = self
            .check_login_second_factor(mfa_token, proof, client)
            .await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(AccountError::WrongSecondFactor(_) | AccountError::InvalidMfaToken { .. }) => {
                "invalid"
            }
            Err(AccountError::Throttled(_)) => "throttled",
            Err(AccountError::Invalid(_)) => "incomplete",
            Err(_) => "error",
        };
        metrics::counter!("keyhold_second_factor_logins_total", "outcome" => outcome).increment(1);
        result
    }

    async fn check_login_second_factor(
        &self,
        mfa_token: &str,
        proof: SecondFactorProof<'_>,
        client: Client<'_>,
    ) -> Result<Authenticated, AccountError> {
        let (token_hash, challenge, found) = self.live_mfa_challenge(mfa_token, client).await?;
        let user = &found.user;
        if user.disabled_at.is_some() {
            return Err(AccountError::Disabled);
        }
        let step = FactorStep::LogIn {
            mfa_token_hash: &token_hash,
        };
        let amr = match self.check_second_factor(user, proof, client, step).await {
            Ok(amr) => amr,
            Err(AccountError::WrongSecondFactor(field)) => {
                self.record(ActivityKind::SecondFactorFailed, user.id, client, None)
                    .await;
                if self.store.mfa_challenge_failed(&token_hash).await? >= MFA_MAX_FAILURES {
                    self.store.take_mfa_challenge(&token_hash).await?;
                }
                return Err(AccountError::WrongSecondFactor(field));
            }
            Err(other) => return Err(other),
        };
        // Single use: of two requests with one token, one signs in.
        if self.store.take_mfa_challenge(&token_hash).await?.is_none() {
            return Err(AccountError::InvalidMfaToken { expired: false });
        }
        Ok(Authenticated {
            user: found.user,
            amr: vec![AMR_PASSWORD, amr, AMR_MULTI_FACTOR],
            auth_time: self.clock.now(),
            known_device: challenge.known_device,
            continuation: challenge.continuation,
            activity: ActivityKind::LoginSucceeded,
        })
    }

    /// The log-in waiting for its second factor behind `mfa_token`, if it is live and
    /// bound to this address and to the account's current password: its hash, the
    /// challenge and the account.
    pub(super) async fn live_mfa_challenge(
        &self,
        mfa_token: &str,
        client: Client<'_>,
    ) -> Result<(String, MfaChallenge, Credentials), AccountError> {
        let invalid = AccountError::InvalidMfaToken { expired: false };
        let token_hash = secret_hash(mfa_token.trim()).ok_or(invalid)?;
        let challenge = self
            .store
            .mfa_challenge(&token_hash)
            .await?
            .ok_or(AccountError::InvalidMfaToken { expired: false })?;
        if challenge.expires_at <= self.clock.now() {
            self.store.take_mfa_challenge(&token_hash).await?;
            return Err(AccountError::InvalidMfaToken { expired: true });
        }
        // Bound to where the password came from and to the password it checked.
        let user = self.store.find(challenge.user_id).await?;
        let found = match &user {
            Some(user) => self.store.credentials(&lookup_key(&user.username)).await?,
            None => None,
        };
        let bound = found.as_ref().is_some_and(|found| {
            found.user.id == challenge.user_id
                && sha256_hex(&found.password_hash) == challenge.binding
        });
        let Some(found) = found.filter(|_| bound && challenge.address == client.addr.to_string())
        else {
            return Err(AccountError::InvalidMfaToken { expired: false });
        };
        Ok((token_hash, challenge, found))
    }
}
