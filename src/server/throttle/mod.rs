//! Throttling (OWASP ASVS 6.3.1, docs/security.md "Log-in" and "Floods"): every budget
//! a client spends, checked and reserved in one step before any work, so concurrent
//! attempts cannot all pass one check.
//!
//! - Log-in from a browser that signed in to the account before (a valid device cookie,
//!   `building_blocks/device_cookie.rs`): only that device's own bucket.
//! - Log-in from anywhere else: first a bucket per address whatever the name (so fresh
//!   names cannot each bring a new budget), then a bucket per account and address (IPv6
//!   by /64), and a per-account backoff whose wait doubles after a few failures (capped),
//!   so nobody can lock the owner out, who still signs in from a known device at once.
//! - A password re-entered to confirm a change: a bucket per account that only its
//!   signed-in sessions reach.
//! - Second-factor codes (at log-in or confirming a change): the per-account backoff of
//!   wrong passwords, on a key of its own.
//! - Signing in with a passkey: a bucket per address, spent by every ceremony started
//!   and every answer checked, forgiven by a success.
//! - Registration and profile changes per address; image uploads per account and per
//!   address; account recovery (forgot password, links followed, resent confirmations)
//!   per address.
//! - What a signed-in account makes the server keep or send, per account: passkey
//!   ceremonies it begins, and confirmation links it asks to be mailed (an address
//!   change, "Resend"): one a minute, and a daily budget.
//!
//! The state lives where every instance sees it: PostgreSQL when that is the store
//! (`store/sql/throttle.rs`), this process's memory for SQLite, which one instance owns.
//! Keys are stored as hashes, never as the e-mail or name typed. Both places keep at
//! most about [`Limits::max_keys`] states (issue 31 finding 5).

mod memory;
pub mod rules;

pub use memory::MemoryThrottle;
pub use rules::{RetryAfter, Rule};

use crate::server::building_blocks::digest::sha256_hex;
use crate::server::{building_blocks::clock::Clock, store::StoreError};
use async_trait::async_trait;
use std::{net::IpAddr, sync::Arc, time::Duration};

/// Where throttling state lives.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Applies `rule` to `key`'s state at `now_ms`, atomically: the verdict.
    async fn step(
        &self,
        key: &str,
        rule: Rule,
        now_ms: i64,
    ) -> Result<Result<(), RetryAfter>, StoreError>;
    /// Forgets `key` (after a success).
    async fn forget(&self, key: &str) -> Result<(), StoreError>;
    /// How many keys have a state (for the `keyhold_throttle_keys` gauge).
    async fn tracked_keys(&self) -> Result<u64, StoreError>;
}

/// Every budget, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Log-in attempts per address from unknown devices, whatever the name: spent
    /// first, and not given back by a success.
    pub login_from_address: Rule,
    /// Log-in failures per account and address from unknown devices.
    pub login_per_address: Rule,
    /// Consecutive log-in failures per account from unknown devices.
    pub login_per_account: Rule,
    /// Log-in failures per known device.
    pub login_per_device: Rule,
    /// Wrong passwords re-entered to confirm a change, per account.
    pub confirm: Rule,
    pub registration_per_address: Rule,
    pub profile_per_address: Rule,
    pub upload_per_account: Rule,
    pub upload_per_address: Rule,
    /// "Forgot password" requests, links followed and confirmations resent.
    pub recovery_per_address: Rule,
    /// Passkey sign-ins started or refused, per address.
    pub passkey_per_address: Rule,
    /// The most states kept: past it the least recently used (in memory) or the nearest
    /// to stepping like new (PostgreSQL) are dropped.
    pub max_keys: usize,
    /// Passkey ceremonies a signed-in account begins (registering one, confirming a
    /// change with one), per account.
    pub passkey_ceremony_per_account: Rule,
    /// Confirmation links an account asks to be mailed (a new address, "Resend"), per
    /// account, besides the fixed one a minute (`MAIL_EVERY`).
    pub address_mail_per_account: Rule,
}

/// Confirmation links an account asks for: never more than one a minute.
pub const MAIL_EVERY: Rule = Rule::Bucket {
    burst: 1,
    interval: Duration::from_secs(60),
};

impl Default for Limits {
    fn default() -> Self {
        let bucket = |burst, seconds| Rule::Bucket {
            burst,
            interval: Duration::from_secs(seconds),
        };
        Self {
            login_from_address: bucket(20, 3),
            login_per_address: bucket(5, 12),
            login_per_account: Rule::Backoff {
                free: 10,
                base: Duration::from_secs(1),
                cap: Duration::from_secs(300),
                quiet: Duration::from_secs(3600),
            },
            login_per_device: bucket(5, 12),
            confirm: bucket(5, 12),
            registration_per_address: bucket(10, 60),
            profile_per_address: bucket(20, 30),
            upload_per_account: bucket(10, 60),
            upload_per_address: bucket(30, 20),
            recovery_per_address: bucket(10, 60),
            passkey_per_address: bucket(10, 12),
            max_keys: 100_000,
            passkey_ceremony_per_account: bucket(10, 30),
            address_mail_per_account: bucket(10, 8640),
        }
    }
}

