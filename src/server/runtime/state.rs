//! The application state, built once at start-up and shared with every request.

use crate::api::ApiError;
use crate::server::{
    accounts::{Accounts, Parts},
    building_blocks::{
        clock::Clock,
        device_cookie::DeviceCookies,
        images::ImageProcessor,
        low_priority_threads::WorkerError,
        password::{HashError, PasswordHasher},
        relying_party::RelyingParty,
        second_factors::totp_at_rest::TotpSecrets,
        session_cookie::SessionCookies,
        token::{
            key_rotation::{KeySet, KeySetError},
            KeyError, SecretError, TokenService,
        },
        validation::PasswordPolicy,
    },
    config::{
        secrets::{load_or_create_jwt_secret, load_or_create_key_encryption_key, SecretFileError},
        Config,
    },
    edge::{client_address::ClientAddressPolicy, cookie::CookiePolicy},
    mail::{start_delivery, MailSeal, Mailer, RetryPolicy, Sender, Transport},
    runtime::sealed_at_rest::{seal_at_start, SealingError},
    store::{
        follow_external_changes, CachedStore, DatabaseOptions, SqlStore, SqlThrottle, Store,
        StoreError,
    },
    throttle::{MemoryThrottle, Throttle, ThrottleStore},
};
use axum::extract::FromRef;
use leptos::prelude::{use_context, LeptosOptions};
use secrecy::ExposeSecret;
use std::{sync::Arc, time::Duration};

/// A message still unsent this long after it was queued is dropped.
const MAIL_GIVE_UP_AFTER: Duration = Duration::from_secs(3 * 86_400);
/// How often old security activity is removed.
const PRUNE_ACTIVITY_EVERY: Duration = Duration::from_secs(3_600);
/// How often a SQLite server checks whether `keyhold admin` wrote to its database.
const EXTERNAL_CHANGES_EVERY: Duration = Duration::from_secs(1);

