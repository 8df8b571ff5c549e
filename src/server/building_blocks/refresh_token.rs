//! The refresh token a session's cookie holds: random, stored only as a hash, compared
//! in constant time. Where it is rotated: `accounts/refresh_rotation.rs`.

use crate::server::building_blocks::digest::sha256_hex;
use crate::server::building_blocks::token::random_id;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore;
use subtle::ConstantTimeEq;

/// A refresh token as the client holds it: `<session id>.<secret>`. Only the SHA-256 of
/// the secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub session_id: String,
    secret: String,
}

impl RefreshToken {
    /// A new token for a new session.
    pub fn generate() -> Self {
        Self::for_session(random_id())
    }

    /// A new secret for an existing session (rotation).
    pub fn for_session(session_id: String) -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self {
            session_id,
            secret: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// Parses what the client sent; `None` for anything not shaped like a token.
    pub fn parse(text: &str) -> Option<Self> {
        let (session_id, secret) = text.split_once('.')?;
        let url_safe = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        (url_safe(session_id, 22) && url_safe(secret, 43)).then(|| Self {
            session_id: session_id.into(),
            secret: secret.into(),
        })
    }

    /// What is stored: SHA-256 of the secret, hex.
    pub fn hash(&self) -> String {
        sha256_hex(&self.secret)
    }

    /// Whether this token's hash is `stored`, in time independent of where they differ.
    pub fn matches(&self, stored: &str) -> bool {
        self.hash().as_bytes().ct_eq(stored.as_bytes()).into()
    }

    /// The value sent to the client.
    pub fn value(&self) -> String {
        format!("{}.{}", self.session_id, self.secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_hash() {
        let token = RefreshToken::generate();
        let parsed = RefreshToken::parse(&token.value()).unwrap();
        assert_eq!(parsed, token);
        assert!(parsed.matches(&token.hash()));
        assert_eq!(token.hash().len(), 64);
        let other = RefreshToken::for_session(token.session_id.clone());
        assert!(!other.matches(&token.hash()));
        assert!(!token.matches(""));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = RefreshToken::generate().value();
        for bad in [
            "",
            ".",
            "abc",
            &good[..good.len() - 1],
            &format!("{good}x"),
            &good.replace('.', ":"),
            &format!("{}.{}", "é".repeat(11), "a".repeat(43)),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad:?}");
        }
    }
}
