//! Keyhold over real HTTP: the production router (or the real binary) on a fresh
//! database per test, on SQLite and PostgreSQL. One test binary, one module per feature;
//! `helpers` starts servers and databases.

#[macro_use]
mod helpers;

mod account_limits;
mod activity;
mod address_changes;
mod address_squatting;
mod admin_cli;
mod architecture;
mod authenticator;
mod browser_session;
mod client_address;
mod code_guessing;
mod contract;
mod http_api;
mod images;
mod instances;
mod key_confusion;
mod load;
mod maildev;
mod page_forms;
mod passkey_refusals;
mod passkey_second_factor;
mod passkeys;
mod published_keys;
mod recovery;
mod second_factors;
mod security;
mod security_notices;
mod self_service;
mod sessions;
mod throttling;
mod upload_storm;
