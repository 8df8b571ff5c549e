#!/usr/bin/env bash
# `make test`: every check and test, on a fresh machine or a warm one.
#   1. lint: cargo fmt --check, clippy -D warnings (server, and the browser's WASM)
#   2. Rust unit and integration tests (real HTTP, SQLite and PostgreSQL)
#   3. release build (server + WASM) with cargo-leptos
#   4. schemathesis against the release server's OpenAPI document, and clients generated
#      from it (Python: openapi-python-client; TypeScript: openapi-typescript + openapi-fetch);
#      resource servers verifying EdDSA and ES256 tokens with the published keys alone
#      (FastAPI + PyJWT, Node + jose)
#   5. Playwright in Chromium against the release server, on SQLite and on PostgreSQL
# The last line is the total: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/phases.sh
# The release server and WASM compile while the tools install (scripts/lib/prebuild.sh);
# the tests start once that is over, so nothing else loads the machine under them.
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
scripts/lib/prebuild.sh start
phase "setup (installs, the release compile beside them)" scripts/setup.sh test || {
  scripts/lib/prebuild.sh wait; echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
phase "release compile (what is left of it)" scripts/lib/prebuild.sh wait
source scripts/env.sh

LOGS="$(mktemp -d)"
PASSED=0
FAILED=0
STAGES=()

stage() { STAGE_START=$SECONDS; printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }
record() { # name status passed failed (the time since the last `stage`)
  local took=$((SECONDS - STAGE_START))
  STAGES+=("$(printf '%-34s %s (%s passed, %s failed) %dm %02ds' "$1" "$2" "$3" "$4" $((took / 60)) $((took % 60)))")
  printf '%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "test: $1" "$took" "$2" >>"$KEYHOLD_PHASES"
  PASSED=$((PASSED + $3))
  FAILED=$((FAILED + $4))
}
# A step that is not a test suite counts as one check.
check() { # name command...
  local name="$1"; shift
  stage "$name"
  if "$@"; then record "$name" ok 1 0; else record "$name" FAILED 0 1; fi
}

check "format (cargo fmt --check)" cargo fmt --check
check "lint (clippy -D warnings)" cargo clippy --all-targets --features ssr --quiet -- -D warnings
check "lint, browser side (clippy, wasm32)" cargo clippy --lib --no-default-features \
  --features hydrate --target wasm32-unknown-unknown --quiet -- -D warnings

stage "Rust tests (unit + HTTP integration on SQLite and PostgreSQL)"
cargo test --features ssr --no-fail-fast 2>&1 | tee "$LOGS/cargo.log"
RUST_STATUS=${PIPESTATUS[0]}
read -r P F < <(awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed/) p += $(i-1); if ($(i) ~ /^failed/) f += $(i-1) } } END { print p + 0, f + 0 }' "$LOGS/cargo.log")
if [ "$RUST_STATUS" -ne 0 ] && [ "$F" -eq 0 ]; then F=1; fi # did not compile
record "Rust tests" "$([ "$RUST_STATUS" -eq 0 ] && echo ok || echo FAILED)" "$P" "$F"

stage "release build (cargo leptos build --release --precompress --split)"
if cargo leptos build --release --precompress --split; then
  record "release build" ok 1 0
  export KEYHOLD_BIN="$CARGO_TARGET_DIR/release/keyhold"
  check "schema fuzzing (schemathesis)" scripts/fuzz.sh "$KEYHOLD_BIN"
  check "generated clients (Python, TypeScript)" scripts/clients.sh "$KEYHOLD_BIN"
  check "resource servers (PyJWT, jose)" scripts/resource_servers.sh "$KEYHOLD_BIN"
  check "metrics (Prometheus text, parsed by prometheus_client)" scripts/metrics.sh "$KEYHOLD_BIN"
  for database in sqlite postgres; do
    stage "browser tests on $database (Playwright, Chromium)"
    DB_NAME="keyhold_e2e_$$"
    if [ "$database" = postgres ]; then
      psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" -c "CREATE DATABASE $DB_NAME" >/dev/null
      export E2E_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB_NAME"
    else
      unset E2E_DATABASE_URL
    fi
    (cd end2end && npx playwright test) 2>&1 | tee "$LOGS/e2e-$database.log"
    E2E_STATUS=${PIPESTATUS[0]}
    P=$(grep -Eo '^ *[0-9]+ passed' "$LOGS/e2e-$database.log" | grep -Eo '[0-9]+' | tail -1)
    F=$(grep -Eo '^ *[0-9]+ failed' "$LOGS/e2e-$database.log" | grep -Eo '[0-9]+' | tail -1)
    P=${P:-0}; F=${F:-0}
    if [ "$E2E_STATUS" -ne 0 ] && [ "$F" -eq 0 ]; then F=1; fi
    record "browser tests ($database)" "$([ "$E2E_STATUS" -eq 0 ] && echo ok || echo FAILED)" "$P" "$F"
    if [ "$database" = postgres ]; then
      psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null
    fi
  done
else
  record "release build" FAILED 0 1
fi

printf '\n\033[1m== Summary ==\033[0m\n'
printf '%s\n' "${STAGES[@]}"
printf 'make test took %dm %02ds (phase log: %s)\n' $((SECONDS / 60)) $((SECONDS % 60)) "$KEYHOLD_PHASES"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
