//! Password hashing with argon2id, off the async runtime and with bounded concurrency.
//!
//! Hashing is deliberately slow and memory-hungry, so it runs off the async runtime on a
//! fixed set of hashing threads (one per core by default) at a lower OS priority: a
//! login storm queues hashes instead of starving other requests, and when the queue is
//! full callers get `HashError::Busy` (503 with `Retry-After`) at once rather than a
//! timeout.

mod hashing_threads;

use crate::server::building_blocks::load_shedding::Admission;
use crate::server::config::Argon2Cost;
use argon2::{
    password_hash::{PasswordHash, SaltString},
    Algorithm, Argon2, Params, Version,
};
use hashing_threads::{release_blocks, with_blocks, HashPool};
use std::{
    sync::{atomic::Ordering, Arc},
    time::Duration,
};

/// A hashing thread that has had nothing to do for this long gives its working memory
/// back to the operating system; under load it keeps it from one hash to the next.
const RELEASE_AFTER: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password hashes are waiting")]
    Busy,
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password matches; `needs_rehash` when the stored cost is below the current one.
    Match {
        needs_rehash: bool,
    },
    Mismatch,
}

/// Hashes and verifies passwords; cheap to share (`Arc` inside).
#[derive(Clone)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: Params,
    /// Callers holding or waiting for a slot: at most the slots plus the allowed queue.
    admission: Admission,
    /// Verified against when the user does not exist, so that case costs the same time.
    dummy_hash: String,
    pool: HashPool,
}

impl PasswordHasher {
    pub fn new(
        cost: Argon2Cost,
        concurrency: usize,
        max_waiting: usize,
    ) -> Result<Self, HashError> {
        Self::build(cost, concurrency, max_waiting, RELEASE_AFTER)
    }

    fn build(
        cost: Argon2Cost,
        concurrency: usize,
        max_waiting: usize,
        release_after: Duration,
    ) -> Result<Self, HashError> {
        let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
            .map_err(|e| HashError::Internal(e.to_string()))?;
        let dummy_hash = hash_with(&params, "keyhold dummy password for unknown users")?;
        // Computed on the caller's thread, which has no use for the memory afterwards.
        release_blocks();
        Ok(Self {
            inner: Arc::new(Inner {
                params,
                admission: Admission::new(concurrency.max(1) + max_waiting),
                dummy_hash,
                pool: HashPool::new(concurrency.max(1), release_after)?,
            }),
        })
    }

    /// Bytes of argon2 working memory the hashing threads hold right now.
    pub fn working_memory(&self) -> usize {
        self.inner.pool.held.load(Ordering::Relaxed)
    }

    /// Hashes `password` into a PHC string (algorithm and cost travel with the hash).
    /// Hashes running or waiting for a thread now.
    pub fn in_flight(&self) -> usize {
        self.inner.admission.inside()
    }

    pub async fn hash(&self, password: String) -> Result<String, HashError> {
        let params = self.inner.params.clone();
        self.run(move || hash_with(&params, &password)).await?
    }

    /// Checks `password` against `stored`; with no stored hash (unknown user) it checks a
    /// dummy hash and reports a mismatch, taking the same time.
    pub async fn verify(
        &self,
        password: String,
        stored: Option<String>,
    ) -> Result<Verification, HashError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.inner.dummy_hash.clone());
        let params = self.inner.params.clone();
        let verification = self
            .run(move || verify_with(&params, &password, &stored))
            .await?;
        Ok(if known {
            verification
        } else {
            Verification::Mismatch
        })
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let Some(_admitted) = self.inner.admission.enter() else {
            metrics::counter!("keyhold_password_hashes_shed_total").increment(1);
            return Err(HashError::Busy);
        };
        self.inner.pool.run(work).await
    }
}

fn argon2(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

/// The raw argon2 output of `password` with `salt`, in reused memory.
fn compute(
    argon2: &Argon2<'_>,
    params: &Params,
    password: &str,
    salt: &argon2::password_hash::Salt<'_>,
    output_len: usize,
) -> Result<argon2::password_hash::Output, HashError> {
    let internal = |e: &dyn std::fmt::Display| HashError::Internal(e.to_string());
    let mut salt_buffer = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buffer)
        .map_err(|e| internal(&e))?;
    argon2::password_hash::Output::init_with(output_len, |out| {
        with_blocks(params.block_count(), |blocks| {
            argon2.hash_password_into_with_memory(password.as_bytes(), salt, out, blocks)
        })
        .map_err(Into::into)
    })
    .map_err(|e| internal(&e))
}

fn hash_with(params: &Params, password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    let output = compute(
        &argon2(params),
        params,
        password,
        &salt.as_salt(),
        Params::DEFAULT_OUTPUT_LEN,
    )?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params
            .try_into()
            .map_err(|e: argon2::password_hash::Error| HashError::Internal(e.to_string()))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

fn verify_with(params: &Params, password: &str, stored: &str) -> Verification {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verification::Mismatch;
    };
    // Verification uses the algorithm and parameters stored in the hash.
    let matches = (|| {
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        let stored_params = Params::try_from(&parsed).ok()?;
        let (salt, expected) = (parsed.salt?, parsed.hash?);
        let argon2 = Argon2::new(algorithm, version, stored_params.clone());
        let computed = compute(&argon2, &stored_params, password, &salt, expected.len()).ok()?;
        // `Output` compares in constant time.
        Some(computed == expected)
    })()
    .unwrap_or(false);
    if !matches {
        return Verification::Mismatch;
    }
    Verification::Match {
        needs_rehash: below_cost(&parsed, params),
    }
}

