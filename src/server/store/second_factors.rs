//! What the store keeps for second factors: the authenticator app, recovery codes, log-ins
//! waiting for their second step, passkeys and the WebAuthn ceremonies around them.

use super::StoreError;
use async_trait::async_trait;

/// An account's authenticator app (RFC 6238), as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpFactor {
    /// The shared secret (base32), sealed for this account
    /// (`building_blocks/second_factors/totp_at_rest.rs`). `None`: the row still holds
    /// the readable secret of a version before migration 0015 (every start-up seals
    /// those, `runtime/sealed_at_rest.rs`), which is never used as it is.
    pub sealed_secret: Option<String>,
    pub created_at: i64,
    /// When a first valid code activated it (`None`: set up, not active yet).
    pub confirmed_at: Option<i64>,
    /// The last time step a code was accepted for (no step is accepted twice).
    pub last_step: i64,
    /// Wrong codes in a row since a second factor was last proven.
    pub failed_codes: i64,
}

debug_without_secrets!(TotpFactor {
    created_at,
    confirmed_at,
    last_step
});

/// A password check waiting for its second factor (the `mfa_token`), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    /// SHA-256 (hex) of the token.
    pub token_hash: String,
    pub user_id: i64,
    /// The client address the password came from; the second factor must come from it.
    pub address: String,
    /// SHA-256 of the password hash that was checked: a password change voids it.
    pub binding: String,
    /// Whether the browser proved a device cookie of this account with the password.
    pub known_device: bool,
    /// Wrong second factors so far.
    pub failures: i64,
    pub created_at: i64,
    pub expires_at: i64,
    /// What the log-in is for (e.g. the page to go back to), for the second step.
    pub continuation: Option<String>,
}

/// A passkey (WebAuthn credential) of an account, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey {
    pub id: i64,
    pub user_id: i64,
    /// What the owner calls it ("Laptop", "Phone").
    pub name: String,
    /// The credential id, base64url: unique, how a passwordless log-in finds it.
    pub credential_id: String,
    /// The random id the authenticator keeps for the account.
    pub user_handle: String,
    /// webauthn-rs's `Passkey` as JSON: public key, signature counter, flags.
    pub credential: String,
    /// The signature counter in `credential` (0: the authenticator keeps none).
    pub sign_count: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A passkey about to be stored.
#[derive(Debug, Clone, Copy)]
pub struct NewPasskey<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub credential_id: &'a str,
    pub user_handle: &'a str,
    pub credential: &'a str,
    pub sign_count: i64,
    pub created_at: i64,
}

/// A WebAuthn ceremony under way: the challenge's state, kept on the server.
#[derive(Clone, PartialEq, Eq)]
pub struct Ceremony {
    /// What it is for (`register`, `login`, …): a ceremony is finished only as such.
    pub purpose: &'static str,
    /// The account it belongs to (none: a passwordless log-in, where the passkey says).
    pub user_id: Option<i64>,
    /// The step it answers for (`session:<id>`, `mfa:<token hash>`; none for a
    /// passwordless log-in): a new ceremony for the same purpose and step replaces it.
    pub step: Option<String>,
    /// webauthn-rs's registration or authentication state, as JSON.
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
}

debug_without_secrets!(Ceremony {
    purpose,
    user_id,
    expires_at
});

