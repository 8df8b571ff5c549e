//! The stores `CachedStore` does not cache: every call goes to the SQL store as it is
//! (none of them changes a cached user or session row).

use super::CachedStore;
use crate::server::store::{
    ActivityStore, Ceremony, LinkStore, MailStore, MfaChallenge, NewEvent, NewPasskey, OneTimeLink,
    PasskeyStore, QueuedMail, Recorded, SecondFactorStore, StoreError, StoredEvent, StoredPasskey,
    TotpFactor,
};
use async_trait::async_trait;

#[async_trait]
impl ActivityStore for CachedStore {
    async fn record_event(&self, event: NewEvent<'_>) -> Result<Recorded, StoreError> {
        self.inner.record_event(event).await
    }
    async fn events(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.events(user_id, before, limit).await
    }
    async fn prune_events(&self, cutoff: i64) -> Result<u64, StoreError> {
        self.inner.prune_events(cutoff).await
    }
}

#[async_trait]
impl LinkStore for CachedStore {
    async fn issue_link(
        &self,
        link: &OneTimeLink,
        not_since: Option<i64>,
    ) -> Result<bool, StoreError> {
        self.inner.issue_link(link, not_since).await
    }
    async fn has_live_link(
        &self,
        user_id: i64,
        purpose: &'static str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.inner.has_live_link(user_id, purpose, now).await
    }
    async fn find_link(
        &self,
        hash: &str,
        purpose: &'static str,
    ) -> Result<Option<OneTimeLink>, StoreError> {
        self.inner.find_link(hash, purpose).await
    }
    async fn take_link(
        &self,
        hash: &str,
        purpose: &'static str,
    ) -> Result<Option<OneTimeLink>, StoreError> {
        self.inner.take_link(hash, purpose).await
    }
}

#[async_trait]
impl MailStore for CachedStore {
    async fn enqueue_mail(&self, mail: &QueuedMail) -> Result<(), StoreError> {
        self.inner.enqueue_mail(mail).await
    }
    async fn claim_mail(
        &self,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<QueuedMail>, StoreError> {
        self.inner.claim_mail(now, lease_until).await
    }
    async fn mail_sent(&self, id: i64) -> Result<(), StoreError> {
        self.inner.mail_sent(id).await
    }
    async fn mail_failed(&self, id: i64, retry_at: i64, error: &str) -> Result<(), StoreError> {
        self.inner.mail_failed(id, retry_at, error).await
    }
    async fn mail_queue_depth(&self) -> Result<i64, StoreError> {
        self.inner.mail_queue_depth().await
    }
}

/// Second factors are read from the database each time (only log-ins and changes need
/// them).
#[async_trait]
impl SecondFactorStore for CachedStore {
    async fn totp_factor(&self, user_id: i64) -> Result<Option<TotpFactor>, StoreError> {
        self.inner.totp_factor(user_id).await
    }
    async fn set_pending_totp(
        &self,
        user_id: i64,
        secret: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.inner.set_pending_totp(user_id, secret, now).await
    }
    async fn activate_totp(
        &self,
        user_id: i64,
        step: i64,
        now: i64,
        recovery_hashes: &[String],
    ) -> Result<bool, StoreError> {
        self.inner
            .activate_totp(user_id, step, now, recovery_hashes)
            .await
    }
    async fn accept_totp_step(&self, user_id: i64, step: i64) -> Result<bool, StoreError> {
        self.inner.accept_totp_step(user_id, step).await
    }
    async fn totp_code_failed(&self, user_id: i64) -> Result<i64, StoreError> {
        self.inner.totp_code_failed(user_id).await
    }
    async fn clear_totp_failures(&self, user_id: i64) -> Result<(), StoreError> {
        self.inner.clear_totp_failures(user_id).await
    }
    async fn remove_totp(&self, user_id: i64) -> Result<(), StoreError> {
        self.inner.remove_totp(user_id).await
    }
    async fn recovery_code_hashes(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        self.inner.recovery_code_hashes(user_id).await
    }
    async fn use_recovery_code(
        &self,
        user_id: i64,
        hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.inner.use_recovery_code(user_id, hash, now).await
    }
    async fn replace_recovery_codes(
        &self,
        user_id: i64,
        hashes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        self.inner
            .replace_recovery_codes(user_id, hashes, now)
            .await
    }
    async fn create_mfa_challenge(&self, challenge: &MfaChallenge) -> Result<(), StoreError> {
        self.inner.create_mfa_challenge(challenge).await
    }
    async fn mfa_challenge(&self, token_hash: &str) -> Result<Option<MfaChallenge>, StoreError> {
        self.inner.mfa_challenge(token_hash).await
    }
    async fn mfa_challenge_failed(&self, token_hash: &str) -> Result<i64, StoreError> {
        self.inner.mfa_challenge_failed(token_hash).await
    }
    async fn take_mfa_challenge(
        &self,
        token_hash: &str,
    ) -> Result<Option<MfaChallenge>, StoreError> {
        self.inner.take_mfa_challenge(token_hash).await
    }
}

/// Passkeys are not cached (they are read once per ceremony), and writing them changes
/// no user or session row: every call goes to the database.
#[async_trait]
impl PasskeyStore for CachedStore {
    async fn passkeys(&self, user_id: i64) -> Result<Vec<StoredPasskey>, StoreError> {
        self.inner.passkeys(user_id).await
    }
    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        self.inner.passkey_by_credential(credential_id).await
    }
    async fn add_passkey(&self, passkey: NewPasskey<'_>) -> Result<StoredPasskey, StoreError> {
        self.inner.add_passkey(passkey).await
    }
    async fn rename_passkey(
        &self,
        user_id: i64,
        id: i64,
        name: &str,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        self.inner.rename_passkey(user_id, id, name).await
    }
    async fn remove_passkey(
        &self,
        user_id: i64,
        id: i64,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        self.inner.remove_passkey(user_id, id).await
    }
    async fn remove_passkeys(&self, user_id: i64) -> Result<u64, StoreError> {
        self.inner.remove_passkeys(user_id).await
    }
    async fn passkey_used(
        &self,
        id: i64,
        credential: &str,
        sign_count: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.inner
            .passkey_used(id, credential, sign_count, now)
            .await
    }
    async fn begin_ceremony(&self, id_hash: &str, ceremony: &Ceremony) -> Result<(), StoreError> {
        self.inner.begin_ceremony(id_hash, ceremony).await
    }
    async fn take_ceremony(
        &self,
        id_hash: &str,
        purpose: &'static str,
    ) -> Result<Option<Ceremony>, StoreError> {
        self.inner.take_ceremony(id_hash, purpose).await
    }
}
