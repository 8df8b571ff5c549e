//! The configuration's secrets: typed (`secrecy`), so no `Debug`, log line or panic
//! message can print them; what a signing secret must be (long, not a pattern); and the
//! JWT secret and the key-encryption key generated once into the data directory (mode
//! 0600) when the environment gives none.

use super::{Config, ConfigError};
use crate::server::runtime::private_files::{create_private_dir, write_new_private_file};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use std::path::Path;

/// Shortest secret accepted: 256 bits.
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("{0} must be at least {MIN_SECRET_BYTES} bytes (256 bits)")]
    TooShort(&'static str),
    #[error(
        "{0} is too predictable: it has fewer than {MIN_DISTINCT_BYTES} different characters; \
         generate one with `openssl rand -base64 48`"
    )]
    LowEntropy(&'static str),
}

/// Fewest different bytes a signing secret may have: a repeated character, a short word
/// repeated or a counting pattern is not a key, however long.
pub const MIN_DISTINCT_BYTES: usize = 16;

/// A signing secret long enough and not an obvious pattern.
pub fn check_secret(name: &'static str, secret: &[u8]) -> Result<(), SecretError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(SecretError::TooShort(name));
    }
    let distinct = secret
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    if distinct < MIN_DISTINCT_BYTES {
        return Err(SecretError::LowEntropy(name));
    }
    Ok(())
}

impl Config {
    /// `KEYHOLD_KEY_ENCRYPTION_KEY`: a real key when given, and required with PostgreSQL,
    /// whose instances must all seal and open with the same one (a SQLite file belongs to
    /// one server, which generates its key into the data directory).
    pub(super) fn check_key_encryption_key(&self) -> Result<(), ConfigError> {
        const NAME: &str = "KEYHOLD_KEY_ENCRYPTION_KEY";
        let invalid = |reason: String| ConfigError::Invalid { name: NAME, reason };
        match &self.key_encryption_key {
            Some(key) => check_secret(NAME, key.expose_secret().as_bytes())
                .map_err(|e| invalid(e.to_string())),
            None if !self.database_url.expose_secret().starts_with("sqlite:") => Err(invalid(
                "is required with PostgreSQL: it seals the authenticator secrets, queued mail \
                 and private signing keys in the database; the same value on every instance \
                 and wherever `keyhold` commands run (e.g. `openssl rand -base64 48`)"
                    .into(),
            )),
            None => Ok(()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("the generated secret in {path} could not be read or written: {reason}")]
    Io { path: String, reason: String },
    #[error("the stored secret in {path} is shorter than {MIN_SECRET_BYTES} bytes")]
    TooShort { path: String },
}

fn bytes(secret: &[u8]) -> SecretBox<[u8]> {
    SecretBox::new(secret.into())
}

/// The signing secret: from the environment if given, else generated once into
/// `<data_dir>/jwt-secret` (mode 0600) and reused on every later start.
pub fn load_or_create_jwt_secret(
    from_env: Option<&SecretString>,
    data_dir: &Path,
) -> Result<SecretBox<[u8]>, SecretFileError> {
    load_or_create_secret(from_env, data_dir, "jwt-secret")
}

/// The key that seals secrets at rest (private signing keys, authenticator secrets,
/// queued mail: `building_blocks/sealing.rs`): from the environment if given, else
/// generated once into `<data_dir>/key-encryption-key` (mode 0600; SQLite only, see
/// `Config::check_key_encryption_key`).
pub fn load_or_create_key_encryption_key(
    from_env: Option<&SecretString>,
    data_dir: &Path,
) -> Result<SecretBox<[u8]>, SecretFileError> {
    load_or_create_secret(from_env, data_dir, "key-encryption-key")
}

/// A secret from the environment, else generated once into `<data_dir>/<file>` (0600).
fn load_or_create_secret(
    from_env: Option<&SecretString>,
    data_dir: &Path,
    file: &str,
) -> Result<SecretBox<[u8]>, SecretFileError> {
    if let Some(secret) = from_env {
        return Ok(bytes(secret.expose_secret().as_bytes()));
    }
    let path = data_dir.join(file);
    let file_error = |e: std::io::Error| SecretFileError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    create_private_dir(data_dir).map_err(file_error)?;
    let fresh = random_secret();
    match write_new_private_file(&path, fresh.as_bytes()) {
        Ok(()) => Ok(bytes(fresh.as_bytes())),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let stored = std::fs::read_to_string(&path).map_err(file_error)?;
            let stored = stored.trim();
            if stored.len() < MIN_SECRET_BYTES {
                return Err(SecretFileError::TooShort {
                    path: path.display().to_string(),
                });
            }
            Ok(bytes(stored.as_bytes()))
        }
        Err(e) => Err(file_error(e)),
    }
}

fn random_secret() -> String {
    let mut bytes = [0u8; 48];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_jwt_secret(None, dir.path()).unwrap();
        let second = load_or_create_jwt_secret(None, dir.path()).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert!(first.expose_secret().len() >= MIN_SECRET_BYTES);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt-secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