/// Second factors: the authenticator app, recovery codes, and log-ins waiting for one.
#[async_trait]
pub trait SecondFactorStore: Send + Sync {
    async fn totp_factor(&self, user_id: i64) -> Result<Option<TotpFactor>, StoreError>;
    /// Stores a new, not yet active secret (sealed) unless an active one exists (`false`
    /// then).
    async fn set_pending_totp(
        &self,
        user_id: i64,
        sealed_secret: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Activates the pending secret, accepting `step`, and replaces the recovery codes
    /// with `recovery_hashes`, in one transaction; `false` if it is not pending any more.
    async fn activate_totp(
        &self,
        user_id: i64,
        step: i64,
        now: i64,
        recovery_hashes: &[String],
    ) -> Result<bool, StoreError>;
    /// Accepts `step` for the active secret if no later or equal step was accepted:
    /// of two requests with one code, one wins.
    async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StoreError>;
    /// Removes the authenticator app and the recovery codes.
    async fn remove_totp(&self, user_id: i64) -> Result<(), StoreError>;
    /// Counts a wrong code for the active app of `user_id`: the wrong codes in a row now
    /// (0: no active app).
    async fn totp_code_failed(&self, user_id: i64) -> Result<i64, StoreError>;
    /// Forgets the app's wrong codes (a second factor was proven; a right code of the
    /// app itself does so in `accept_totp_step`).
    async fn clear_totp_failures(&self, user_id: i64) -> Result<(), StoreError>;
    /// The hashes of the account's unused recovery codes.
    async fn recovery_code_hashes(&self, user_id: i64) -> Result<Vec<String>, StoreError>;
    /// Marks the code used if it still is unused; whether this call did.
    async fn use_recovery_code(
        &self,
        user_id: i64,
        hash: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    async fn replace_recovery_codes(
        &self,
        user_id: i64,
        hashes: &[String],
        now: i64,
    ) -> Result<(), StoreError>;
    /// Stores a challenge (and removes expired ones).
    async fn create_mfa_challenge(&self, challenge: &MfaChallenge) -> Result<(), StoreError>;
    async fn mfa_challenge(&self, token_hash: &str) -> Result<Option<MfaChallenge>, StoreError>;
    /// Counts a wrong second factor; the failures so far.
    async fn mfa_challenge_failed(&self, token_hash: &str) -> Result<i64, StoreError>;
    /// Deletes the challenge and returns it: of two requests using it, one gets it.
    async fn take_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> Result<Option<MfaChallenge>, StoreError>;
}

/// Passkeys and the WebAuthn ceremonies that register and use them.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// The account's passkeys, oldest first.
    async fn passkeys(&self, user_id: i64) -> Result<Vec<StoredPasskey>, StoreError>;
    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<StoredPasskey>, StoreError>;
    /// Stores a new passkey (`Conflict(Passkey)` if its credential id is registered
    /// already, `Missing` if the account went away).
    async fn add_passkey(&self, passkey: NewPasskey<'_>) -> Result<StoredPasskey, StoreError>;
    /// Renames the account's passkey `id`; `None` when it has no such passkey.
    async fn rename_passkey(
        &self,
        user_id: i64,
        id: i64,
        name: &str,
    ) -> Result<Option<StoredPasskey>, StoreError>;
    /// Removes every passkey of the account; how many there were.
    async fn remove_passkeys(&self, user_id: i64) -> Result<u64, StoreError>;
    /// Removes the account's passkey `id`, returning it; `None` when there is none.
    async fn remove_passkey(
        &self,
        user_id: i64,
        id: i64,
    ) -> Result<Option<StoredPasskey>, StoreError>;
    /// Records a use of passkey `id`: its updated credential, counter and time, only if
    /// the stored counter is still below `sign_count` (or both are 0, an authenticator
    /// without a counter). `false`: another use with this counter or a later one came
    /// first.
    async fn passkey_used(
        &self,
        id: i64,
        credential: &str,
        sign_count: i64,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Keeps a ceremony's state under `id_hash`, dropping the expired ones and the one
    /// before it for the same purpose and step.
    async fn begin_ceremony(&self, id_hash: &str, ceremony: &Ceremony) -> Result<(), StoreError>;
    /// Deletes and returns the ceremony `id_hash` of `purpose`: of two requests
    /// finishing it, one gets it. An expired one is returned too (the caller says so).
    async fn take_ceremony(
        &self,
        id_hash: &str,
        purpose: &'static str,
    ) -> Result<Option<Ceremony>, StoreError>;
}
