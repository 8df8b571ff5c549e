//! The building blocks of second factors, free of accounts and storage: authenticator-app
//! codes (`totp`) and their secret at rest (`totp_at_rest`), recovery codes
//! (`recovery_codes`) and the QR code that carries a new secret to the app (`qr_code`). The rules using them are in `accounts/second_factor.rs`
//! and `accounts/authenticator_app.rs`.

pub mod qr_code;
pub mod recovery_codes;
pub mod totp;
pub mod totp_at_rest;
