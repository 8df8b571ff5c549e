//! Starting and running the process: the application state built once (`state`), the
//! HTTP server loop (`serve`), the log (`telemetry`), the files only this service
//! may read (`private_files`) and the start-up's key check and sealing of what earlier
//! versions stored readable (`sealed_at_rest`).

pub mod private_files;
pub mod sealed_at_rest;
pub mod serve;
pub mod state;
pub mod telemetry;
