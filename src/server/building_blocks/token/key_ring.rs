//! The keys tokens are signed and checked with, and where each is in its life at a given
//! time: standby (published, not signing yet), current (signing), previous (published
//! until every token it signed has expired), retired (gone). Which key signs follows
//! from each key's activation time alone, so every instance agrees without talking to
//! the others. HS256 secrets are kept here too, but never published.

use super::key_material::{algorithm_name, KeyPair};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use jsonwebtoken::{jwk::Jwk, Algorithm, DecodingKey, EncodingKey};
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};

/// A key's place in its life at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Standby,
    Current,
    Previous,
    Retired,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Self::Standby => "standby",
            Self::Current => "current",
            Self::Previous => "previous",
            Self::Retired => "retired",
        }
    }
}

/// One key of the ring.
pub struct RingKey {
    pub kid: String,
    pub alg: Algorithm,
    /// Unix time from which it signs (if no later key has taken over by then).
    pub activate_at: i64,
    pub(super) encoding: EncodingKey,
    pub(super) decoding: DecodingKey,
    /// An HMAC secret's state after absorbing the key, cloned for each token
    /// (`compact.rs`); `None` for a key pair.
    pub(super) mac: Option<Hmac<Sha256>>,
    /// The public key to publish; `None` for an HMAC secret.
    jwk: Option<Jwk>,
}

impl RingKey {
    /// An HS256 secret; its `kid` is derived from it (as before key sets existed).
    pub fn hmac(secret: &[u8], activate_at: i64) -> Self {
        let digest = Sha256::digest(secret);
        Self {
            kid: URL_SAFE_NO_PAD.encode(&digest[..9]),
            alg: Algorithm::HS256,
            activate_at,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            mac: Some(
                <Hmac<Sha256> as Mac>::new_from_slice(secret)
                    .expect("HMAC takes a key of any length"),
            ),
            jwk: None,
        }
    }

    /// An asymmetric key pair.
    pub fn published(pair: &KeyPair, activate_at: i64) -> Result<Self, super::KeyError> {
        Ok(Self {
            kid: pair.kid.clone(),
            alg: pair.alg,
            activate_at,
            encoding: pair.encoding_key(),
            decoding: pair.decoding_key()?,
            mac: None,
            jwk: Some(pair.jwk.clone()),
        })
    }
}

/// The keys, replaced whole when they are reloaded.
pub struct KeyRing {
    keys: RwLock<Arc<Vec<RingKey>>>,
    /// How long a key stays valid after a later one took over: the token lifetime, the
    /// clock leeway and the reload interval (an instance may sign with it that long).
    retain_secs: i64,
}

impl KeyRing {
    pub fn new(keys: Vec<RingKey>, retain_secs: i64) -> Self {
        let ring = Self {
            keys: RwLock::new(Arc::new(Vec::new())),
            retain_secs,
        };
        ring.replace(keys);
        ring
    }

