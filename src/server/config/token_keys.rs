//! The settings of published token keys (`KEYHOLD_JWT_ALG=EdDSA|ES256`), checked
//! together.

use super::{Config, ConfigError};
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
        Ok(())
    }
}
