//! The published signing keys' life in the database, shared by every instance: the
//! first key (generated, or `KEYHOLD_JWT_PRIVATE_KEY`), rotation (`keyhold keys
//! rotate`: a standby key now, signing after a delay), revocation, and each instance
//! reloading the set (periodically, and soon after a token names a key it lacks).

use super::{
    key_encryption::{KeyEncryptionKey, SealError},
    key_material::{algorithm_name, parse_algorithm, KeyError, KeyPair},
    key_ring::{phase, KeyRing, Phase, RingKey},
};
use crate::server::{
    config::{secrets::load_or_create_key_encryption_key, Config},
    store::{SigningKeyStore, StoreError, StoredSigningKey},
};
use jsonwebtoken::Algorithm;
use std::{
    sync::{Arc, Weak},
    time::Duration,
};
use tokio::sync::Notify;

/// Fewest seconds between two reloads, however many unknown `kid`s arrive.
const MIN_RELOAD_SPACING: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum KeySetError {
    #[error("cannot read or write the signing keys: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sealed(#[from] SealError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("the stored signing key {0} does not match its kid")]
    Mismatch(String),
    #[error("the stored signing key {0} has an unknown algorithm")]
    UnknownAlgorithm(String),
    #[error("{0}")]
    Refused(String),
}

/// What the key set's rules need: where keys are kept and how they are sealed.
#[derive(Clone)]
pub struct KeySet {
    pub store: Arc<dyn SigningKeyStore>,
    pub kek: Arc<KeyEncryptionKey>,
    /// How long a replaced key stays valid (token lifetime, leeway, reload interval).
    pub retain_secs: i64,
}

/// One stored key and its phase now (`keyhold keys list`).
#[derive(Debug, Clone)]
pub struct KeyStatus {
    pub kid: String,
    pub alg: String,
    pub phase: Phase,
    pub created_at: i64,
    pub activate_at: i64,
}

impl KeySet {
    /// The key set `config` describes, kept in `store`.
    pub fn from_config(
        config: &Config,
        store: Arc<dyn SigningKeyStore>,
    ) -> Result<Self, KeySetError> {
        let secret =
            load_or_create_key_encryption_key(config.key_encryption_key.as_ref(), &config.data_dir)
                .map_err(|e| KeySetError::Refused(e.to_string()))?;
        let retain =
            config.token_ttl + Duration::from_secs(super::LEEWAY_SECS) + config.jwt_keys_reload;
        Ok(Self {
            store,
            kek: Arc::new(KeyEncryptionKey::from_secret(
                secrecy::ExposeSecret::expose_secret(&secret),
            )),
            retain_secs: i64::try_from(retain.as_secs()).unwrap_or(i64::MAX),
        })
    }

    /// `KEYHOLD_JWT_PRIVATE_KEY`, read as a key of `KEYHOLD_JWT_ALG`.
    pub fn configured_key(config: &Config) -> Result<Option<KeyPair>, KeyError> {
        config
            .jwt_private_key
            .as_ref()
            .map(|pem| KeyPair::from_pem(config.jwt_alg, secrecy::ExposeSecret::expose_secret(pem)))
            .transpose()
    }

    /// The stored keys, opened, as ring keys.
    pub async fn load(&self) -> Result<Vec<RingKey>, KeySetError> {
        let stored = self.store.signing_keys().await?;
        stored.iter().map(|key| self.open(key)).collect()
    }

    fn open(&self, stored: &StoredSigningKey) -> Result<RingKey, KeySetError> {
        let alg = parse_algorithm(&stored.alg)
            .filter(|alg| *alg != Algorithm::HS256)
            .ok_or_else(|| KeySetError::UnknownAlgorithm(stored.kid.clone()))?;
        let der = self
            .kek
            .open(&stored.sealed_private_key, &stored.kid, &stored.alg)?;
        let pair = KeyPair::from_pkcs8_der(alg, secrecy::ExposeSecret::expose_secret(&der))?;
        if pair.kid != stored.kid {
            return Err(KeySetError::Mismatch(stored.kid.clone()));
        }
        Ok(RingKey::published(&pair, stored.activate_at)?)
    }

    fn sealed(&self, pair: &KeyPair, now: i64, activate_at: i64) -> StoredSigningKey {
        let alg = algorithm_name(pair.alg);
        StoredSigningKey {
            kid: pair.kid.clone(),
            alg: alg.into(),
            public_jwk: serde_json::to_string(&pair.jwk).unwrap_or_default(),
            sealed_private_key: self.kek.seal(pair.pkcs8_der(), &pair.kid, alg),
            created_at: now,
            activate_at,
        }
    }

