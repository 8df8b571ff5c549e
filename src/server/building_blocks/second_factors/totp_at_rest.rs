//! The authenticator app's secret at rest: sealed under its own key derived from
//! `KEYHOLD_KEY_ENCRYPTION_KEY` (`building_blocks/sealing.rs`) and bound to the account
//! it belongs to, so the database holds no secret that computes codes, and a sealed
//! secret copied onto another account's row does not open there.

use crate::server::building_blocks::sealing::{purpose, SealingKey, Unopened};
use secrecy::{ExposeSecret, SecretString};

/// Seals and opens authenticator secrets (never printed).
pub struct TotpSecrets(SealingKey);

impl TotpSecrets {
    /// From the key-encryption key (at least 256 bits, checked by the configuration).
    pub fn new(key_encryption_key: &[u8]) -> Self {
        Self(SealingKey::derive(
            key_encryption_key,
            purpose::TOTP_SECRETS,
        ))
    }

    /// `secret` (base32) sealed for account `user_id`.
    pub fn seal(&self, user_id: i64, secret: &str) -> String {
        self.0.seal(secret.as_bytes(), &bound_to(user_id))
    }

    /// The base32 secret of account `user_id`, if `sealed` was sealed for it under this
    /// key.
    pub fn open(&self, user_id: i64, sealed: &str) -> Result<SecretString, Unopened> {
        let opened = self.0.open(sealed, &bound_to(user_id))?;
        let secret = std::str::from_utf8(opened.expose_secret()).map_err(|_| Unopened)?;
        Ok(SecretString::from(secret.to_owned()))
    }
}

/// The authenticator app is one per account: the account's id names its row.
fn bound_to(user_id: i64) -> Vec<u8> {
    format!("totp_factors\n{user_id}").into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_opens_only_for_its_account_and_key() {
        let secrets = TotpSecrets::new(b"a key-encryption secret of 32+ bytes!!");
        let sealed = secrets.seal(7, "JBSWY3DPEHPK3PXP");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            secrets.open(7, &sealed).unwrap().expose_secret(),
            "JBSWY3DPEHPK3PXP"
        );
        assert!(secrets.open(8, &sealed).is_err(), "another account");
        let other = TotpSecrets::new(b"another key-encryption secret, 32+ b");
        assert!(other.open(7, &sealed).is_err(), "another key");
    }
}
