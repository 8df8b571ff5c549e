#!/usr/bin/env bash
# Crash safety of registration on SQLite: kill -9 Keyhold while a client registers
# accounts at full speed, restart it, and check that every account the server
# acknowledged with 201 can log in. Prints "N acknowledged, N present"; exits 1 if
# any acknowledged account is missing.
#
#   bench/reliability.sh            (env: RELIABILITY_ROUNDS=3, RELIABILITY_THREADS=8)
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
BIN="${CARGO_TARGET_DIR:-$HOME/.cache/keyhold/target}/release/keyhold"
[ -x "$BIN" ] || { echo "no Keyhold binary at $BIN (run bench/run.sh or cargo leptos build --release)" >&2; exit 1; }
PORT="${RELIABILITY_PORT:-3201}"
BASE="http://127.0.0.1:$PORT"
ROUNDS="${RELIABILITY_ROUNDS:-3}"
THREADS="${RELIABILITY_THREADS:-8}"
PY="$(command -v python3)"
CLIENT="$BENCH_DIR/reliability_client.py"
TMP="$(mktemp -d)"
ACKED="$TMP/acked.txt"; : >"$ACKED"
KH_PID=""
cleanup() { [ -n "$KH_PID" ] && kill -9 "$KH_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

start() {
  LEPTOS_OUTPUT_NAME=keyhold LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT="$ROOT/target/site" \
  LEPTOS_ENV=PROD KEYHOLD_DATA_DIR="$TMP/data" RUST_LOG=warn \
  KEYHOLD_RATE_LOGIN=1000000/1s KEYHOLD_RATE_LOGIN_ADDRESS=1000000/1s KEYHOLD_LOGIN_FREE_FAILURES=1000000 \
  KEYHOLD_RATE_REGISTRATION=1000000/1s "$BIN" >>"$TMP/keyhold.log" 2>&1 &
  KH_PID=$!
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && return 0; sleep 0.1; done
  echo "Keyhold did not come up:" >&2; tail -20 "$TMP/keyhold.log" >&2; exit 1
}

mkdir -p "$TMP/data"
for round in $(seq 1 "$ROUNDS"); do
  start
  "$PY" "$CLIENT" register "$BASE" "$ACKED" "r${round}u" "$THREADS" &
  client=$!
  sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 2 + 3 * r / 32767 }')"  # 2-5 s of registrations
  kill -9 "$KH_PID"; wait "$KH_PID" 2>/dev/null || true; KH_PID=""
  wait "$client"
  echo "round $round: killed with -9; $(wc -l <"$ACKED") acknowledged so far" >&2
done
start
"$PY" "$CLIENT" verify "$BASE" "$ACKED" 4
