//! Passkeys (WebAuthn): registering one for the signed-in account (user verification
//! required; discoverable, so it can later sign in alone), listing, renaming and
//! removing them; and the ceremonies' state, kept on the server: random id, stored
//! hashed, single use, five minutes, one per step (a new one replaces it). Signing in
//! with one is in `passkey_log_in.rs`.

use super::{
    links::{new_secret, secret_hash},
    AccountError, Accounts, Client, Principal, SecondFactorProof,
};
use crate::api::security_events::ActivityKind;
use crate::server::{
    building_blocks::{
        relying_party::{RelyingParty, CEREMONY_TTL},
        validation::Invalid,
    },
    store::{Ceremony, NewPasskey, StoredPasskey},
    throttle::Action,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{Passkey, PasskeyRegistration, RegisterPublicKeyCredential, Uuid};
use webauthn_rs_proto::ResidentKeyRequirement;

/// Passkeys one account may hold.
pub const MAX_PASSKEYS: usize = 20;
/// Longest passkey name, in characters.
const MAX_NAME_CHARS: usize = 64;
/// The purpose of a registration ceremony.
const REGISTER: &str = "register";

/// A ceremony begun: its id for the browser and the options for
/// `navigator.credentials.create` / `.get` (`{"publicKey": …}`).
#[derive(Debug, Clone)]
pub struct Challenge {
    pub ceremony: String,
    pub options: serde_json::Value,
}

/// What a registration ceremony keeps: the random handle the authenticator stores for
/// the account, and webauthn-rs's state.
#[derive(Serialize, Deserialize)]
struct Registration {
    handle: Uuid,
    state: PasskeyRegistration,
}

/// The stored form of a credential id: unpadded base64url.
pub(super) fn credential_key(credential_id: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(credential_id)
}

/// A failure inside the server (serialising our own state), never the client's fault.
pub(super) fn internal(e: impl std::fmt::Display) -> AccountError {
    AccountError::Internal(format!("passkey state: {e}"))
}

/// A passkey's name as typed: trimmed, 1–64 characters, no control characters.
fn passkey_name(name: &str) -> Result<String, AccountError> {
    let name = name.trim();
    let refuse = |message: &str| {
        Err(AccountError::Invalid(Invalid {
            field: "name",
            message: message.to_owned(),
        }))
    };
    if name.is_empty() {
        return refuse("Give the passkey a name, such as \"Laptop\" or \"Phone\".");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return refuse("A passkey name has at most 64 characters.");
    }
    if name.chars().any(char::is_control) {
        return refuse("A passkey name cannot contain control characters.");
    }
    Ok(name.to_owned())
}

impl Accounts {
    /// The relying party, or why passkeys are off on this site.
    pub(super) fn relying_party(&self) -> Result<&RelyingParty, AccountError> {
        self.relying_party
            .as_ref()
            .map_err(|why| AccountError::PasskeysUnavailable(why.clone()))
    }

    /// The account's passkeys, oldest first.
    pub async fn passkeys(
        &self,
        principal: &Principal,
    ) -> Result<Vec<StoredPasskey>, AccountError> {
        self.relying_party()?;
        Ok(self.store.passkeys(principal.user.id).await?)
    }

    /// Begins registering a passkey for the signed-in account, confirmed with the
    /// password (and the second factor once there is one): a passkey is a second factor.
    /// The account's passkeys are excluded (an authenticator holding one says so instead
    /// of making another). Spends the account's ceremony budget once the identity is
    /// confirmed.
    pub async fn start_passkey_registration(
        &self,
        principal: &Principal,
        (password, proof): (&str, SecondFactorProof<'_>),
        client: Client<'_>,
    ) -> Result<Challenge, AccountError> {
        let rp = self.relying_party()?;
        let user = &principal.user;
        if self.store.passkeys(user.id).await?.len() >= MAX_PASSKEYS {
            return Err(AccountError::TooManyPasskeys);
        }
        let session = Some(principal.session_id.as_str());
        self.confirm_identity(user, (password, "current_password"), proof, client, session)
            .await?;
        // Only once the password is confirmed: an access token alone (stolen) cannot
        // spend the owner's budget. Wrong passwords have their own (`confirm_password`).
        self.spend(Action::PasskeyCeremony { user_id: user.id }, client.addr)
            .await?;
        let existing = self.store.passkeys(user.id).await?;
        // One handle per account, so an authenticator replaces its passkey for this
        // account instead of keeping two.
        let handle = existing
            .iter()
            .find_map(|passkey| Uuid::parse_str(&passkey.user_handle).ok())
            .unwrap_or_else(Uuid::new_v4);
        let exclude = existing
            .iter()
            .map(|stored| serde_json::from_str::<Passkey>(&stored.credential))
            .map(|passkey| passkey.map(|passkey| passkey.cred_id().clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(internal)?;
        let (mut options, state) = rp
            .webauthn
            .start_passkey_registration(handle, &user.username, &user.username, Some(exclude))
            .map_err(internal)?;
        // Discoverable: the passkey names its account itself, so it signs in alone.
        if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
            selection.require_resident_key = true;
            selection.resident_key = Some(ResidentKeyRequirement::Required);
        }
        let state = serde_json::to_string(&Registration { handle, state }).map_err(internal)?;
        let step = Some(format!("session:{}", principal.session_id));
        let ceremony = self
            .begin_ceremony(REGISTER, (Some(user.id), step), state)
            .await?;
        let options = serde_json::to_value(&options).map_err(internal)?;
        Ok(Challenge { ceremony, options })
    }

    /// Finishes a registration with the browser's answer (`credential.toJSON()`) and
    /// stores the passkey under `name`.
    pub async fn finish_passkey_registration(
        &self,
        principal: &Principal,
        ceremony: &str,
        name: &str,
        credential: serde_json::Value,
        client: Client<'_>,
    ) -> Result<StoredPasskey, AccountError> {
        let rp = self.relying_party()?;
        let user = &principal.user;
        let name = passkey_name(name)?;
        let ceremony = self.take_ceremony(ceremony, REGISTER).await?;
        if ceremony.user_id != Some(user.id) {
            return Err(AccountError::InvalidCeremony { expired: false });
        }
        let response: RegisterPublicKeyCredential = serde_json::from_value(credential)
            .map_err(|e| AccountError::InvalidPasskeyResponse(e.to_string()))?;
        let Registration { handle, state } =
            serde_json::from_str(&ceremony.state).map_err(internal)?;
        let passkey = rp
            .webauthn
            .finish_passkey_registration(&response, &state)
            .map_err(|e| AccountError::InvalidPasskeyResponse(e.to_string()))?;
        if self.store.passkeys(user.id).await?.len() >= MAX_PASSKEYS {
            return Err(AccountError::TooManyPasskeys);
        }
        let credential = serde_json::to_string(&passkey).map_err(internal)?;
        let stored = self
            .store
            .add_passkey(NewPasskey {
                user_id: user.id,
                name: &name,
                credential_id: &credential_key(passkey.cred_id()),
                user_handle: &handle.to_string(),
                credential: &credential,
                sign_count: 0,
                created_at: self.clock.now(),
            })
            .await?;
        let session = Some(principal.session_id.as_str());
        self.record(ActivityKind::PasskeyAdded, user.id, client, session)
            .await;
        Ok(stored)
    }

    /// Renames one of the account's passkeys.
    pub async fn rename_passkey(
        &self,
        principal: &Principal,
        id: i64,
        name: &str,
    ) -> Result<StoredPasskey, AccountError> {
        self.relying_party()?;
        let name = passkey_name(name)?;
        self.store
            .rename_passkey(principal.user.id, id, &name)
            .await?
            .ok_or(AccountError::NoSuchPasskey)
    }

    /// Removes one of the account's passkeys, confirmed with the password (and the
    /// second factor): it can no longer sign in.
    pub async fn remove_passkey(
        &self,
        principal: &Principal,
        id: i64,
        (password, proof): (&str, SecondFactorProof<'_>),
        client: Client<'_>,
    ) -> Result<StoredPasskey, AccountError> {
        self.relying_party()?;
        let user_id = principal.user.id;
        if !self
            .store
            .passkeys(user_id)
            .await?
            .iter()
            .any(|passkey| passkey.id == id)
        {
            return Err(AccountError::NoSuchPasskey);
        }
        let session = Some(principal.session_id.as_str());
        let user = &principal.user;
        self.confirm_identity(user, (password, "current_password"), proof, client, session)
            .await?;
        let removed = self
            .store
            .remove_passkey(user_id, id)
            .await?
            .ok_or(AccountError::NoSuchPasskey)?;
        let session = Some(principal.session_id.as_str());
        self.record(ActivityKind::PasskeyRemoved, user_id, client, session)
            .await;
        Ok(removed)
    }

    /// Keeps a ceremony's `state` for account `user_id` and `step` on the server, in
    /// place of the one begun before for the same purpose and step; the id returned is
    /// the browser's only handle on it.
    pub(super) async fn begin_ceremony(
        &self,
        purpose: &'static str,
        (user_id, step): (Option<i64>, Option<String>),
        state: String,
    ) -> Result<String, AccountError> {
        let (id, hash) = new_secret();
        let now = self.clock.now();
        let ttl = i64::try_from(CEREMONY_TTL.as_secs()).unwrap_or(i64::MAX);
        let ceremony = Ceremony {
            purpose,
            user_id,
            step,
            state,
            created_at: now,
            expires_at: now.saturating_add(ttl),
        };
        self.store.begin_ceremony(&hash, &ceremony).await?;
        Ok(id)
    }

    /// Ends the ceremony `id` of `purpose` and returns its state: of two requests
    /// finishing it, one gets it; an expired one is refused.
    pub(super) async fn take_ceremony(
        &self,
        id: &str,
        purpose: &'static str,
    ) -> Result<Ceremony, AccountError> {
        let hash = secret_hash(id).ok_or(AccountError::InvalidCeremony { expired: false })?;
        match self.store.take_ceremony(&hash, purpose).await? {
            Some(ceremony) if ceremony.expires_at > self.clock.now() => Ok(ceremony),
            Some(_) => Err(AccountError::InvalidCeremony { expired: true }),
            None => Err(AccountError::InvalidCeremony { expired: false }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(passkey_name("  Laptop ").unwrap(), "Laptop");
        assert!(passkey_name("   ").is_err());
        assert!(passkey_name(&"é".repeat(64)).is_ok());
        assert!(passkey_name(&"é".repeat(65)).is_err());
        assert!(passkey_name("tab\there").is_err());
    }
}
