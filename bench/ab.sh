#!/usr/bin/env bash
# A/B of two Keyhold builds on GET /api/users/me, on this machine, interleaved so that
# drift hits both: each build on its own SQLite database with one signed-in user,
# `wrk -t1 -c64` (one load-generator thread, the server keeps the other core), ROUNDS
# rounds of SECONDS each, alternating A then B.
#   bench/ab.sh <binary A> <binary B>      (AB_ROUNDS=3 AB_SECONDS=10 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${AB_ROUNDS:-3}"
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
    out="$(wrk -t1 -c64 -d"${SECONDS_EACH}s" --latency -H "Authorization: Bearer $token" \
      "http://127.0.0.1:$port/api/users/me")"
    printf 'round %s  %s  users/me %10s/s  p99 %s\n' "$round" "$side" \
      "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
  done
done