    /// Puts `keys` in place of the ring's keys (ordered by activation, then `kid`).
    pub fn replace(&self, mut keys: Vec<RingKey>) {
        keys.sort_by(|a, b| (a.activate_at, &a.kid).cmp(&(b.activate_at, &b.kid)));
        let keys = Arc::new(keys);
        match self.keys.write() {
            Ok(mut guard) => *guard = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }

    fn snapshot(&self) -> Arc<Vec<RingKey>> {
        match self.keys.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Whether a key with this `kid` is in the ring, whatever its phase.
    pub fn contains(&self, kid: &str) -> bool {
        self.snapshot().iter().any(|key| key.kid == kid)
    }

    /// Runs `f` with the key that signs at `now`.
    pub fn with_signer<T>(&self, now: i64, f: impl FnOnce(&RingKey) -> T) -> Option<T> {
        let keys = self.snapshot();
        signer_index(&keys, now).map(|index| f(&keys[index]))
    }

    /// Runs `f` with the key `kid` if it may verify tokens at `now`.
    pub fn with_verifier<T>(
        &self,
        kid: &str,
        now: i64,
        f: impl FnOnce(&RingKey) -> T,
    ) -> Option<T> {
        let keys = self.snapshot();
        let index = keys.iter().position(|key| key.kid == kid)?;
        (phase(&keys, index, now, self.retain_secs) != Phase::Retired).then(|| f(&keys[index]))
    }

    /// Every key with its phase at `now`.
    pub fn phases(&self, now: i64) -> Vec<(String, Algorithm, Phase)> {
        let keys = self.snapshot();
        (0..keys.len())
            .map(|i| {
                let phase = phase(&keys, i, now, self.retain_secs);
                (keys[i].kid.clone(), keys[i].alg, phase)
            })
            .collect()
    }

    /// The public keys to publish at `now`: current first, then standby, then previous.
    /// HMAC secrets are never among them.
    pub fn published(&self, now: i64) -> Vec<Jwk> {
        let keys = self.snapshot();
        let mut published: Vec<(Phase, &Jwk)> = (0..keys.len())
            .filter_map(|i| {
                let phase = phase(&keys, i, now, self.retain_secs);
                let jwk = keys[i].jwk.as_ref()?;
                (phase != Phase::Retired).then_some((phase, jwk))
            })
            .collect();
        published.sort_by_key(|(phase, _)| match phase {
            Phase::Current => 0,
            Phase::Standby => 1,
            _ => 2,
        });
        published.into_iter().map(|(_, jwk)| jwk.clone()).collect()
    }

    /// The algorithms of the published keys at `now`.
    pub fn published_algorithms(&self, now: i64) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self
            .published(now)
            .iter()
            .filter_map(|jwk| jwk.common.key_algorithm)
            .map(|alg| match alg {
                jsonwebtoken::jwk::KeyAlgorithm::ES256 => algorithm_name(Algorithm::ES256),
                _ => algorithm_name(Algorithm::EdDSA),
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// The index of the key signing at `now`: the last one activated; the first one if none
/// is active yet (a key made by a clock a little ahead of this one).
fn signer_index(keys: &[RingKey], now: i64) -> Option<usize> {
    let active = keys.iter().rposition(|key| key.activate_at <= now);
    active.or(if keys.is_empty() { None } else { Some(0) })
}

/// The phase of `keys[index]` at `now`.
pub fn phase(keys: &[RingKey], index: usize, now: i64, retain_secs: i64) -> Phase {
    let signer = signer_index(keys, now);
    if signer == Some(index) {
        return Phase::Current;
    }
    if keys[index].activate_at > now {
        return Phase::Standby;
    }
    // Superseded when the next key (in activation order) became active.
    let superseded_at = keys
        .get(index + 1)
        .map_or(i64::MAX, |next| next.activate_at);
    if now < superseded_at.saturating_add(retain_secs) {
        Phase::Previous
    } else {
        Phase::Retired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(activations: &[i64], retain: i64) -> KeyRing {
        let keys = activations
            .iter()
            .map(|&at| RingKey::hmac(format!("secret number {at} of this ring").as_bytes(), at))
            .collect();
        KeyRing::new(keys, retain)
    }

    fn phase_names(ring: &KeyRing, now: i64) -> Vec<&'static str> {
        ring.phases(now)
            .into_iter()
            .map(|(_, _, p)| p.name())
            .collect()
    }

    #[test]
    fn a_key_goes_from_standby_to_current_to_previous_to_retired() {
        let ring = ring(&[100, 200], 50);
        assert_eq!(phase_names(&ring, 150), ["current", "standby"]);
        assert_eq!(phase_names(&ring, 200), ["previous", "current"]);
        assert_eq!(phase_names(&ring, 249), ["previous", "current"]);
        assert_eq!(phase_names(&ring, 250), ["retired", "current"]);
    }

    #[test]
    fn a_retired_key_no_longer_verifies_and_standby_keys_do() {
        let ring = ring(&[100, 200], 50);
        let old = ring.phases(0)[0].0.clone();
        let new = ring.phases(0)[1].0.clone();
        assert!(ring.with_verifier(&new, 150, |_| ()).is_some(), "standby");
        assert!(ring.with_verifier(&old, 249, |_| ()).is_some(), "previous");
        assert!(ring.with_verifier(&old, 250, |_| ()).is_none(), "retired");
        assert!(ring.with_verifier("unknown", 150, |_| ()).is_none());
        assert_eq!(ring.with_signer(150, |k| k.kid.clone()), Some(old));
        assert_eq!(ring.with_signer(200, |k| k.kid.clone()), Some(new));
    }

    #[test]
    fn hmac_secrets_are_never_published() {
        assert!(ring(&[0, 1], i64::MAX).published(5).is_empty());
    }
}
