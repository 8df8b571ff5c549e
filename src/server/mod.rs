//! Server-only code, by layer: the account rules (`accounts`) and what they keep
//! (`store`), built from `building_blocks` that know nothing of either; the HTTP
//! `edge` in front; `runtime` starting and running the process; and `config`, `mail`,
//! `throttle` and the binary's commands (`cli`).

pub mod accounts;
pub mod building_blocks;
pub mod cli;
pub mod config;
pub mod edge;
pub mod mail;
pub mod runtime;
pub mod store;
pub mod throttle;
