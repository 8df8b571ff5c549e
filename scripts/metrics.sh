#!/usr/bin/env bash
# Metrics: a release server with KEYHOLD_METRICS_ADDR set; scripts/metrics_check.py makes
# traffic and reads /metrics with prometheus_client's text-format parser, checking that
# each metric moves with what it did. Also checks the app's own port serves no metrics.
#   scripts/metrics.sh <keyhold binary>
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$1"
VENV="$HOME/.cache/keyhold/venv"
PORT="${METRICS_TEST_PORT:-3400}"
METRICS_PORT="${METRICS_TEST_METRICS_PORT:-3401}"
WORK="$(mktemp -d)"

source scripts/lib/server.sh
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$WORK"' EXIT
export KEYHOLD_METRICS_ADDR="127.0.0.1:$METRICS_PORT"
start_server "$BIN" "$PORT" "$WORK"
"$VENV/bin/python" scripts/metrics_check.py "http://127.0.0.1:$PORT" "http://127.0.0.1:$METRICS_PORT"
! server_panicked "$WORK"
