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

source scripts/lib/server.sh
mkdir -p "$WORK/data"
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
start_server "$BIN" "$PORT" "$WORK/data"
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

if server_panicked "$WORK/data"; then exit 1; fi
