#!/usr/bin/env bash
# Generated clients: a Python client (openapi-python-client) and a TypeScript one
# (openapi-typescript + openapi-fetch) are generated from /api/openapi.json of a live
# server, and each runs register, log-in (and a refused one), users/me and an image
# upload against it (clients/flow.py, clients/flow.ts, type-checked with tsc). The
# generated code lives in a temporary directory; a generator warning fails the run.
#   scripts/clients.sh <keyhold binary>
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$1"
VENV="$HOME/.cache/keyhold/venv"
PORT="${CLIENTS_PORT:-3300}"
BASE="http://127.0.0.1:$PORT"
IMAGE="$PWD/docs/example-avatar.png"
WORK="$(mktemp -d)"

source scripts/lib/server.sh
mkdir -p "$WORK/data"
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
echo "-- starting the server on port $PORT"
# Every request comes from 127.0.0.1: lift the per-address sign-up and profile budgets.
export KEYHOLD_RATE_REGISTRATION=100000/1m KEYHOLD_RATE_PROFILE=100000/1m
start_server "$BIN" "$PORT" "$WORK/data"
echo "-- fetching $BASE/api/openapi.json"
curl -sf "$BASE/api/openapi.json" -o "$WORK/openapi.json"

echo "-- Python: generating the client (openapi-python-client), running clients/flow.py"
PATH="$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate --path "$WORK/openapi.json" \
  --output-path "$WORK/keyhold_api_client" --meta none --fail-on-warning >"$WORK/python-gen.log" 2>&1 ||
  { cat "$WORK/python-gen.log"; exit 1; }
PYTHONPATH="$WORK" "$VENV/bin/python" clients/flow.py "$BASE" "$IMAGE"

echo "-- TypeScript: generating the types (openapi-typescript), tsc, running clients/flow.ts"
# A copy of the program next to its generated types, with clients/'s node_modules.
TS="$WORK/ts"
mkdir -p "$TS/generated"
cp clients/flow.ts clients/tsconfig.json clients/package.json "$TS/"
ln -s "$PWD/clients/node_modules" "$TS/node_modules"
clients/node_modules/.bin/openapi-typescript "$WORK/openapi.json" -o "$TS/generated/api.d.ts" \
  >"$WORK/ts-gen.log" 2>&1 || { cat "$WORK/ts-gen.log"; exit 1; }
if grep -q '⚠' "$WORK/ts-gen.log"; then cat "$WORK/ts-gen.log"; exit 1; fi
(cd "$TS" && node_modules/.bin/tsc -p tsconfig.json && node_modules/.bin/tsx flow.ts "$BASE" "$IMAGE")

if server_panicked "$WORK/data"; then exit 1; fi
