//! Private signing keys at rest: sealed with ChaCha20-Poly1305 under a key derived from
//! `KEYHOLD_KEY_ENCRYPTION_KEY` (`building_blocks/sealing.rs`), bound to the key's `kid`
//! and algorithm (a sealed key copied onto another row does not open).

use crate::server::building_blocks::sealing::{purpose, SealingKey};
use secrecy::SecretBox;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "the signing key {kid} cannot be decrypted: KEYHOLD_KEY_ENCRYPTION_KEY is not the one it \
     was stored with (every instance and `keyhold keys` need the same), or the row was altered"
)]
pub struct SealError {
    pub kid: String,
}

/// The key-encryption key's key for signing keys (never printed).
pub struct KeyEncryptionKey(SealingKey);

impl KeyEncryptionKey {
    /// Derived from a secret of at least 256 bits (checked by the caller).
    pub fn from_secret(secret: &[u8]) -> Self {
        Self(SealingKey::derive(secret, purpose::SIGNING_KEYS))
    }

    /// `plaintext` sealed: base64url of a random nonce followed by the ciphertext.
    pub fn seal(&self, plaintext: &[u8], kid: &str, alg: &str) -> String {
        self.0.seal(plaintext, &associated_data(kid, alg))
    }

    /// The plaintext of `sealed`, if it was sealed under this key for this `kid`/`alg`.
    pub fn open(&self, sealed: &str, kid: &str, alg: &str) -> Result<SecretBox<[u8]>, SealError> {
        self.0
            .open(sealed, &associated_data(kid, alg))
            .map_err(|_| SealError { kid: kid.into() })
    }
}

fn associated_data(kid: &str, alg: &str) -> Vec<u8> {
    format!("{alg}\n{kid}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn sealed_keys_open_only_with_the_same_key_kid_and_alg() {
        let kek = KeyEncryptionKey::from_secret(b"a key-encryption secret of 32+ bytes!!");
        let sealed = kek.seal(b"private", "kid-1", "EdDSA");
        assert!(!sealed.contains("private"));
        assert_eq!(
            kek.open(&sealed, "kid-1", "EdDSA").unwrap().expose_secret(),
            b"private"
        );
        assert!(kek.open(&sealed, "kid-2", "EdDSA").is_err(), "other row");
        assert!(kek.open(&sealed, "kid-1", "ES256").is_err(), "other alg");
        let other = KeyEncryptionKey::from_secret(b"another key-encryption secret, 32+ b");
        assert!(other.open(&sealed, "kid-1", "EdDSA").is_err(), "other key");
        assert!(kek.open("", "kid-1", "EdDSA").is_err());
        assert!(kek.open("!!", "kid-1", "EdDSA").is_err());
        assert_ne!(
            sealed,
            kek.seal(b"private", "kid-1", "EdDSA"),
            "fresh nonce"
        );
    }
}
