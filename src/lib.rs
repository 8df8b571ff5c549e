//! Keyhold: user accounts (sign up, log in, JWT, profile) as one Leptos app on axum.
//!
//! Modules by where they run: `api` and `pages` are shared by server and browser,
//! `server` is compiled only with the `ssr` feature, `client` holds the browser's
//! token storage and the server-function client that sends it.

// The settings pages' views nest deeply enough that a debug build without erased
// components overflows the default query depth when computing their layout.
#![recursion_limit = "256"]

// A client built without `--split` would start and then fail to load its lazy routes
// (`build.rs` tells).
#[cfg(keyhold_unsplit)]
compile_error!(
    "the browser's WASM must be split: run `cargo leptos watch --split` or \
     `cargo leptos build --split` (or `make dev`)"
);

#[macro_use]
mod redacted;

pub mod api;
pub mod app;
pub mod client;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod server;

/// Browser entry point: hydrates the server-rendered page (after loading the code of a
/// lazily loaded route, when the page is one).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    client::hydration::hydrate(app::App);
}
