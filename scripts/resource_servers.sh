#!/usr/bin/env bash
# Services that verify Keyhold's tokens on their own: for each published-key algorithm
# (EdDSA, ES256), a live server is started and two resource servers check one of its
# tokens through /.well-known/openid-configuration and the JWKS, refusing forgeries:
# FastAPI + PyJWT's PyJWKClient (clients/resource_server.py) and Node + jose's
# createRemoteJWKSet (clients/resource_server.ts, type-checked with tsc).
#   scripts/resource_servers.sh <keyhold binary>
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$1"
VENV="$HOME/.cache/keyhold/venv"
PORT="${RESOURCE_SERVERS_PORT:-3310}"
BASE="http://127.0.0.1:$PORT"
WORK="$(mktemp -d)"

source scripts/lib/server.sh
SERVER=""
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
# Every request comes from 127.0.0.1: lift the per-address sign-up budget.
export KEYHOLD_RATE_REGISTRATION=100000/1m

echo "-- type-checking clients/resource_server.ts (tsc)"
(cd clients && node_modules/.bin/tsc --strict --noEmit --target es2022 --module nodenext \
  --moduleResolution nodenext --skipLibCheck --types node resource_server.ts)

for alg in EdDSA ES256; do
  echo "-- KEYHOLD_JWT_ALG=$alg: starting the server on port $PORT"
  mkdir -p "$WORK/$alg"
  KEYHOLD_JWT_ALG="$alg" start_server "$BIN" "$PORT" "$WORK/$alg"
  "$VENV/bin/python" clients/resource_server.py "$BASE" "$alg"
  clients/node_modules/.bin/tsx clients/resource_server.ts "$BASE" "$alg"
  if server_panicked "$WORK/$alg"; then exit 1; fi
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
done