/// Whether a stored hash was made with a weaker algorithm or cost than `params`.
fn below_cost(hash: &PasswordHash<'_>, params: &Params) -> bool {
    if hash.algorithm != Algorithm::Argon2id.ident() {
        return true;
    }
    match Params::try_from(hash) {
        Ok(stored) => {
            stored.m_cost() < params.m_cost()
                || stored.t_cost() < params.t_cost()
                || stored.p_cost() < params.p_cost()
        }
        Err(_) => true,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reused_memory_hashes_match_the_reference_implementation() {
        use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
        let params = Params::new(1024, 1, 1, None).unwrap();
        let ours = hash_with(&params, "same password").unwrap();
        argon2(&params)
            .verify_password(b"same password", &PasswordHash::new(&ours).unwrap())
            .expect("the reference accepts our hash");
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        let theirs = argon2(&params)
            .hash_password(b"same password", &salt)
            .unwrap()
            .to_string();
        assert_eq!(
            verify_with(&params, "same password", &theirs),
            Verification::Match {
                needs_rehash: false
            }
        );
        assert_eq!(
            verify_with(&params, "other password", &theirs),
            Verification::Mismatch
        );
    }

    use super::*;

    fn cheap() -> Argon2Cost {
        Argon2Cost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        }
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = PasswordHasher::new(cheap(), 2, 8).unwrap();
        let hash = hasher.hash("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(!hash.contains("correct horse"));
        let ok = hasher
            .verify("correct horse battery".into(), Some(hash.clone()))
            .await;
        assert_eq!(
            ok.unwrap(),
            Verification::Match {
                needs_rehash: false
            }
        );
        let wrong = hasher
            .verify("correct horse batterY".into(), Some(hash))
            .await;
        assert_eq!(wrong.unwrap(), Verification::Mismatch);
    }

    #[tokio::test]
    async fn default_cost_is_owasp_minimum() {
        let hasher = PasswordHasher::new(Argon2Cost::default(), 1, 1).unwrap();
        let hash = hasher.hash("some password here".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }

    #[tokio::test]
    async fn unknown_user_never_matches() {
        let hasher = PasswordHasher::new(cheap(), 1, 8).unwrap();
        let dummy = hasher.inner.dummy_hash.clone();
        let result = hasher
            .verify("keyhold dummy password for unknown users".into(), None)
            .await;
        assert_eq!(result.unwrap(), Verification::Mismatch);
        assert!(dummy.starts_with("$argon2id$"));
    }

    #[tokio::test]
    async fn weaker_hashes_need_rehash() {
        let weak = PasswordHasher::new(cheap(), 1, 8).unwrap();
        let hash = weak.hash("a long enough password".into()).await.unwrap();
        let strong = PasswordHasher::new(
            Argon2Cost {
                memory_kib: 2048,
                ..cheap()
            },
            1,
            8,
        )
        .unwrap();
        let result = strong
            .verify("a long enough password".into(), Some(hash))
            .await;
        assert_eq!(result.unwrap(), Verification::Match { needs_rehash: true });
    }

    #[tokio::test]
    async fn garbage_hash_is_a_mismatch() {
        let hasher = PasswordHasher::new(cheap(), 1, 8).unwrap();
        let result = hasher
            .verify("x".into(), Some("not a phc string".into()))
            .await;
        assert_eq!(result.unwrap(), Verification::Mismatch);
    }

    #[tokio::test]
    async fn idle_threads_give_their_memory_back() {
        let release_after = Duration::from_millis(200);
        let hasher = PasswordHasher::build(cheap(), 2, 4, release_after).unwrap();
        assert_eq!(hasher.working_memory(), 0);
        let hashes =
            futures::future::join_all((0..4).map(|i| hasher.hash(format!("password number {i}"))))
                .await;
        assert!(hashes.iter().all(Result::is_ok));
        // One or both threads hashed, and each kept its 1 MiB for the next hash.
        let held = hasher.working_memory();
        assert!(
            held == 1024 * 1024 || held == 2 * 1024 * 1024,
            "held {held} bytes"
        );
        // Nothing to do for longer than `release_after`: all of it goes back.
        tokio::time::sleep(release_after * 3).await;
        assert_eq!(hasher.working_memory(), 0);
        // And the next hash still works (allocating again).
        let hash = hasher.hash("one more password".into()).await.unwrap();
        assert!(matches!(
            hasher.verify("one more password".into(), Some(hash)).await,
            Ok(Verification::Match { .. })
        ));
    }

    #[tokio::test]
    async fn full_queue_answers_busy() {
        let hasher = PasswordHasher::new(cheap(), 1, 1).unwrap();
        let running = hasher.inner.admission.enter().unwrap();
        let queued = hasher.inner.admission.enter().unwrap();
        // One slot and one place in the queue are taken: the next caller is turned away.
        assert!(hasher.inner.admission.enter().is_none());
        let busy = hasher.hash("whatever password".into()).await;
        assert!(matches!(busy, Err(HashError::Busy)));
        drop((running, queued));
        assert!(hasher.hash("whatever password".into()).await.is_ok());
    }
}
