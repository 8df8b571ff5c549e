#!/usr/bin/env bash
# A/B of two Keyhold builds, on this machine, interleaved so that drift hits both: each
# build on its own SQLite database with one signed-in user, ROUNDS rounds of SECONDS
# each, alternating A then B. AB_WORKLOAD=me (default): GET /api/users/me with
# `wrk -t1 -c64` (one load-generator thread, the server keeps the other core);
# AB_WORKLOAD=login: POST /api/login with the right password, `wrk -t1 -c8` (the
# password hash is the work; log-in throttling lifted, as in bench/run.sh).
#   bench/ab.sh <binary A> <binary B>      (AB_ROUNDS=3 AB_SECONDS=10 by default)
# A "binary" may be a wrapper script that sets settings (e.g. KEYHOLD_METRICS_ADDR).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${AB_ROUNDS:-3}"
WORKLOAD="${AB_WORKLOAD:-me}"
# Every log-in comes from 127.0.0.1 for one account (the names of older builds too).
export KEYHOLD_RATE_LOGIN=1000000/1s KEYHOLD_RATE_LOGIN_ADDRESS=1000000/1s KEYHOLD_LOGIN_FREE_FAILURES=1000000 \
  KEYHOLD_LOGIN_BURST=1000000 KEYHOLD_LOGIN_MAX_STREAK=1000000
SECONDS_EACH="${AB_SECONDS:-10}"
PASSWORD="violet-Harbor-7-quantum-Sprocket"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT

source scripts/lib/server.sh
token_for() { # port -> a new user's bearer token
  curl -sf -X POST "http://127.0.0.1:$1/api/register" -H 'content-type: application/json' \
    -d "{\"username\":\"abuser\",\"email\":\"ab@example.com\",\"password\":\"$PASSWORD\"}" >/dev/null
  curl -sf -X POST "http://127.0.0.1:$1/api/login" -d username=abuser -d "password=$PASSWORD" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
mkdir -p "$WORK/a" "$WORK/b"
start_server "$1" 3201 "$WORK/a"
start_server "$2" 3202 "$WORK/b"
TOKEN_A="$(token_for 3201)"
TOKEN_B="$(token_for 3202)"
echo "A = $1"
echo "B = $2"
for round in $(seq 1 "$ROUNDS"); do
  for side in A B; do
    if [ "$side" = A ]; then port=3201 token=$TOKEN_A; else port=3202 token=$TOKEN_B; fi
    if [ "$WORKLOAD" = login ]; then
      out="$(BENCH_USER=abuser BENCH_PASSWORD="$PASSWORD" wrk -t1 -c8 -d"${SECONDS_EACH}s" \
        --timeout 10s --latency -s bench/lua/login.lua "http://127.0.0.1:$port/api/login")"
    else
      out="$(wrk -t1 -c64 -d"${SECONDS_EACH}s" --latency -H "Authorization: Bearer $token" \
        "http://127.0.0.1:$port/api/users/me")"
    fi
    printf 'round %s  %s  %s %10s/s  p99 %-9s non-2xx %s\n' "$round" "$side" "$WORKLOAD" \
      "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")" \
      "$(awk '/Non-2xx/ {n = $5} END {print n + 0}' <<<"$out")"
  done
done