    /// The ring at start-up: the stored keys, after storing a first one if there is
    /// none (`initial`, else a new key of `alg`).
    pub async fn open_ring(
        &self,
        alg: Algorithm,
        initial: Option<KeyPair>,
        now: i64,
    ) -> Result<Arc<KeyRing>, KeySetError> {
        let stored = self.store.signing_keys().await?;
        if stored.is_empty() {
            let pair = match initial {
                Some(pair) => pair,
                None => KeyPair::generate(alg)?,
            };
            if self
                .store
                .add_signing_key(&self.sealed(&pair, now, now), true)
                .await?
            {
                tracing::info!(kid = %pair.kid, alg = algorithm_name(alg), "first signing key stored");
            }
        } else if let Some(pair) = initial.filter(|p| !stored.iter().any(|s| s.kid == p.kid)) {
            tracing::warn!(
                kid = %pair.kid,
                "KEYHOLD_JWT_PRIVATE_KEY is not in the key set in the database, which decides; \
                 `keyhold keys rotate --private-key-file` adds it"
            );
        }
        let ring = Arc::new(KeyRing::new(self.load().await?, self.retain_secs));
        if let Some(signing) = ring.with_signer(now, |key| key.alg).filter(|a| *a != alg) {
            tracing::warn!(
                signing = algorithm_name(signing),
                configured = algorithm_name(alg),
                "the current signing key's algorithm is not KEYHOLD_JWT_ALG until `keyhold keys rotate`"
            );
        }
        Ok(ring)
    }

    /// Adds a standby key (`pair`, else a new key of `alg`) that signs from `now +
    /// promote_after`, and deletes the retired keys. Returns the new key's row.
    pub async fn rotate(
        &self,
        alg: Algorithm,
        pair: Option<KeyPair>,
        now: i64,
        promote_after: Duration,
    ) -> Result<StoredSigningKey, KeySetError> {
        let statuses = self.statuses(now).await?;
        for status in &statuses {
            if status.phase == Phase::Retired {
                self.store.delete_signing_key(&status.kid).await?;
            }
        }
        // Strictly after every key there is, so the new key is the one that takes over
        // (whole seconds: a key made in the same second would otherwise tie).
        let latest = statuses.iter().map(|s| s.activate_at).max();
        let pair = match pair {
            Some(pair) => pair,
            None => KeyPair::generate(alg)?,
        };
        let delay = i64::try_from(promote_after.as_secs()).unwrap_or(i64::MAX);
        // The first key of an empty set signs at once: there is nothing to take over from.
        let activate_at = latest.map_or(now, |latest| {
            now.saturating_add(delay).max(latest.saturating_add(1))
        });
        let key = self.sealed(&pair, now, activate_at);
        if !self.store.add_signing_key(&key, false).await? {
            return Err(KeySetError::Refused(format!(
                "the key {} is already in the set",
                pair.kid
            )));
        }
        Ok(key)
    }

    /// Removes `kid` from the set at once (a compromised key): its tokens stop verifying
    /// as soon as each instance reloads. The key signing now cannot be revoked.
    pub async fn revoke(&self, kid: &str, now: i64) -> Result<(), KeySetError> {
        let statuses = self.statuses(now).await?;
        let Some(status) = statuses.iter().find(|s| s.kid == kid) else {
            return Err(KeySetError::Refused(format!("no key {kid} in the set")));
        };
        if status.phase == Phase::Current {
            return Err(KeySetError::Refused(format!(
                "{kid} signs tokens now: `keyhold keys rotate --promote-after 0` first, \
                 then revoke it"
            )));
        }
        self.store.delete_signing_key(kid).await?;
        Ok(())
    }

    /// Every stored key and its phase at `now` (opening each one, which checks the
    /// key-encryption key too).
    pub async fn statuses(&self, now: i64) -> Result<Vec<KeyStatus>, KeySetError> {
        let stored = self.store.signing_keys().await?;
        let mut keys = stored
            .iter()
            .map(|key| self.open(key))
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_by(|a, b| (a.activate_at, &a.kid).cmp(&(b.activate_at, &b.kid)));
        Ok((0..keys.len())
            .filter_map(|i| {
                let row = stored.iter().find(|s| s.kid == keys[i].kid)?;
                Some(KeyStatus {
                    kid: row.kid.clone(),
                    alg: row.alg.clone(),
                    phase: phase(&keys, i, now, self.retain_secs),
                    created_at: row.created_at,
                    activate_at: row.activate_at,
                })
            })
            .collect())
    }

