//! Access tokens: JWTs signed HS256 (a shared secret) or EdDSA / ES256 (published keys,
//! `key_*.rs`), each key pinned to its algorithm, looked up by `kid` in the local ring
//! only, with the claims RFC 8725 and OWASP ASVS V9 ask for (`sub`, `iat`, `nbf`, `exp`,
//! `iss`, `aud`, `jti`).

mod compact;
pub mod key_encryption;
pub mod key_material;
pub mod key_ring;
pub mod key_rotation;

pub use crate::server::config::secrets::SecretError;
use crate::server::{building_blocks::clock::Clock, config::secrets::check_secret};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use compact::Compact;
use jsonwebtoken::{encode, Header};
pub use key_material::{KeyError, KeyPair};
use key_ring::{KeyRing, RingKey};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::{sync::Arc, time::Duration};
use tokio::sync::Notify;

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// The user's token generation at issue time (see `users.token_generation`).
    pub gen: i64,
    /// The sign-in session the token belongs to; it stops working when that ends.
    pub sid: String,
    /// How the person authenticated (RFC 8176: `pwd`, `otp`, `hwk`, `mfa`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

/// Why a token was refused; all of them mean 401 `invalid_token` to the caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token uses a refused algorithm or type")]
    WrongAlgorithm,
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    #[error("the token signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token has the wrong issuer or audience")]
    WrongAudience,
    #[error("the token was revoked (password change or log out everywhere)")]
    Revoked,
    #[error("a token could not be made: {0}")]
    Signing(String),
}

/// A freshly issued token and its lifetime in seconds.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

/// Issues and checks tokens. Signs with the ring's current key; accepts any key of the
/// ring that is not retired, each only with its own algorithm, so rotating keys does not
/// sign everybody out at once.
pub struct TokenService {
    clock: Clock,
    keys: Arc<KeyRing>,
    /// Told when a token names a `kid` the ring does not hold (another instance may have
    /// made a key this one has not loaded yet).
    unknown_kid: Option<Arc<Notify>>,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl TokenService {
    /// HS256 with `current`, also accepting `previous`.
    pub fn new(
        clock: Clock,
        current: &[u8],
        previous: Option<&[u8]>,
        issuer: &str,
        audience: &str,
        ttl: Duration,
    ) -> Result<Self, SecretError> {
        check_secret("KEYHOLD_JWT_SECRET", current)?;
        if let Some(previous) = previous {
            check_secret("KEYHOLD_JWT_PREVIOUS_SECRET", previous)?;
        }
        // The previous secret is older than the current one and never retires.
        let mut keys = vec![RingKey::hmac(current, 1)];
        keys.extend(previous.map(|previous| RingKey::hmac(previous, 0)));
        let ring = Arc::new(KeyRing::new(keys, i64::MAX));
        Ok(Self::with_keys(clock, ring, None, issuer, audience, ttl))
    }

    /// Published keys (EdDSA or ES256) from `keys`; `unknown_kid` is notified when a
    /// token names a key the ring does not hold.
    pub fn with_keys(
        clock: Clock,
        keys: Arc<KeyRing>,
        unknown_kid: Option<Arc<Notify>>,
        issuer: &str,
        audience: &str,
        ttl: Duration,
    ) -> Self {
        Self {
            clock,
            keys,
            unknown_kid,
            issuer: issuer.into(),
            audience: audience.into(),
            ttl,
        }
    }

    /// The key ring (the JWKS is read from it).
    pub fn keys(&self) -> &Arc<KeyRing> {
        &self.keys
    }

    /// A token for the user with this stable id and current token generation, in
    /// session `sid` authenticated by `amr` (comma-separated RFC 8176 values).
    pub fn issue(
        &self,
        user_id: i64,
        generation: i64,
        sid: &str,
        amr: &str,
    ) -> Result<IssuedToken, TokenError> {
        let now = self.now();
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: random_id(),
            gen: generation,
            sid: sid.to_owned(),
            amr: amr
                .split(',')
                .filter(|method| !method.is_empty())
                .map(str::to_owned)
                .collect(),
        };
        let token = self
            .keys
            .with_signer(self.clock.now(), |key| {
                let mut header = Header::new(key.alg);
                header.kid = Some(key.kid.clone());
                encode(&header, &claims, &key.encoding)
            })
            .ok_or_else(|| TokenError::Signing("no signing key".into()))?
            .map_err(|e| TokenError::Signing(e.to_string()))?;
        Ok(IssuedToken {
            token,
            expires_in: self.ttl.as_secs(),
        })
    }

    /// The claims of a valid token; every check of RFC 8725 applies.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let mut buffer = Default::default();
        let token = Compact::parse(token, &mut buffer)?;
        let header = &token.header;
        if header.typ.as_deref().is_some_and(|t| t != "JWT") {
            return Err(TokenError::WrongAlgorithm);
        }
        // Keys come from the local ring only: a header naming a key elsewhere (or
        // carrying one), or an extension we would have to understand, is refused.
        if header.points_elsewhere() {
            return Err(TokenError::WrongAlgorithm);
        }
        let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
        let claims = self
            .keys
            .with_verifier(kid, self.clock.now(), |key| {
                token.claims(key, &self.issuer, &self.audience)
            })
            .ok_or_else(|| {
                if !self.keys.contains(kid) {
                    if let Some(reload) = &self.unknown_kid {
                        reload.notify_one();
                    }
                }
                TokenError::UnknownKey
            })??;
        let now = self.now();
        if claims.exp.saturating_add(LEEWAY_SECS) < now {
            return Err(TokenError::Expired);
        }
        if claims.nbf > now.saturating_add(LEEWAY_SECS) {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.clock.now()).unwrap_or(0)
    }
}

/// 128 random bits, URL-safe (22 characters).
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests;