/// A cheap handle: every request clones it (axum's state, the server-function
/// context), so it is one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    /// The time the rules see (tests move it forward).
    pub clock: Clock,
    pub leptos_options: LeptosOptions,
    pub accounts: Accounts,
    /// The refresh cookie's attributes and who may use it.
    pub cookies: CookiePolicy,
    /// Where the client address comes from behind proxies (else the socket).
    pub client_address: ClientAddressPolicy,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// leptos_axum's file and error handlers take the options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    SecretFile(#[from] SecretFileError),
    #[error("the signing keys: {0}")]
    KeySet(#[from] KeySetError),
    #[error("KEYHOLD_JWT_PRIVATE_KEY: {0}")]
    PrivateKey(#[from] KeyError),
    #[error(transparent)]
    Sealing(#[from] SealingError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Threads(#[from] WorkerError),
    #[error("{0}")]
    Mail(String),
}

impl AppState {
    pub async fn build(
        config: &Config,
        leptos_options: LeptosOptions,
    ) -> Result<Self, StartupError> {
        let store = connect_with_retry(config).await?;
        let secret = load_or_create_jwt_secret(config.jwt_secret.as_ref(), &config.data_dir)?;
        let clock = Clock::system();
        let tokens = token_service(config, &store, &clock, secret.expose_secret()).await?;
        // After the signing keys opened (a wrong key stops there first, before the check
        // below is stored with it on a database that has none yet).
        let key_encryption_key = load_or_create_key_encryption_key(
            config.key_encryption_key.as_ref(),
            &config.data_dir,
        )?;
        let kek = key_encryption_key.expose_secret();
        let totp_secrets = TotpSecrets::new(kek);
        let mail_seal = Arc::new(MailSeal::new(kek));
        seal_at_start(&store, kek, &totp_secrets, &mail_seal).await?;
        let hasher =
            PasswordHasher::new(config.argon2, config.hash_concurrency, config.hash_queue)?;
        let policy = PasswordPolicy {
            min_chars: config.password_min_chars,
            max_chars: config.password_max_chars,
        };
        // Throttling state where every instance sees it: PostgreSQL serves several,
        // a SQLite file belongs to this one process.
        let max_keys = config.throttle.max_keys;
        let throttle_store: Arc<dyn ThrottleStore> = if store.is_sqlite() {
            Arc::new(MemoryThrottle::new(max_keys))
        } else {
            Arc::new(SqlThrottle::new(store.clone(), max_keys))
        };
        let throttle = Throttle::new(throttle_store, config.throttle, clock.clone());
        let devices = DeviceCookies::new(secret.expose_secret());
        let session_cookies = SessionCookies::new(secret.expose_secret());
        let images = ImageProcessor::new(config.image_uploads)?;
        // SQLite belongs to this process (and the admin command line, which says when
        // it wrote): user rows can be cached safely.
        let store: Arc<dyn Store> = if store.is_sqlite() {
            let cached = Arc::new(CachedStore::new(Arc::new(store.clone())));
            follow_external_changes(Arc::downgrade(&cached), store, EXTERNAL_CHANGES_EVERY);
            cached
        } else {
            Arc::new(store)
        };
        let wake = Arc::new(tokio::sync::Notify::new());
        let transport = Transport::new(
            config.mail.smtp_url.as_ref().map(|url| url.expose_secret()),
            &config.mail.from,
            &config.data_dir,
        )
        .map_err(StartupError::Mail)?;
        let retry = RetryPolicy {
            base: config.mail.retry_base,
            give_up_after: MAIL_GIVE_UP_AFTER,
        };
        let sender = Sender {
            transport,
            seal: mail_seal.clone(),
        };
        start_delivery(&store, sender, wake.clone(), clock.clone(), retry);
        let relying_party = RelyingParty::from_public_url(&config.mail.public_url);
        if let Err(why) = &relying_party {
            tracing::warn!(reason = %why, "passkeys are unavailable");
        }
        let accounts = Accounts::new(Parts {
            clock: clock.clone(),
            store,
            hasher,
            tokens,
            policy,
            throttle,
            devices,
            session_cookies,
            images,
            sessions: config.sessions,
            mailer: Mailer::new(&config.mail.public_url, mail_seal, wake),
            totp_secrets,
            require_verified_email: config.mail.require_verified_email,
            relying_party,
        });
        let state = Self(Arc::new(Shared {
            clock,
            leptos_options,
            accounts,
            cookies: CookiePolicy {
                secure: config.cookie_secure,
                allowed_origins: config.allowed_origins.clone(),
            },
            client_address: ClientAddressPolicy {
                header: config
                    .client_ip_header
                    .as_deref()
                    .and_then(|h| http::HeaderName::from_bytes(h.as_bytes()).ok()),
                trusted_hops: config.trusted_proxy_hops,
                trusted_proxies: config.trusted_proxies.clone(),
            },
        }));
        state.prune_activity_in_background(config.audit_retention);
        Ok(state)
    }

    /// Removes activity entries older than `retention` now and every hour, until the
    /// state is dropped.
    fn prune_activity_in_background(&self, retention: Duration) {
        let state = Arc::downgrade(&self.0);
        tokio::spawn(async move {
            loop {
                let Some(shared) = state.upgrade() else {
                    return;
                };
                match shared.accounts.prune_activity(retention).await {
                    Ok(0) => {}
                    Ok(pruned) => tracing::info!(pruned, "old security activity removed"),
                    Err(e) => tracing::warn!(reason = %e, "cannot prune security activity"),
                }
                drop(shared);
                tokio::time::sleep(PRUNE_ACTIVITY_EVERY).await;
            }
        });
    }

    /// The state, inside a server function.
    pub fn from_context() -> Result<Self, ApiError> {
        use_context::<Self>().ok_or_else(|| ApiError::for_status(500))
    }
}

/// Access tokens as configured: HS256 with the shared secret, or the published keys
/// kept in the database (reloaded in the background).
async fn token_service(
    config: &Config,
    store: &SqlStore,
    clock: &Clock,
    secret: &[u8],
) -> Result<TokenService, StartupError> {
    if !config.publishes_keys() {
        let previous = config
            .jwt_previous_secret
            .as_ref()
            .map(|previous| previous.expose_secret().as_bytes());
        return Ok(TokenService::new(
            clock.clone(),
            secret,
            previous,
            &config.jwt_issuer,
            &config.jwt_audience,
            config.token_ttl,
        )?);
    }
    let keys = KeySet::from_config(config, Arc::new(store.clone()))?;
    let initial = KeySet::configured_key(config)?;
    let ring = keys.open_ring(config.jwt_alg, initial, clock.now()).await?;
    let unknown_kid = Arc::new(tokio::sync::Notify::new());
    keys.reload_in_background(
        Arc::downgrade(&ring),
        config.jwt_keys_reload,
        unknown_kid.clone(),
    );
    Ok(TokenService::with_keys(
        clock.clone(),
        ring,
        Some(unknown_kid),
        &config.jwt_issuer,
        &config.jwt_audience,
        config.token_ttl,
    ))
}

/// Waits for the database with exponential backoff (up to `db_connect_timeout`), so an
/// instance started before its database comes up instead of crashing.
pub async fn connect_with_retry(config: &Config) -> Result<SqlStore, StoreError> {
    let options = DatabaseOptions {
        url: config.database_url.expose_secret().to_owned(),
        pool_size: config.db_pool_size,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: config.db_statement_timeout,
    };
    let deadline = tokio::time::Instant::now() + config.db_connect_timeout;
    let mut delay = Duration::from_millis(250);
    loop {
        match SqlStore::connect(&options).await {
            Ok(store) => return Ok(store),
            Err(e) if e.is_unavailable() && tokio::time::Instant::now() < deadline => {
                let wait = delay.min(deadline - tokio::time::Instant::now());
                tracing::warn!(reason = %e, retry_in_ms = wait.as_millis() as u64, "database not reachable yet");
                tokio::time::sleep(wait).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}