    /// Reloads `ring` every `every`, and soon after `unknown_kid` is notified, until the
    /// ring is dropped. A failed reload keeps the keys it has.
    pub fn reload_in_background(
        self,
        ring: Weak<KeyRing>,
        every: Duration,
        unknown_kid: Arc<Notify>,
    ) {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    () = unknown_kid.notified() => {}
                }
                let Some(ring) = ring.upgrade() else {
                    return;
                };
                match self.load().await {
                    Ok(keys) => ring.replace(keys),
                    Err(e) => tracing::warn!(reason = %e, "cannot reload the signing keys"),
                }
                drop(ring);
                tokio::time::sleep(MIN_RELOAD_SPACING).await;
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::{DatabaseOptions, SqlStore};

    async fn key_set() -> KeySet {
        let store = SqlStore::connect(&DatabaseOptions {
            url: "sqlite::memory:".into(),
            pool_size: 1,
            acquire_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(5),
        })
        .await
        .unwrap();
        KeySet {
            store: Arc::new(store),
            kek: Arc::new(KeyEncryptionKey::from_secret(
                b"unit-test key-encryption key 0123",
            )),
            retain_secs: 100,
        }
    }

    fn names(statuses: &[KeyStatus]) -> Vec<&'static str> {
        statuses.iter().map(|s| s.phase.name()).collect()
    }

    #[tokio::test]
    async fn rotation_publishes_first_promotes_later_and_retires_last() {
        let keys = key_set().await;
        let ring = keys.open_ring(Algorithm::EdDSA, None, 1_000).await.unwrap();
        let first = ring.with_signer(1_000, |k| k.kid.clone()).unwrap();
        let again = keys.open_ring(Algorithm::EdDSA, None, 1_001).await.unwrap();
        assert_eq!(again.with_signer(1_001, |k| k.kid.clone()), Some(first));
        let next = keys
            .rotate(Algorithm::ES256, None, 1_010, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(next.activate_at, 1_070);
        assert_eq!(
            names(&keys.statuses(1_010).await.unwrap()),
            ["current", "standby"]
        );
        assert_eq!(
            names(&keys.statuses(1_070).await.unwrap()),
            ["previous", "current"]
        );
        assert_eq!(
            names(&keys.statuses(1_170).await.unwrap()),
            ["retired", "current"]
        );
        assert!(keys.revoke(&next.kid, 1_170).await.is_err(), "signing now");
        keys.rotate(Algorithm::EdDSA, None, 1_170, Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(
            names(&keys.statuses(1_170).await.unwrap()),
            ["previous", "current"],
            "the retired key is deleted"
        );
        keys.revoke(&next.kid, 1_170).await.unwrap();
        assert_eq!(names(&keys.statuses(1_170).await.unwrap()), ["current"]);
    }

    #[tokio::test]
    async fn a_configured_key_seeds_an_empty_set_only() {
        let keys = key_set().await;
        let given = KeyPair::generate(Algorithm::EdDSA).unwrap();
        let kid = given.kid.clone();
        let ring = keys
            .open_ring(Algorithm::EdDSA, Some(given), 10)
            .await
            .unwrap();
        assert_eq!(ring.with_signer(10, |k| k.kid.clone()), Some(kid.clone()));
        let other = KeyPair::generate(Algorithm::EdDSA).unwrap();
        let ring = keys
            .open_ring(Algorithm::EdDSA, Some(other), 11)
            .await
            .unwrap();
        assert_eq!(
            ring.with_signer(11, |k| k.kid.clone()),
            Some(kid),
            "the set decides"
        );
    }

    #[tokio::test]
    async fn another_key_encryption_key_cannot_open_the_set() {
        let keys = key_set().await;
        keys.open_ring(Algorithm::ES256, None, 1).await.unwrap();
        let other = KeySet {
            kek: Arc::new(KeyEncryptionKey::from_secret(
                b"some other key-encryption key 012",
            )),
            ..keys
        };
        let error = other.load().await.err().unwrap().to_string();
        assert!(error.contains("KEYHOLD_KEY_ENCRYPTION_KEY"), "{error}");
    }
}
