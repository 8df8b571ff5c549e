//! The pages (rendered on the server, then hydrated) and their shared pieces.

pub mod account;
pub mod activity;
pub mod confirm_email;
pub mod form;
pub mod header;
pub mod home;
pub mod login;
pub mod login_second_step;
pub mod not_found;
pub mod passkeys;
pub mod password;
pub mod posted_form;
pub mod profile;
pub mod recovery;
pub mod second_factors;
pub mod sessions;
pub mod settings;
pub mod signed_in;
pub mod signup;
