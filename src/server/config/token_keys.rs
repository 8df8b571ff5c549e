//! The settings of published token keys (`KEYHOLD_JWT_ALG=EdDSA|ES256`), checked
//! together.

use super::{secrets, Config, ConfigError};
use secrecy::ExposeSecret;
use std::time::Duration;

impl Config {
    /// Whether tokens are signed with published keys (EdDSA, ES256).
    pub fn publishes_keys(&self) -> bool {
        self.jwt_alg != jsonwebtoken::Algorithm::HS256
    }

    pub(super) fn check_token_keys(&self) -> Result<(), ConfigError> {
        let invalid = |name, reason: &str| ConfigError::Invalid {
            name,
            reason: reason.into(),
        };
        if self.jwt_keys_reload < Duration::from_secs(1) {
            return Err(invalid("KEYHOLD_JWT_KEYS_RELOAD", "must be at least 1s"));
        }
        if let Some(key) = &self.key_encryption_key {
            secrets::check_secret("KEYHOLD_KEY_ENCRYPTION_KEY", key.expose_secret().as_bytes())
                .map_err(|e| invalid("KEYHOLD_KEY_ENCRYPTION_KEY", &e.to_string()))?;
        }
        let sqlite = self.database_url.expose_secret().starts_with("sqlite:");
        if self.publishes_keys() && !sqlite && self.key_encryption_key.is_none() {
            return Err(invalid(
                "KEYHOLD_KEY_ENCRYPTION_KEY",
                "is required with PostgreSQL and KEYHOLD_JWT_ALG=EdDSA or ES256: the same \
                 value on every instance (e.g. `openssl rand -base64 48`)",
            ));
        }
        Ok(())
    }
}
