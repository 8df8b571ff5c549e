#!/usr/bin/env bash
# Installs what building and testing Keyhold needs, skipping what is already there at
# the right version. Safe to run again and again; `make run` and `make test` call it.
#
#   scripts/setup.sh build   # wasm target, cargo-leptos, wasm-bindgen CLI, npm tools
#   scripts/setup.sh test    # the above, plus Chromium and a running PostgreSQL
set -euo pipefail

cd "$(dirname "$0")/.."
MODE="${1:-build}"
CARGO_LEPTOS_VERSION="0.3.10"
source scripts/lib/phases.sh

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root for: $*" >&2; return 1
  fi
}

apt_install() {
  say "installing $* from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- Rust: the WASM target ----------------------------------------------------------
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  phase "install: wasm32 target" rustup target add wasm32-unknown-unknown
fi

# --- cargo-leptos (0.3.11+ need a newer rustc), a debug build: ~6 minutes --------------
# A build tool's own speed barely matters here. Its debug build compiles in 5 min 50 s
# (8 min 26 s of CPU) where its release profile without LTO took 13 min 20 s (22 min 23 s
# of CPU; with its own LTO, 18 min 46 s), and builds this project to the same files, its
# post-processing of a release build taking 54 s instead of 32 s (docs/first-run.md).
if [ "$(cargo leptos --version 2>/dev/null | awk '{print $2}')" != "$CARGO_LEPTOS_VERSION" ]; then
  say "installing cargo-leptos $CARGO_LEPTOS_VERSION (compiles for about 6 minutes)"
  phase "install: cargo-leptos" \
    cargo install cargo-leptos --locked --debug --version "$CARGO_LEPTOS_VERSION"
fi

# --- wasm-bindgen CLI at exactly the version in Cargo.lock -------------------------
BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)"
if [ -z "$BINDGEN_VERSION" ]; then
  echo "cannot read the wasm-bindgen version from Cargo.lock" >&2
  exit 1
fi
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $BINDGEN_VERSION (matches Cargo.lock)"
  # Without --locked: with it, a locked dependency is missing from the registry.
  phase "install: wasm-bindgen-cli" cargo install wasm-bindgen-cli --version "$BINDGEN_VERSION" --force
fi

# --- npm tools: Playwright, axe-core and wasm-opt (npm's binaryen) ------------------
if ! command -v npm >/dev/null; then
  apt_install nodejs npm
fi
STAMP=end2end/node_modules/.keyhold-lock
if [ ! -f "$STAMP" ] || ! cmp -s end2end/package-lock.json "$STAMP"; then
  say "installing npm packages in end2end/"
  phase "install: npm packages (end2end)" bash -c 'cd end2end && npm ci --no-audit --no-fund --loglevel=error'
  cp end2end/package-lock.json "$STAMP"
fi

[ "$MODE" = "test" ] || exit 0

# --- Chromium for the browser tests (npx playwright install cannot download) --------
if [ ! -x /usr/bin/chromium ]; then
  phase "install: chromium" apt_install chromium
fi

# --- Python tools: schemathesis (schema fuzzing) and requests (docs examples) --------
SCHEMATHESIS_VERSION="4.32.5"
VENV="$HOME/.cache/keyhold/venv"
if [ "$("$VENV/bin/schemathesis" --version 2>/dev/null | awk '{print $3}')" != "$SCHEMATHESIS_VERSION" ]; then
  say "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  if ! python3 -m venv --help >/dev/null 2>&1; then apt_install python3-venv; fi
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi
# openapi-python-client (and the one library its clients import that it does not bring)
# for the generated-client tests.
GENERATOR_VERSION="0.29.1"
if [ "$("$VENV/bin/openapi-python-client" --version 2>/dev/null | awk '{print $3}')" != "$GENERATOR_VERSION" ]; then
  say "installing openapi-python-client $GENERATOR_VERSION into $VENV"
  "$VENV/bin/pip" install -q "openapi-python-client==$GENERATOR_VERSION" "python-dateutil==2.9.0.post0"
fi

# prometheus_client: its text-format parser reads /metrics in scripts/metrics.sh.
PROMETHEUS_CLIENT_VERSION="0.21.1"
if ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('prometheus-client') != '$PROMETHEUS_CLIENT_VERSION')" 2>/dev/null; then
  say "installing prometheus-client $PROMETHEUS_CLIENT_VERSION into $VENV"
  "$VENV/bin/pip" install -q "prometheus-client==$PROMETHEUS_CLIENT_VERSION"
fi

# FastAPI, PyJWT (with cryptography) and httpx: the resource server that verifies
# Keyhold's tokens with the published keys alone (scripts/resource_servers.sh).
FASTAPI_VERSION="0.163.2"
PYJWT_VERSION="2.15.1"
HTTPX_VERSION="0.28.1"
if ! "$VENV/bin/python" -c "import fastapi, jwt, httpx, cryptography, sys; sys.exit((fastapi.__version__, jwt.__version__, httpx.__version__) != ('$FASTAPI_VERSION', '$PYJWT_VERSION', '$HTTPX_VERSION'))" 2>/dev/null; then
  say "installing fastapi $FASTAPI_VERSION, pyjwt[crypto] $PYJWT_VERSION and httpx $HTTPX_VERSION into $VENV"
  "$VENV/bin/pip" install -q "fastapi==$FASTAPI_VERSION" "pyjwt[crypto]==$PYJWT_VERSION" "httpx==$HTTPX_VERSION"
fi

# --- npm tools for the TypeScript generated client (openapi-typescript, openapi-fetch)
# and the resource server that verifies tokens with jose ------------------------------
STAMP=clients/node_modules/.keyhold-lock
if [ ! -f "$STAMP" ] || ! cmp -s clients/package-lock.json "$STAMP"; then
  say "installing npm packages in clients/"
  phase "install: npm packages (clients)" bash -c 'cd clients && npm ci --no-audit --no-fund --loglevel=error'
  cp clients/package-lock.json "$STAMP"
fi
if ! python3 -c 'import requests' 2>/dev/null; then
  say "installing python3-requests"
  apt_install python3-requests
fi

# --- PostgreSQL for the integration tests -------------------------------------------
if ! command -v pg_ctlcluster >/dev/null || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  apt_install postgresql
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL"
  for version in $(ls /etc/postgresql); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  # A fresh Debian install only trusts the local postgres OS user: allow loopback
  # connections as postgres without a password, for tests on this machine only.
  say "allowing loopback connections for the test user postgres"
  for hba in /etc/postgresql/*/main/pg_hba.conf; do
    if ! grep -q "keyhold-tests" "$hba"; then
      as_root sed -i '1i host all postgres 127.0.0.1/32 trust # keyhold-tests' "$hba"
    fi
  done
  for version in $(ls /etc/postgresql); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
  done
  sleep 1
fi
psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null