/// A budget spent on something other than logging in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Registration,
    ProfileChange,
    Upload {
        user_id: i64,
    },
    Recovery,
    /// A passkey ceremony begun from one of the account's sessions.
    PasskeyCeremony {
        user_id: i64,
    },
    /// A confirmation link the account asked to be mailed.
    AddressMail {
        user_id: i64,
    },
}

/// Who is trying to log in: the account (or the unknown name typed), from where, and
/// the device cookie's id if the browser proved it signed in to this account before.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub account: String,
    pub addr: IpAddr,
    pub device: Option<String>,
}

pub struct Throttle {
    store: Arc<dyn ThrottleStore>,
    limits: Limits,
    clock: Clock,
}

impl Throttle {
    pub fn new(store: Arc<dyn ThrottleStore>, limits: Limits, clock: Clock) -> Self {
        Self {
            store,
            limits,
            clock,
        }
    }

    /// Reserves a log-in attempt (counted as a failure until `login_succeeded`).
    pub async fn login(
        &self,
        attempt: &LoginAttempt,
    ) -> Result<Result<(), RetryAfter>, StoreError> {
        if let Some(device) = &attempt.device {
            return self
                .spend(&format!("device:{device}"), self.limits.login_per_device)
                .await;
        }
        // The address's budget first: a refused attempt creates no state for the name.
        let from = network(attempt.addr);
        let address = format!("login-from:{from}");
        if let Err(wait) = self.spend(&address, self.limits.login_from_address).await? {
            return Ok(Err(wait));
        }
        let here = format!("login:{}:{from}", attempt.account);
        if let Err(wait) = self.spend(&here, self.limits.login_per_address).await? {
            return Ok(Err(wait));
        }
        self.spend(
            &format!("account:{}", attempt.account),
            self.limits.login_per_account,
        )
        .await
    }

    /// A successful log-in forgives what its attempt was throttled on, except the
    /// address's budget: an account of one's own must not refill it.
    pub async fn login_succeeded(&self, attempt: &LoginAttempt) -> Result<(), StoreError> {
        if let Some(device) = &attempt.device {
            return self.forget(&format!("device:{device}")).await;
        }
        self.forget(&format!(
            "login:{}:{}",
            attempt.account,
            network(attempt.addr)
        ))
        .await?;
        self.forget(&format!("account:{}", attempt.account)).await
    }

    /// Forgets the failures counted against account `user_id` (after a password reset:
    /// the owner may log in at once with the new password).
    pub async fn forgive_account(&self, user_id: i64) -> Result<(), StoreError> {
        self.forget(&format!("account:user:{user_id}")).await
    }

    /// Reserves a password check confirming a change to account `user_id`.
    pub async fn confirm(&self, user_id: i64) -> Result<Result<(), RetryAfter>, StoreError> {
        self.spend(&format!("confirm:{user_id}"), self.limits.confirm)
            .await
    }

    pub async fn confirm_succeeded(&self, user_id: i64) -> Result<(), StoreError> {
        self.forget(&format!("confirm:{user_id}")).await
    }

    /// Reserves a second-factor check for account `user_id` (a code at log-in or to
    /// confirm a change): the same backoff as wrong passwords, on its own key, counted
    /// as a failure until `second_factor_succeeded`.
    pub async fn second_factor(&self, user_id: i64) -> Result<Result<(), RetryAfter>, StoreError> {
        self.spend(
            &format!("second-factor:{user_id}"),
            self.limits.login_per_account,
        )
        .await
    }

    pub async fn second_factor_succeeded(&self, user_id: i64) -> Result<(), StoreError> {
        self.forget(&format!("second-factor:{user_id}")).await
    }

    /// Reserves a passkey sign-in step from `addr` (counted until `passkey_succeeded`).
    pub async fn passkey(&self, addr: IpAddr) -> Result<Result<(), RetryAfter>, StoreError> {
        self.spend(
            &format!("passkey:{}", network(addr)),
            self.limits.passkey_per_address,
        )
        .await
    }

    /// A passkey sign-in succeeded: the address's budget is whole again.
    pub async fn passkey_succeeded(&self, addr: IpAddr) -> Result<(), StoreError> {
        self.forget(&format!("passkey:{}", network(addr))).await
    }

