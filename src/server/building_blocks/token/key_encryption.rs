//! Private signing keys at rest: sealed with ChaCha20-Poly1305 under a key derived from
//! `KEYHOLD_KEY_ENCRYPTION_KEY`, bound to the key's `kid` and algorithm (a sealed key
//! copied onto another row does not open).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    ChaCha20Poly1305, Key, Nonce,
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::SecretBox;
use sha2::Sha256;

/// Labels the derived key, so the same secret used elsewhere yields another key.
const CONTEXT: &[u8] = b"keyhold signing keys at rest v1";
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "the signing key {kid} cannot be decrypted: KEYHOLD_KEY_ENCRYPTION_KEY is not the one it \
     was stored with (every instance and `keyhold keys` need the same), or the row was altered"
)]
pub struct SealError {
    pub kid: String,
}

/// The key-encryption key (never printed).
pub struct KeyEncryptionKey(ChaCha20Poly1305);

impl KeyEncryptionKey {
    /// Derived from a secret of at least 256 bits (checked by the caller).
    pub fn from_secret(secret: &[u8]) -> Self {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length");
        mac.update(CONTEXT);
        let derived = mac.finalize().into_bytes();
        Self(ChaCha20Poly1305::new(&Key::from(<[u8; 32]>::from(derived))))
    }

    /// `plaintext` sealed: base64url of a random nonce followed by the ciphertext.
    pub fn seal(&self, plaintext: &[u8], kid: &str, alg: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(kid, alg);
        let sealed = self
            .0
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .expect("ChaCha20-Poly1305 seals any key-sized message");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The plaintext of `sealed`, if it was sealed under this key for this `kid`/`alg`.
    pub fn open(&self, sealed: &str, kid: &str, alg: &str) -> Result<SecretBox<[u8]>, SealError> {
        let error = || SealError { kid: kid.into() };
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| error())?;
        if bytes.len() <= NONCE_BYTES {
            return Err(error());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| error())?;
        let aad = associated_data(kid, alg);
        let plain = self
            .0
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| error())?;
        Ok(SecretBox::new(plain.into_boxed_slice()))
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
