#!/usr/bin/env bash
# What verifying a token costs: GET users/me (64 connections) against one Keyhold
# signing with each algorithm in turn (HS256, EdDSA, ES256), each on its own fresh data
# directory. Called by bench/run.sh (phase 1b); runs alone as well:
#
#   bench/token_algorithms.sh <keyhold binary> <results dir>
#
# Environment: BENCH_DURATION (seconds per run, default 10), BENCH_ALGORITHMS (default
# "HS256 EdDSA ES256"), BENCH_ALG_PORT (default 3103), LEPTOS_SITE_ROOT.
# Writes <results dir>/me-alg-<ALG>.txt (BENCH lines), read by bench/report.py.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
BIN="$1"
OUT="$2"
DURATION="${BENCH_DURATION:-10}"
PORT="${BENCH_ALG_PORT:-3103}"
BASE="http://127.0.0.1:$PORT"
USER_NAME="benchuser"
PASSWORD="violet-Harbor-7-quantum-Sprocket"
TMP="$(mktemp -d)"
PID=""
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
mkdir -p "$OUT"

for alg in ${BENCH_ALGORITHMS:-HS256 EdDSA ES256}; do
  mkdir -p "$TMP/$alg"
  LEPTOS_OUTPUT_NAME=keyhold LEPTOS_SITE_ADDR="127.0.0.1:$PORT" \
  LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-target/site}" LEPTOS_ENV=PROD \
  KEYHOLD_DATA_DIR="$TMP/$alg" KEYHOLD_JWT_ALG="$alg" RUST_LOG=warn \
    "$BIN" >"$OUT/keyhold-$alg.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$BASE/healthz" 2>/dev/null && break; sleep 0.1; done
  curl -fsS -o /dev/null -X POST "$BASE/api/register" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$USER_NAME\",\"email\":\"$USER_NAME@example.com\",\"password\":\"$PASSWORD\"}"
  TOKEN="$(curl -fsS -X POST "$BASE/api/login" --data-urlencode "username=$USER_NAME" \
    --data-urlencode "password=$PASSWORD" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
  HEADER_ALG="$(python3 -c 'import base64,json,sys; h=sys.argv[1].split(".")[0]; print(json.loads(base64.urlsafe_b64decode(h + "=" * (-len(h) % 4)))["alg"])' "$TOKEN")"
  [ "$HEADER_ALG" = "$alg" ] || { echo "the token is signed $HEADER_ALG, not $alg" >&2; exit 1; }
  curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/api/users/me"
  printf '\033[1m== users/me, tokens signed %s, 64 connections, %ss\033[0m\n' "$alg" "$DURATION" >&2
  BENCH_TOKEN="$TOKEN" wrk -t2 -c64 -d"${DURATION}s" --latency -s "$BENCH_DIR/lua/me.lua" \
    "$BASE/api/users/me" | grep '^BENCH' >"$OUT/me-alg-$alg.txt"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
done
