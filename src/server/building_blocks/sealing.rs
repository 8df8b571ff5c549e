//! Secrets at rest, sealed with ChaCha20-Poly1305 under keys derived (HMAC-SHA-256) from
//! `KEYHOLD_KEY_ENCRYPTION_KEY`: one key per purpose (the purposes below), and each
//! sealed value bound (associated data) to the row it belongs to, so a value copied onto
//! another row, or sealed for another purpose, does not open. A database dump or backup
//! alone holds none of these secrets.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    ChaCha20Poly1305, Key, Nonce,
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::SecretBox;
use sha2::Sha256;

/// The purposes, each the label its key is derived with: distinct, so no key opens what
/// another sealed.
pub mod purpose {
    /// The published keys' private keys (`token/key_encryption.rs`).
    pub const SIGNING_KEYS: &[u8] = b"keyhold signing keys at rest v1";
    /// The authenticator apps' secrets (`second_factors/totp_at_rest.rs`).
    pub const TOTP_SECRETS: &[u8] = b"keyhold authenticator secrets at rest v1";
    /// The bodies of queued mail, which carry live links (`mail/sealed_bodies.rs`).
    pub const MAIL_BODIES: &[u8] = b"keyhold queued mail bodies at rest v1";
    /// The value that tells a start-up whether it was given the database's key
    /// (`key_check`).
    pub const KEY_CHECK: &[u8] = b"keyhold key-encryption key check v1";
}

const NONCE_BYTES: usize = 12;

/// A sealed value that does not open: another key, another row or purpose, or altered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed value does not open with this key for this row")]
pub struct Unopened;

/// A key derived for one purpose (never printed).
pub struct SealingKey(ChaCha20Poly1305);

impl SealingKey {
    /// The key for `purpose`, derived from a secret of at least 256 bits (checked by the
    /// configuration).
    pub fn derive(secret: &[u8], purpose: &[u8]) -> Self {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes a key of any length");
        mac.update(purpose);
        let derived = mac.finalize().into_bytes();
        Self(ChaCha20Poly1305::new(&Key::from(<[u8; 32]>::from(derived))))
    }

    /// `plaintext` sealed for the row `bound_to` names: base64url of a random nonce
    /// followed by the ciphertext.
    pub fn seal(&self, plaintext: &[u8], bound_to: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: bound_to,
                },
            )
            .expect("ChaCha20-Poly1305 seals any message below 256 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// The plaintext of `sealed`, if it was sealed under this key for `bound_to`.
    pub fn open(&self, sealed: &str, bound_to: &[u8]) -> Result<SecretBox<[u8]>, Unopened> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).map_err(|_| Unopened)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(Unopened);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| Unopened)?;
        let plain = self
            .0
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: bound_to,
                },
            )
            .map_err(|_| Unopened)?;
        Ok(SecretBox::new(plain.into_boxed_slice()))
    }
}

/// The check kept in the database: a known value sealed under the key-encryption key it
/// was first started with. A start-up given another key cannot open it and stops, before
/// anything is sealed under the wrong key or a sealed secret is found unreadable.
pub mod key_check {
    use super::{purpose, SealingKey, Unopened};
    use secrecy::ExposeSecret;

    const KNOWN: &[u8] = b"keyhold";
    const ROW: &[u8] = b"key_check";

    /// A fresh check value for `secret` (stored if the database has none yet).
    pub fn new_value(secret: &[u8]) -> String {
        SealingKey::derive(secret, purpose::KEY_CHECK).seal(KNOWN, ROW)
    }

    /// Whether the stored check value was sealed under `secret`.
    pub fn matches(secret: &[u8], stored: &str) -> Result<(), Unopened> {
        let opened = SealingKey::derive(secret, purpose::KEY_CHECK).open(stored, ROW)?;
        if opened.expose_secret() == KNOWN {
            Ok(())
        } else {
            Err(Unopened)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    const SECRET: &[u8] = b"a key-encryption secret of 32+ bytes!!";

    #[test]
    fn sealed_values_open_only_with_their_key_purpose_and_row() {
        let key = SealingKey::derive(SECRET, purpose::TOTP_SECRETS);
        let sealed = key.seal(b"JBSWY3DPEHPK3PXP", b"user 1");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            key.open(&sealed, b"user 1").unwrap().expose_secret(),
            b"JBSWY3DPEHPK3PXP"
        );
        assert_eq!(key.open(&sealed, b"user 2").unwrap_err(), Unopened, "row");
        let mail = SealingKey::derive(SECRET, purpose::MAIL_BODIES);
        assert!(mail.open(&sealed, b"user 1").is_err(), "purpose");
        let other = SealingKey::derive(
            b"another key-encryption secret, 32+ b",
            purpose::TOTP_SECRETS,
        );
        assert!(other.open(&sealed, b"user 1").is_err(), "key");
        assert!(key.open("", b"user 1").is_err());
        assert!(key.open("!!", b"user 1").is_err());
        assert_ne!(sealed, key.seal(b"JBSWY3DPEHPK3PXP", b"user 1"), "nonce");
    }

    #[test]
    fn the_key_check_tells_another_key() {
        let stored = key_check::new_value(SECRET);
        assert_eq!(key_check::matches(SECRET, &stored), Ok(()));
        assert_eq!(
            key_check::matches(b"another key-encryption secret, 32+ b", &stored),
            Err(Unopened)
        );
        let foreign = SealingKey::derive(SECRET, purpose::KEY_CHECK).seal(b"other", b"key_check");
        assert_eq!(key_check::matches(SECRET, &foreign), Err(Unopened));
    }
}
