#!/usr/bin/env bash
# Schema-driven fuzzing: schemathesis (PyPI) against /api/openapi.json of a live release
# server. Fails on any 5xx, undocumented status, response not matching the schema, or
# schema-violating request accepted. Bounded (a few hundred requests per pass).
#   scripts/fuzz.sh <keyhold binary> [examples per operation]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$1"
EXAMPLES="${2:-25}"
ST="$HOME/.cache/keyhold/venv/bin/schemathesis"
PORT="${FUZZ_PORT:-3200}"
BASE="http://127.0.0.1:$PORT"
DATA="$(mktemp -d)"
REPORTS="$(mktemp -d)"

source scripts/lib/server.sh
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA" "$REPORTS"' EXIT
# Every request comes from 127.0.0.1: lift the per-address sign-up and profile budgets.
export KEYHOLD_RATE_REGISTRATION=100000/1m KEYHOLD_RATE_PROFILE=100000/1m
start_server "$BIN" "$PORT" "$DATA"

token() { # a fresh account and its token
  local name="fuzz$RANDOM$RANDOM"
  curl -sf -X POST "$BASE/api/register" -H 'content-type: application/json' \
    -d "{\"username\":\"$name\",\"email\":\"$name@example.com\",\"password\":\"correct horse battery staple\"}" >/dev/null
  curl -sf -X POST "$BASE/api/login" --data-urlencode "username=$name" \
    --data-urlencode 'password=correct horse battery staple' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# Business rules (uniqueness, common passwords, the current password) legitimately
# refuse some schema-valid requests, so positive_data_acceptance is not checked;
# resource checks do not apply (no resource ids in paths).
COMMON=(--checks all --exclude-checks positive_data_acceptance,use_after_free,ensure_resource_availability
  --max-examples "$EXAMPLES" --seed 20261125 --no-color --warnings off)
DESTRUCTIVE=(--exclude-operation-id delete_account --exclude-operation-id log_out_everywhere
  --exclude-operation-id change_password --exclude-operation-id log_out)

status=0
echo "-- pass 1: every operation except the destructive ones, signed in"
"$ST" run "$BASE/api/openapi.json" "${COMMON[@]}" "${DESTRUCTIVE[@]}" \
  -H "Authorization: Bearer $(token)" || status=1
echo "-- pass 2: change password, log out, log out everywhere, delete account"
"$ST" run "$BASE/api/openapi.json" "${COMMON[@]}" --include-operation-id change_password \
  --include-operation-id log_out --include-operation-id log_out_everywhere \
  --include-operation-id delete_account \
  -H "Authorization: Bearer $(token)" || status=1
if server_panicked "$DATA"; then status=1; fi
exit $status
