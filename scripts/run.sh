#!/usr/bin/env bash
# `make run`: install what is missing, build in release mode and serve Keyhold on
# http://127.0.0.1:3000 with an embedded SQLite database in ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/phases.sh
# The server and the WASM compile while the build tools install (scripts/lib/prebuild.sh).
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
scripts/lib/prebuild.sh start
phase "setup (installs, the release compile beside them)" scripts/setup.sh build
phase "release compile (what is left of it)" scripts/lib/prebuild.sh wait
source scripts/env.sh
phase "release build (cargo leptos)" cargo leptos build --release --precompress --split
mkdir -m 700 -p "${KEYHOLD_DATA_DIR:-data}"
echo "Keyhold on http://127.0.0.1:3000 (passkeys: open http://localhost:3000)"
# As `cargo leptos serve` starts it, without building a second time.
exec env LEPTOS_OUTPUT_NAME=keyhold LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
  LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}" LEPTOS_ENV=PROD \
  "$CARGO_TARGET_DIR/release/keyhold"
