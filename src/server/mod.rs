//! Server-only code: configuration, state, accounts, password hashing, tokens, storage
//! and the HTTP edge (middleware, router, start-up).

pub mod accounts;
pub mod assets;
pub mod cli;
pub mod client_address;
pub mod clock;
pub mod config;
pub mod cookie;
pub mod device_cookie;
pub mod edge;
pub mod images;
pub mod load_shedding;
pub mod low_priority_threads;
pub mod mail;
pub mod media;
pub mod metrics;
pub mod openapi;
pub mod password;
pub mod private_files;
pub mod refresh_token;
pub mod relying_party;
pub mod router;
pub mod second_factors;
pub mod serve;
pub mod session_cookie;
pub mod session_policy;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod token;
pub mod user_agent;
pub mod validation;
pub mod well_known;

/// The current time in unix seconds.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
