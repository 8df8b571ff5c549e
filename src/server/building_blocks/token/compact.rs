//! Reading a compact JWS (`header.payload.signature`) in one pass: the header and the
//! claims are each decoded and parsed once, and an HS256 signature is checked with the
//! key's HMAC state computed when the key was loaded.
//!
//! `jsonwebtoken::decode` parses the header three times and the claims twice and keys
//! the HMAC anew for every token; on `GET /api/users/me` that was most of the request's
//! own work (docs/benchmarks.md). The checks are the same and come in the same order:
//! header (`typ`, no key named or carried, a `kid`), the key's own algorithm, the
//! signature, the claims (every one present, issuer, audience), then the times
//! (`TokenService::verify`).

use super::{key_ring::RingKey, Claims, TokenError};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, DecodeSliceError, Engine as _};
use jsonwebtoken::Algorithm;
use serde::{de::IgnoredAny, Deserialize};
use std::borrow::Cow;

/// Decoded parts up to these sizes stay on the stack (ours are far smaller).
const HEADER_INLINE: usize = 256;
const CLAIMS_INLINE: usize = 1024;
/// HS256 signatures are 32 bytes, EdDSA and ES256 ones 64.
const SIGNATURE_INLINE: usize = 64;

/// A token split into its three parts, with its header read.
pub(super) struct Compact<'a> {
    pub header: JoseHeader<'a>,
    /// `header.payload`, what the signature covers.
    message: &'a str,
    payload: &'a str,
    signature: &'a str,
}

/// The header fields the checks read. Keys named or carried elsewhere are only looked
/// for (any value refuses the token); other fields are covered by the signature and
/// otherwise ignored.
#[derive(Deserialize)]
pub(super) struct JoseHeader<'a> {
    pub alg: Algorithm,
    #[serde(default, borrow)]
    pub typ: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub kid: Option<Cow<'a, str>>,
    #[serde(default)]
    jku: Option<IgnoredAny>,
    #[serde(default)]
    jwk: Option<IgnoredAny>,
    #[serde(default)]
    x5u: Option<IgnoredAny>,
    #[serde(default)]
    x5c: Option<IgnoredAny>,
    #[serde(default)]
    crit: Option<IgnoredAny>,
}

impl JoseHeader<'_> {
    /// Whether the header names a key elsewhere (`jku`, `x5u`), carries one (`jwk`,
    /// `x5c`) or lists extensions we would have to understand (`crit`).
    pub fn points_elsewhere(&self) -> bool {
        self.jku.is_some()
            || self.jwk.is_some()
            || self.x5u.is_some()
            || self.x5c.is_some()
            || self.crit.is_some()
    }
}

impl<'a> Compact<'a> {
    /// Splits `token` (from the right, as `jsonwebtoken` does) and reads its header into
    /// `buffer`'s space.
    pub fn parse(
        token: &'a str,
        buffer: &'a mut Decoded<HEADER_INLINE>,
    ) -> Result<Self, TokenError> {
        let (message, signature) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (header, payload) = message.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let header =
            serde_json::from_slice(buffer.decode(header)?).map_err(|_| TokenError::Malformed)?;
        Ok(Self {
            header,
            message,
            payload,
            signature,
        })
    }

    /// The claims, if `key` signed the token and they name our issuer and audience.
    pub fn claims(
        &self,
        key: &RingKey,
        issuer: &str,
        audience: &str,
    ) -> Result<Claims, TokenError> {
        // Each key verifies its own algorithm only: no HS256 with a public key.
        if self.header.alg != key.alg {
            return Err(TokenError::WrongAlgorithm);
        }
        verify_signature(key, self.message.as_bytes(), self.signature)?;
        let mut buffer = Decoded::<CLAIMS_INLINE>::default();
        // Every claim is a required field of `Claims`: a missing one fails here.
        let claims: Claims = serde_json::from_slice(buffer.decode(self.payload)?)
            .map_err(|_| TokenError::Malformed)?;
        if claims.iss != issuer || claims.aud != audience {
            return Err(TokenError::WrongAudience);
        }
        Ok(claims)
    }
}

fn verify_signature(key: &RingKey, message: &[u8], signature: &str) -> Result<(), TokenError> {
    match &key.mac {
        Some(mac) => {
            let mut buffer = Decoded::<SIGNATURE_INLINE>::default();
            let signature = buffer.decode(signature)?;
            let mut mac = mac.clone();
            hmac::Mac::update(&mut mac, message);
            // Constant-time comparison.
            hmac::Mac::verify_slice(mac, signature).map_err(|_| TokenError::BadSignature)
        }
        None => match jsonwebtoken::crypto::verify(signature, message, &key.decoding, key.alg) {
            Ok(true) => Ok(()),
            Ok(false) => Err(TokenError::BadSignature),
            Err(_) => Err(TokenError::Malformed),
        },
    }
}

/// Room for one decoded part: on the stack, or on the heap when it is larger.
pub(super) struct Decoded<const N: usize> {
    inline: [u8; N],
    heap: Vec<u8>,
}

impl<const N: usize> Default for Decoded<N> {
    fn default() -> Self {
        Self {
            inline: [0; N],
            heap: Vec::new(),
        }
    }
}

impl<const N: usize> Decoded<N> {
    /// `part` decoded from base64url without padding (as `jsonwebtoken` reads it).
    fn decode(&mut self, part: &str) -> Result<&[u8], TokenError> {
        match URL_SAFE_NO_PAD.decode_slice(part, &mut self.inline) {
            Ok(length) => Ok(&self.inline[..length]),
            Err(DecodeSliceError::OutputSliceTooSmall) => {
                self.heap = URL_SAFE_NO_PAD
                    .decode(part)
                    .map_err(|_| TokenError::Malformed)?;
                Ok(&self.heap)
            }
            Err(DecodeSliceError::DecodeError(_)) => Err(TokenError::Malformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_larger_than_the_stack_space_decode_too() {
        let long = "x".repeat(3 * CLAIMS_INLINE);
        let encoded = URL_SAFE_NO_PAD.encode(&long);
        let mut buffer = Decoded::<CLAIMS_INLINE>::default();
        assert_eq!(buffer.decode(&encoded).unwrap(), long.as_bytes());
        assert_eq!(buffer.decode("a"), Err(TokenError::Malformed));
        assert_eq!(buffer.decode("YQ=="), Err(TokenError::Malformed), "padding");
    }

    #[test]
    fn headers_parse_with_unknown_fields_and_escapes() {
        let json = br#"{"alg":"HS256","typ":"JWT","kid":"a\/b","cty":"x","n":1}"#;
        let header: JoseHeader<'_> = serde_json::from_slice(json).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
        assert_eq!(header.kid.as_deref(), Some("a/b"));
        assert!(!header.points_elsewhere());
        let json = br#"{"alg":"ES256","x5c":[]}"#;
        let header: JoseHeader<'_> = serde_json::from_slice(json).unwrap();
        assert!(header.points_elsewhere());
        assert!(serde_json::from_slice::<JoseHeader<'_>>(br#"{"alg":"none"}"#).is_err());
    }
}
