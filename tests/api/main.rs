//! Keyhold over real HTTP: the production router (or the real binary) on a fresh
//! database per test, on SQLite and PostgreSQL. One test binary, one module per feature;
//! `helpers` starts servers and databases, `instance` the real binary, and `client` is a
//! typed client of the API built on its own request and answer types.

#[macro_use]
mod helpers;

mod client;
mod devices;
mod enrolled_accounts;
mod instance;

mod account_limits;
mod activity;
mod address_changes;
mod address_squatting;
mod admin_cli;
mod architecture;
mod authenticator;
mod authenticator_app;
mod breached_passwords;
mod browser_session;
mod client_address;
mod client_registry;
mod code_guessing;
mod contract;
mod database_outages;
mod deferred_activity;
mod ending_sessions;
mod hostile_clients;
mod http_api;
mod images;
mod jwt_attacks;
mod key_confusion;
mod load;
mod log_in_second_step;
mod maildev;
mod page_forms;
mod passkey_refusals;
mod passkey_second_factor;
mod passkeys;
mod private_files;
mod published_keys;
mod recovery;
mod refresh_cookie_origin;
mod refresh_rotation;
mod scale_out;
mod sealed_secrets;
mod security_headers;
mod security_notices;
mod self_service;
mod session_lifetime;
mod throttling;
mod token_revocation;
mod upload_storm;
