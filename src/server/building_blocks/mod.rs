//! The pieces the account rules are built from. None of them imports `accounts` or
//! `store` (one exception: `token/key_rotation.rs` keeps the published keys through the
//! `SigningKeyStore` trait), so each is read and tested on its own.
//!
//! Secrets and proofs: `password` (argon2id), `token` (access tokens and their keys),
//! `refresh_token`, `device_cookie`, `second_factors` (TOTP, recovery codes, QR code),
//! `relying_party` (WebAuthn's view of the site), `digest` (SHA-256 as hex), `sealing`
//! (secrets at rest under the key-encryption key). Applications: `oauth_clients` (what
//! a registered client may be: redirect URIs, scopes, its secret). Input and policy:
//! `validation` (with the list in `breached_passwords`), `session_policy`, `user_agent`,
//! `images`. Time and CPU: `clock`, `low_priority_threads` and the door in front of
//! them, `load_shedding`.

pub mod breached_passwords;
pub mod clock;
pub mod device_cookie;
pub mod digest;
pub mod images;
pub mod load_shedding;
pub mod low_priority_threads;
pub mod oauth_clients;
pub mod password;
pub mod refresh_token;
pub mod relying_party;
pub mod sealing;
pub mod second_factors;
pub mod session_cookie;
pub mod session_policy;
pub mod token;
pub mod user_agent;
pub mod validation;
