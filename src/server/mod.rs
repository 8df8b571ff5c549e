//! Server-only code: configuration, state, accounts, password hashing, tokens, storage
//! and the HTTP edge (middleware, router, start-up).

pub mod accounts;
pub mod config;
pub mod edge;
pub mod images;
pub mod media;
pub mod openapi;
pub mod password;
pub mod router;
pub mod serve;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod token;
pub mod validation;
