//! Starting and running the process: the application state built once (`state`), the
//! HTTP server loop (`serve`), the log (`telemetry`) and the files only this service
//! may read (`private_files`).

pub mod private_files;
pub mod serve;
pub mod state;
pub mod telemetry;
