#!/usr/bin/env bash
# Generated clients: a Python client (openapi-python-client) and a TypeScript one
# (openapi-typescript + openapi-fetch) are generated from /api/openapi.json of a live
# server, and each runs register, log-in (and a refused one), users/me and an image
# upload against it (clients/flow.py, clients/flow.ts, type-checked with tsc).
#   scripts/clients.sh <keyhold binary>
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$1"
VENV="$HOME/.cache/keyhold/venv"
PORT="${CLIENTS_PORT:-3300}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"

LEPTOS_OUTPUT_NAME=keyhold LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site \
  LEPTOS_ENV=PROD KEYHOLD_DATA_DIR="$WORK/data" RUST_LOG=warn "$BIN" 2>"$WORK/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do curl -sf "$BASE/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "$BASE/api/openapi.json" -o "$WORK/openapi.json"

echo "-- Python: openapi-python-client"
PATH="$VENV/bin:$PATH" "$VENV/bin/openapi-python-client" generate --path "$WORK/openapi.json" \
  --output-path "$WORK/keyhold_api_client" --meta none --fail-on-warning >"$WORK/python-gen.log" 2>&1 ||
  { cat "$WORK/python-gen.log"; exit 1; }
PYTHONPATH="$WORK" "$VENV/bin/python" clients/flow.py "$BASE" docs/example-avatar.png

echo "-- TypeScript: openapi-typescript + openapi-fetch"
mkdir -p clients/generated
clients/node_modules/.bin/openapi-typescript "$WORK/openapi.json" -o clients/generated/api.d.ts
(cd clients && node_modules/.bin/tsc -p tsconfig.json)
(cd clients && node_modules/.bin/tsx flow.ts "$BASE" ../docs/example-avatar.png)

if grep -q "panicked" "$WORK/server.log"; then
  echo "the server panicked:"; grep -A3 panicked "$WORK/server.log"; exit 1
fi
