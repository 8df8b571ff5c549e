//! A confidential client's secret: 256 random bits, shown once when made, stored as its
//! SHA-256 and compared in constant time. A slow hash (argon2) would add nothing: the
//! secret is random, not chosen by a person, so its hash cannot be guessed back.

use crate::server::building_blocks::digest::sha256_hex;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore;
use subtle::ConstantTimeEq;

/// A new secret as handed to the operator (43 base64url characters) and its hash, the
/// one part stored.
pub struct ClientSecret {
    pub value: String,
    pub hash: String,
}

debug_without_secrets!(ClientSecret {});

impl ClientSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let value = URL_SAFE_NO_PAD.encode(bytes);
        let hash = secret_hash(&value);
        Self { value, hash }
    }
}

/// What is stored for `secret`: SHA-256, hex.
pub fn secret_hash(secret: &str) -> String {
    sha256_hex(secret)
}

/// Whether `presented` is the secret whose hash is `stored`, in time independent of
/// where they differ. A public client (no stored hash) has no secret that verifies.
pub fn verify_secret(stored: Option<&str>, presented: &str) -> bool {
    let Some(stored) = stored else {
        return false;
    };
    secret_hash(presented)
        .as_bytes()
        .ct_eq(stored.as_bytes())
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_verifies_against_its_hash_only() {
        let secret = ClientSecret::generate();
        assert_eq!(secret.value.len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(&secret.value).unwrap().len(), 32);
        assert_ne!(secret.hash, secret.value);
        assert!(verify_secret(Some(&secret.hash), &secret.value));
        let other = ClientSecret::generate();
        assert_ne!(other.value, secret.value);
        assert!(!verify_secret(Some(&secret.hash), &other.value));
        assert!(!verify_secret(Some(&secret.hash), ""));
        assert!(!verify_secret(Some(&secret.hash), &secret.hash));
        assert!(!verify_secret(None, &secret.value));
        assert!(!verify_secret(Some(""), ""));
        assert!(!format!("{secret:?}").contains(&secret.value));
    }
}
