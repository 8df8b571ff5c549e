//! Configuration, read once from the environment; every default is the safe value.

mod limits;
mod mail;
pub mod secrets;
mod token_keys;

use crate::server::building_blocks::token::key_material::parse_algorithm;
pub use mail::MailConfig;

use crate::server::{
    building_blocks::{images::UploadCapacity, session_policy::SessionPolicy},
    runtime::telemetry::LogFormat,
    throttle::Limits,
};
use secrecy::SecretString;
use std::{path::PathBuf, str::FromStr, time::Duration};

/// argon2id cost parameters (OWASP minimum by default: 19 MiB, 2 passes, 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for Argon2Cost {
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// Everything the server can be told from outside.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    /// May hold a password: never printed.
    pub database_url: SecretString,
    pub db_pool_size: u32,
    /// How long start-up waits for the database before giving up.
    pub db_connect_timeout: Duration,
    pub db_statement_timeout: Duration,
    pub jwt_secret: Option<SecretString>,
    pub jwt_previous_secret: Option<SecretString>,
    /// `HS256` (the shared secret) or `EdDSA` / `ES256` (published keys).
    pub jwt_alg: jsonwebtoken::Algorithm,
    /// The first published key (PKCS#8 PEM); generated when not given.
    pub jwt_private_key: Option<SecretString>,
    /// Seals the published keys' private parts in the database.
    pub key_encryption_key: Option<SecretString>,
    /// How long `keyhold keys rotate` publishes a new key before it signs.
    pub jwt_key_promote_after: Duration,
    /// How often each instance reloads the published keys from the database.
    pub jwt_keys_reload: Duration,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    /// Lifetime of access tokens (short: the refresh cookie renews them).
    pub token_ttl: Duration,
    pub sessions: SessionPolicy,
    /// Mark the refresh cookie `Secure` with the `__Host-` prefix. Only plain-http
    /// development off localhost needs `false`.
    pub cookie_secure: bool,
    /// Origins allowed to call the cookie endpoints (refresh, logout), e.g.
    /// `https://keyhold.example`; when empty, the request's own `Host`.
    pub allowed_origins: Vec<String>,
    pub argon2: Argon2Cost,
    /// Hashes computed at once (default: the number of cores).
    pub hash_concurrency: usize,
    /// Hashes allowed to wait for a slot before new ones get 503.
    pub hash_queue: usize,
    pub password_min_chars: usize,
    pub password_max_chars: usize,
    /// Largest accepted JSON or form body, in bytes.
    pub body_limit: usize,
    /// Largest accepted image upload, bytes.
    pub image_limit: usize,
    /// Image uploads received and processed at once, waiting, and decoding threads: the
    /// memory uploads hold is at most slots × `image_limit` plus threads × one decode.
    pub image_uploads: UploadCapacity,
    /// Every throttling budget (`throttle/`).
    pub throttle: Limits,
    /// Header holding the client address when behind a trusted proxy (e.g.
    /// `x-forwarded-for`); the socket address otherwise.
    pub client_ip_header: Option<String>,
    /// How many trusted proxies append to that header: the client is that many entries
    /// from the right (everything further left, the client wrote itself).
    pub trusted_proxy_hops: usize,
    /// The addresses the header is believed from (the proxies in front, as CIDR
    /// ranges); a request from anywhere else is known by its socket address.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Send `Strict-Transport-Security` (only when served over TLS).
    pub hsts: bool,
    /// Longest a client may take to send its request headers.
    pub header_timeout: Duration,
    /// Longest a client may take to send a request body.
    pub body_timeout: Duration,
    /// Where Prometheus metrics are served (`GET /metrics`); none: metrics are off.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// How long security activity entries are kept.
    pub audit_retention: Duration,
    /// The log's format (`KEYHOLD_LOG_FORMAT`, read by `telemetry::init` too).
    pub log_format: LogFormat,
    pub mail: MailConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let data_dir = PathBuf::from(get("KEYHOLD_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = get("DATABASE_URL").unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("keyhold.db").display()
            )
        });
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let hash_concurrency = parse(&get, "KEYHOLD_HASH_CONCURRENCY", cores)?;
        let mail = mail::mail(&get)?;
        // Served over https (the public URL says so): browsers should never try http.
        let https = mail.public_url.starts_with("https://");
        let config = Self {
            data_dir,
            database_url: database_url.into(),
            db_pool_size: parse(&get, "KEYHOLD_DB_POOL_SIZE", 10)?,
            db_connect_timeout: Duration::from_secs(parse(&get, "KEYHOLD_DB_CONNECT_TIMEOUT", 30)?),
            db_statement_timeout: Duration::from_secs(parse(
                &get,
                "KEYHOLD_DB_STATEMENT_TIMEOUT",
                5,
            )?),
            jwt_secret: get("KEYHOLD_JWT_SECRET").map(SecretString::from),
            jwt_previous_secret: get("KEYHOLD_JWT_PREVIOUS_SECRET").map(SecretString::from),
            jwt_alg: match get("KEYHOLD_JWT_ALG") {
                None => jsonwebtoken::Algorithm::HS256,
                Some(text) => parse_algorithm(&text).ok_or_else(|| ConfigError::Invalid {
                    name: "KEYHOLD_JWT_ALG",
                    reason: format!("{text:?} is not HS256, EdDSA or ES256"),
                })?,
            },
            jwt_private_key: get("KEYHOLD_JWT_PRIVATE_KEY").map(SecretString::from),
            key_encryption_key: get("KEYHOLD_KEY_ENCRYPTION_KEY").map(SecretString::from),
            jwt_key_promote_after: duration(
                &get,
                "KEYHOLD_JWT_KEY_PROMOTE_AFTER",
                Duration::from_secs(20 * 60),
            )?,
            jwt_keys_reload: duration(&get, "KEYHOLD_JWT_KEYS_RELOAD", Duration::from_secs(30))?,
            jwt_issuer: get("KEYHOLD_JWT_ISSUER").unwrap_or_else(|| "keyhold".into()),
            jwt_audience: get("KEYHOLD_JWT_AUDIENCE").unwrap_or_else(|| "keyhold-api".into()),
            token_ttl: duration(&get, "KEYHOLD_TOKEN_TTL", Duration::from_secs(15 * 60))?,
            sessions: SessionPolicy {
                idle: duration(&get, "KEYHOLD_SESSION_IDLE", SessionPolicy::default().idle)?,
                lifetime: duration(
                    &get,
                    "KEYHOLD_SESSION_LIFETIME",
                    SessionPolicy::default().lifetime,
                )?,
                grace: duration(
                    &get,
                    "KEYHOLD_REFRESH_GRACE",
                    SessionPolicy::default().grace,
                )?,
                max_per_user: parse(
                    &get,
                    "KEYHOLD_SESSIONS_PER_USER",
                    SessionPolicy::default().max_per_user,
                )?,
            },
            cookie_secure: parse(&get, "KEYHOLD_COOKIE_SECURE", true)?,
            allowed_origins: get("KEYHOLD_PUBLIC_ORIGIN")
                .map(|list| {
                    list.split(',')
                        .map(|origin| origin.trim().trim_end_matches('/').to_ascii_lowercase())
                        .filter(|origin| !origin.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            argon2: Argon2Cost {
                memory_kib: parse(&get, "KEYHOLD_ARGON2_MEMORY_KIB", 19_456)?,
                iterations: parse(&get, "KEYHOLD_ARGON2_ITERATIONS", 2)?,
                parallelism: parse(&get, "KEYHOLD_ARGON2_PARALLELISM", 1)?,
            },
            hash_concurrency,
            hash_queue: parse(&get, "KEYHOLD_HASH_QUEUE", hash_concurrency * 32)?,
            password_min_chars: parse(&get, "KEYHOLD_PASSWORD_MIN_LENGTH", 15)?,
            password_max_chars: parse(&get, "KEYHOLD_PASSWORD_MAX_LENGTH", 256)?,
            body_limit: parse(&get, "KEYHOLD_BODY_LIMIT", 16 * 1024)?,
            image_limit: parse(&get, "KEYHOLD_IMAGE_LIMIT", 5 * 1024 * 1024)?,
            image_uploads: UploadCapacity {
                slots: parse(&get, "KEYHOLD_IMAGE_SLOTS", 8)?,
                queue: parse(&get, "KEYHOLD_IMAGE_QUEUE", 8)?,
                threads: parse(&get, "KEYHOLD_IMAGE_THREADS", cores.min(2))?,
            },
            throttle: limits::limits(&get)?,
            client_ip_header: get("KEYHOLD_CLIENT_IP_HEADER").map(|h| h.trim().to_lowercase()),
            trusted_proxy_hops: parse(&get, "KEYHOLD_TRUSTED_PROXY_HOPS", 1)?,
            trusted_proxies: networks(&get, "KEYHOLD_TRUSTED_PROXIES", "127.0.0.0/8,::1")?,
            hsts: parse(&get, "KEYHOLD_HSTS", https)?,
            header_timeout: Duration::from_secs(parse(&get, "KEYHOLD_HEADER_TIMEOUT", 10)?),
            body_timeout: Duration::from_secs(parse(&get, "KEYHOLD_BODY_TIMEOUT", 60)?),
            metrics_addr: match get("KEYHOLD_METRICS_ADDR").filter(|a| !a.trim().is_empty()) {
                None => None,
                Some(text) => Some(text.trim().parse().map_err(|_| ConfigError::Invalid {
                    name: "KEYHOLD_METRICS_ADDR",
                    reason: format!("{text:?} is not an address such as 127.0.0.1:9464"),
                })?),
            },
            audit_retention: duration(
                &get,
                "KEYHOLD_AUDIT_RETENTION",
                Duration::from_secs(90 * 86_400),
            )?,
            log_format: match get("KEYHOLD_LOG_FORMAT") {
                None => LogFormat::Text,
                Some(text) => LogFormat::parse(&text).ok_or_else(|| ConfigError::Invalid {
                    name: "KEYHOLD_LOG_FORMAT",
                    reason: format!("{text:?} is neither text nor json"),
                })?,
            },
            mail,
        };
        config.check()
    }

    fn check(self) -> Result<Self, ConfigError> {
        let invalid = |name, reason: &str| ConfigError::Invalid {
            name,
            reason: reason.into(),
        };
        if self.audit_retention < Duration::from_secs(86_400) {
            return Err(invalid("KEYHOLD_AUDIT_RETENTION", "must be at least 1d"));
        }
        if !(8..=64).contains(&self.password_min_chars) {
            return Err(invalid(
                "KEYHOLD_PASSWORD_MIN_LENGTH",
                "must be between 8 and 64",
            ));
        }
        if !(64..=1024).contains(&self.password_max_chars) {
            return Err(invalid(
                "KEYHOLD_PASSWORD_MAX_LENGTH",
                "must be between 64 and 1024",
            ));
        }
        if self.token_ttl < Duration::from_secs(60) || self.token_ttl > Duration::from_secs(86_400)
        {
            return Err(invalid(
                "KEYHOLD_TOKEN_TTL",
                "must be between 1 minute and 1 day",
            ));
        }
        if self.sessions.idle.is_zero()
            || self.sessions.lifetime.is_zero()
            || self.sessions.max_per_user == 0
        {
            return Err(invalid(
                "KEYHOLD_SESSION_IDLE",
                "session lifetimes and KEYHOLD_SESSIONS_PER_USER must be positive",
            ));
        }
        if self.sessions.grace > Duration::from_secs(60) {
            return Err(invalid(
                "KEYHOLD_REFRESH_GRACE",
                "must be at most 1 minute (replays inside it are not detected)",
            ));
        }
        self.check_token_keys()?;
        self.check_key_encryption_key()?;
        if let Some(bad) = self
            .allowed_origins
            .iter()
            .find(|o| !(o.starts_with("https://") || o.starts_with("http://")))
        {
            return Err(invalid(
                "KEYHOLD_PUBLIC_ORIGIN",
                &format!("{bad:?} is not an origin such as https://keyhold.example"),
            ));
        }
        if let Some(header) = &self.client_ip_header {
            if http::HeaderName::from_bytes(header.as_bytes()).is_err() {
                return Err(invalid("KEYHOLD_CLIENT_IP_HEADER", "is not a header name"));
            }
        }
        if self.trusted_proxy_hops == 0 {
            return Err(invalid(
                "KEYHOLD_TRUSTED_PROXY_HOPS",
                "must be at least 1 (the proxy in front of Keyhold)",
            ));
        }
        if self.image_uploads.slots == 0 || self.image_uploads.threads == 0 {
            return Err(invalid(
                "KEYHOLD_IMAGE_SLOTS",
                "KEYHOLD_IMAGE_SLOTS and KEYHOLD_IMAGE_THREADS must be at least 1",
            ));
        }
        if self.hash_concurrency == 0 || self.db_pool_size == 0 {
            return Err(invalid(
                "KEYHOLD_HASH_CONCURRENCY",
                "pool sizes must be at least 1",
            ));
        }
        Ok(self)
    }
}

/// A comma-separated list of CIDR ranges or single addresses (`10.0.0.0/8,::1`).
fn networks(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let text = get(name).unwrap_or_else(|| default.to_owned());
    text.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<ipnet::IpNet>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    name,
                    reason: format!("{entry:?} is not an address or a CIDR range"),
                })
        })
        .collect()
}

fn parse<T: FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(text) => text.trim().parse().map_err(|_| ConfigError::Invalid {
            name,
            reason: format!("{text:?} is not a valid number"),
        }),
    }
}

/// A duration setting (`1800`, `30m`, `2h`, `7d`), `default` when unset.
fn duration(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match get(name) {
        None => Ok(default),
        Some(text) => parse_duration(&text).ok_or_else(|| ConfigError::Invalid {
            name,
            reason: format!("{text:?} is not a duration such as 1800, 30m, 2h or 7d"),
        }),
    }
}

/// `1800`, `1800s`, `30m`, `2h` or `1d`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return None,
    };
    number
        .parse::<u64>()
        .ok()?
        .checked_mul(factor)
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests;
