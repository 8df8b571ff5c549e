//! Stops a browser build that cargo-leptos makes without `--split`. The settings pages
//! are lazy routes (`#[lazy]`): their WASM imports `__wasm_split_placeholder__`, which
//! only cargo-leptos's splitting step resolves, so an unsplit client builds and then fails
//! in the browser. cargo-leptos passes `--split` to the WASM build as
//! `-Clink-args=--emit-relocs` in `RUSTFLAGS`, and sets `LEPTOS_OUTPUT_NAME` for every
//! build it runs; a plain `cargo check`/`clippy` of the WASM (no `LEPTOS_OUTPUT_NAME`)
//! is not stopped.

use std::env;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=LEPTOS_OUTPUT_NAME");
    println!("cargo::rerun-if-env-changed=RUSTFLAGS");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    println!("cargo::rustc-check-cfg=cfg(keyhold_unsplit)");
    let browser = env::var_os("CARGO_FEATURE_HYDRATE").is_some()
        && env::var("CARGO_CFG_TARGET_FAMILY").is_ok_and(|family| family == "wasm");
    let by_cargo_leptos = env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let split = env::var("CARGO_ENCODED_RUSTFLAGS").is_ok_and(|flags| {
        flags
            .split('\x1f')
            .any(|flag| flag.contains("--emit-relocs"))
    });
    if browser && by_cargo_leptos && !split {
        println!("cargo::rustc-cfg=keyhold_unsplit");
    }
}
