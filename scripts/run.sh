#!/usr/bin/env bash
# `make run`: install what is missing, build in release mode and serve Keyhold on
# http://127.0.0.1:3000 with an embedded SQLite database in ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/phases.sh
phase "setup (installs)" scripts/setup.sh build
source scripts/env.sh
mkdir -m 700 -p "${KEYHOLD_DATA_DIR:-data}"
phase "release build (server + WASM)" cargo leptos build --release --precompress --split
exec cargo leptos serve --release --precompress --split