    /// Spends one of `action`'s budget from `addr`, or the account's (both, for uploads).
    pub async fn act(
        &self,
        action: Action,
        addr: IpAddr,
    ) -> Result<Result<(), RetryAfter>, StoreError> {
        let from = network(addr);
        match action {
            Action::Registration => {
                self.spend(
                    &format!("register:{from}"),
                    self.limits.registration_per_address,
                )
                .await
            }
            Action::Recovery => {
                self.spend(
                    &format!("recovery:{from}"),
                    self.limits.recovery_per_address,
                )
                .await
            }
            Action::ProfileChange => {
                self.spend(&format!("profile:{from}"), self.limits.profile_per_address)
                    .await
            }
            Action::Upload { user_id } => {
                if let Err(wait) = self
                    .spend(
                        &format!("upload-user:{user_id}"),
                        self.limits.upload_per_account,
                    )
                    .await?
                {
                    return Ok(Err(wait));
                }
                self.spend(
                    &format!("upload-addr:{from}"),
                    self.limits.upload_per_address,
                )
                .await
            }
            Action::PasskeyCeremony { user_id } => {
                self.spend(
                    &format!("passkey-ceremony:{user_id}"),
                    self.limits.passkey_ceremony_per_account,
                )
                .await
            }
            Action::AddressMail { user_id } => {
                // The minute first: a refusal there leaves the day's budget untouched.
                let minute = format!("address-mail-minute:{user_id}");
                if let Err(wait) = self.spend(&minute, MAIL_EVERY).await? {
                    return Ok(Err(wait));
                }
                let day = self
                    .spend(
                        &format!("address-mail-day:{user_id}"),
                        self.limits.address_mail_per_account,
                    )
                    .await?;
                if day.is_err() {
                    // No mail goes out: the minute stays as it was (a minute or more
                    // since the last one), so the next refusal says the day's wait.
                    self.forget(&minute).await?;
                }
                Ok(day)
            }
        }
    }

    /// How many keys have a state now.
    pub async fn tracked_keys(&self) -> Result<u64, StoreError> {
        self.store.tracked_keys().await
    }

    async fn spend(&self, key: &str, rule: Rule) -> Result<Result<(), RetryAfter>, StoreError> {
        self.store
            .step(&stored_key(key), rule, self.clock.now_ms())
            .await
    }

    async fn forget(&self, key: &str) -> Result<(), StoreError> {
        self.store.forget(&stored_key(key)).await
    }
}

/// The network an address stands for: itself for IPv4, its /64 for IPv6 (one
/// subscriber usually holds a whole /64, so single addresses would be free to rotate).
pub fn network(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// What is stored for a key: a hash, so no name or e-mail address is kept.
fn stored_key(key: &str) -> String {
    let mut hash = sha256_hex(key);
    hash.truncate(32);
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn ipv6_addresses_count_by_their_64_prefix() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:1:2:3".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(network(a), network(b));
        assert_ne!(network(a), network(c));
        let mapped = IpAddr::V6(Ipv6Addr::from([0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]));
        assert_eq!(network(mapped), "192.0.2.1");
    }

    #[tokio::test]
    async fn fresh_names_from_one_address_share_its_budget() {
        let throttle = Throttle::new(
            Arc::new(MemoryThrottle::new(1000)),
            Limits::default(),
            Clock::system(),
        );
        let attempt = |name: usize, addr: &str| LoginAttempt {
            account: format!("name:fresh{name}"),
            addr: addr.parse().unwrap(),
            device: None,
        };
        for name in 0..20 {
            let verdict = throttle.login(&attempt(name, "192.0.2.1")).await.unwrap();
            assert!(verdict.is_ok(), "attempt {name}");
        }
        let refused = throttle.login(&attempt(20, "192.0.2.1")).await.unwrap();
        assert_eq!(refused.map_err(RetryAfter::seconds), Err(3));
        // Nothing of the refused name was kept; another address has its own budget.
        assert_eq!(throttle.tracked_keys().await.unwrap(), 1 + 2 * 20);
        let elsewhere = throttle.login(&attempt(20, "192.0.2.2")).await.unwrap();
        assert!(elsewhere.is_ok());
    }

    #[tokio::test]
    async fn concurrent_guesses_cannot_all_pass_one_check() {
        let throttle = Arc::new(Throttle::new(
            Arc::new(MemoryThrottle::new(Limits::default().max_keys)),
            Limits::default(),
            Clock::system(),
        ));
        let attempt = LoginAttempt {
            account: "user:1".into(),
            addr: "192.0.2.1".parse().unwrap(),
            device: None,
        };
        let tasks: Vec<_> = (0..66)
            .map(|_| {
                let (throttle, attempt) = (throttle.clone(), attempt.clone());
                tokio::spawn(async move { throttle.login(&attempt).await.unwrap().is_ok() })
            })
            .collect();
        let mut passed = 0;
        for task in tasks {
            passed += usize::from(task.await.unwrap());
        }
        assert_eq!(passed, 5);
    }
}
