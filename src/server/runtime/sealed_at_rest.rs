//! At every start, before serving: checks `KEYHOLD_KEY_ENCRYPTION_KEY` against the
//! database (another key stops the start-up, naming the variable, before anything is
//! sealed under it), then seals what versions before migration 0015 stored readable:
//! authenticator secrets, active or waiting for their first code, and the bodies of
//! queued mail. SQL cannot seal, so this is where the upgrade finishes; once done, each
//! start only finds nothing left.

use crate::server::{
    building_blocks::{sealing::key_check, second_factors::totp_at_rest::TotpSecrets},
    mail::MailSeal,
    store::{SealedAtRestStore, StoreError},
};

#[derive(Debug, thiserror::Error)]
pub enum SealingError {
    #[error(
        "KEYHOLD_KEY_ENCRYPTION_KEY is not the key this database's secrets are sealed with \
         (every instance needs the same value; with SQLite and no variable, the one generated \
         into <data dir>/key-encryption-key)"
    )]
    WrongKey,
    #[error("cannot seal the secrets at rest: {0}")]
    Store(#[from] StoreError),
}

/// What was sealed at this start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sealed {
    pub authenticator_secrets: usize,
    pub queued_mail: usize,
}

/// Checks the key `secret` against the database, then seals the readable rows.
pub async fn seal_at_start(
    store: &dyn SealedAtRestStore,
    secret: &[u8],
    totp: &TotpSecrets,
    mail: &MailSeal,
) -> Result<Sealed, SealingError> {
    let stored = store.key_check(&key_check::new_value(secret)).await?;
    key_check::matches(secret, &stored).map_err(|_| SealingError::WrongKey)?;
    let mut sealed = Sealed::default();
    for (user_id, readable) in store.readable_totp_secrets().await? {
        let secret = totp.seal(user_id, &readable);
        if store.seal_totp_secret(user_id, &readable, &secret).await? {
            sealed.authenticator_secrets += 1;
        }
    }
    for queued in store.readable_mail().await? {
        let (text, html) = mail.sealed_bodies(&queued);
        if store.seal_mail(queued.id, &text, &html).await? {
            sealed.queued_mail += 1;
        }
    }
    if sealed != Sealed::default() {
        tracing::info!(
            authenticator_secrets = sealed.authenticator_secrets,
            queued_mail = sealed.queued_mail,
            "secrets stored readable by an earlier version are now sealed"
        );
    }
    Ok(sealed)
}
