//! What a request carries to show it comes from the account's owner, shared by the
//! endpoint modules and the browser: the password-confirmed request, the second-factor
//! fields of sensitive changes and of the log-in's second step, a passkey's challenge and
//! its answer, and which second factors an account has (what is asked for).

use serde::{Deserialize, Serialize};

/// A change to the second factors, confirmed with the password (and the second factor
/// once there is one).
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConfirmedRequest {
    #[cfg_attr(feature = "ssr", schema(format = "password"))]
    pub current_password: String,
    #[serde(flatten)]
    pub second_factor: SecondFactorFields,
}

debug_without_secrets!(ConfirmedRequest {});

/// A second factor sent with a request: a code from the authenticator app, or one of
/// the recovery codes. Sensitive changes need one when the account has a second factor.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecondFactorFields {
    /// The 6-digit code the authenticator app shows now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// One of the recovery codes (`xxxx-xxxx-xxxx-xxxx`; each works once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_code: Option<String>,
    /// A passkey's answer to a ceremony begun for this step (`POST /api/login/mfa/passkey`
    /// at log-in, `POST /api/users/me/passkeys/confirm` for a change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey: Option<PasskeyAssertion>,
}

debug_without_secrets!(SecondFactorFields {});

#[cfg(feature = "ssr")]
impl SecondFactorFields {
    pub(crate) fn proof(&self) -> crate::server::accounts::SecondFactorProof<'_> {
        crate::server::accounts::SecondFactorProof {
            code: self.code.as_deref(),
            recovery_code: self.recovery_code.as_deref(),
            passkey: self.passkey.as_ref().map(|passkey| passkey.proof()),
        }
    }
}

/// The second factors of the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecondFactorsView {
    /// Whether an authenticator app is on (log-ins then ask for its code).
    pub authenticator_app: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u32,
    /// Passkeys (`/api/users/me/passkeys`): each also serves as the second factor.
    #[serde(default)]
    pub passkeys: u32,
}

impl SecondFactorsView {
    /// Whether log-ins and sensitive changes ask for a second factor.
    pub fn any(&self) -> bool {
        self.authenticator_app || self.passkeys > 0
    }
}

/// A ceremony begun: pass `options.publicKey` to
/// `PublicKeyCredential.parseCreationOptionsFromJSON` (registration) or
/// `parseRequestOptionsFromJSON` (log-in), and `ceremony` back with the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyChallenge {
    /// The ceremony's id: single use, valid for 5 minutes.
    pub ceremony: String,
    /// `{"publicKey": {...}}`: WebAuthn's options in their JSON form (binary fields in
    /// base64url).
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub options: serde_json::Value,
}

/// A passkey's answer to a ceremony: the `ceremony` from `start` and the assertion as
/// `credential.toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyAssertion {
    /// From the `start` answer.
    pub ceremony: String,
    /// The assertion, as `credential.toJSON()` gives it (an object; anything else is
    /// refused when the proof is checked).
    #[cfg_attr(feature = "ssr", schema(value_type = Value))]
    pub credential: serde_json::Value,
}

#[cfg(feature = "ssr")]
impl PasskeyAssertion {
    pub(crate) fn proof(&self) -> crate::server::accounts::PasskeyProof<'_> {
        crate::server::accounts::PasskeyProof {
            ceremony: &self.ceremony,
            credential: &self.credential,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::server::accounts::Challenge> for PasskeyChallenge {
    fn from(challenge: crate::server::accounts::Challenge) -> Self {
        Self {
            ceremony: challenge.ceremony,
            options: challenge.options,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<crate::server::accounts::SecondFactorStatus> for SecondFactorsView {
    fn from(status: crate::server::accounts::SecondFactorStatus) -> Self {
        Self {
            authenticator_app: status.authenticator_app,
            recovery_codes_left: u32::try_from(status.recovery_codes_left).unwrap_or(u32::MAX),
            passkeys: u32::try_from(status.passkeys).unwrap_or(u32::MAX),
        }
    }
}
