#!/usr/bin/env bash
# Compiles the release server and the browser's WASM in the background while the build
# tools install, so a new machine uses both cores: alone, compiling cargo-leptos and
# wasm-bindgen-cli keeps about one of the two busy (their crates build one after
# another), and cargo-leptos then builds the WASM and the server one after the other.
# The commands and environment are exactly those `cargo leptos build --release
# --precompress --split` runs (cargo-leptos 0.3.10, src/compile/{front,server}.rs and
# config/project.rs), so its own build afterwards finds them done; were they to drift,
# cargo would only compile again what differs. docs/first-run.md has the figures.
#
#   scripts/lib/prebuild.sh start   # background; its log in $PREBUILD_LOG
#   scripts/lib/prebuild.sh wait    # until it is over (whether it worked or not)
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/env.sh
PREBUILD_LOG="${PREBUILD_LOG:-$HOME/.cache/keyhold/prebuild.log}"
PREBUILD_PID="$HOME/.cache/keyhold/prebuild.pid"

# What cargo-leptos sets for every cargo it runs ([package.metadata.leptos]).
leptos_env() {
  env LEPTOS_OUTPUT_NAME=keyhold LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=. LEPTOS_BIN_DIR=. \
    LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=true LEPTOS_HASH_FILE_NAME=hash.txt "$@"
}

server() {
  leptos_env RUSTFLAGS="--cfg erase_components" \
    cargo build --package=keyhold --bin=keyhold --no-default-features --features=ssr --release
}

# The WASM: its own target directory, as cargo-leptos keeps it (`<target>/front`).
front() {
  leptos_env RUSTFLAGS="-Clink-args=--emit-relocs --cfg erase_components" \
    cargo build --package=keyhold --lib --target-dir="$CARGO_TARGET_DIR/front" \
    --target=wasm32-unknown-unknown --no-default-features --features=hydrate \
    --profile=wasm-release
}

case "${1:-}" in
  start)
    mkdir -p "$(dirname "$PREBUILD_LOG")"
    # Two target directories: the two builds run side by side.
    (server >"$PREBUILD_LOG.server" 2>&1 & front >"$PREBUILD_LOG.front" 2>&1 & wait) &
    echo $! >"$PREBUILD_PID"
    ;;
  wait)
    if [ -f "$PREBUILD_PID" ]; then
      pid="$(cat "$PREBUILD_PID")"
      while kill -0 "$pid" 2>/dev/null; do sleep 1; done
      rm -f "$PREBUILD_PID"
    fi
    ;;
  *)
    echo "usage: $0 start|wait" >&2
    exit 2
    ;;
esac
