#!/usr/bin/env bash
# Keyhold vs the FastAPI + python-jose + passlib reference, same workload, same machine.
#
#   bench/run.sh
#
# Environment (all optional):
#   BENCH_DURATION=10   seconds per wrk phase
#   BENCH_PROFILE=0     1: also `perf record -g` Keyhold during an extra users/me run
#   BENCH_SKIP_BUILD=0  1: use the existing release binary even if older than the sources
#   BENCH_HYDRATION=1   0: skip the headless Chromium page measurements (pages.js)
#   BENCH_CEILING=1     0: skip the machine-ceiling run (examples/ceiling.rs, users/me only)
#   BENCH_ME_ROUNDS=3   rounds of phase 1 (ceiling then Keyhold, `wrk -t1 -c64`, no script)
#   BENCH_RUST_LOG=warn Keyhold's RUST_LOG during the run (info: a log line per request)
#   BENCH_DATABASE_URL  Keyhold on this database (an empty PostgreSQL one) instead of SQLite
#   BENCH_KEY_ENCRYPTION_KEY  Keyhold's KEYHOLD_KEY_ENCRYPTION_KEY (a fixed test value by default)
#   BENCH_ALGORITHMS="HS256 EdDSA ES256"  users/me with tokens signed by each (phase 1b,
#                       bench/token_algorithms.sh); empty: skip
#   CARGO_TARGET_DIR    where the Keyhold release binary is (default ~/.cache/keyhold/target)
# Raw output goes to bench/results/<timestamp>/ (git-ignored); the table is printed at the end.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
DURATION="${BENCH_DURATION:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/keyhold/target}"
BIN="$CARGO_TARGET_DIR/release/keyhold"
SITE_ROOT="$ROOT/target/site"
KH_PORT="${BENCH_KEYHOLD_PORT:-3101}"
FA_PORT="${BENCH_FASTAPI_PORT:-8101}"
CE_PORT="${BENCH_CEILING_PORT:-3102}"
CEILING_BIN="$CARGO_TARGET_DIR/release/examples/ceiling"
KH="http://127.0.0.1:$KH_PORT"
FA="http://127.0.0.1:$FA_PORT"
USER_NAME="benchuser"
PASSWORD="violet-Harbor-7-quantum-Sprocket"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$BENCH_DIR/results/$STAMP"
mkdir -p "$OUT"
log() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

# ---------------------------------------------------------------- tools
need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v brotli >/dev/null || need_apt+=(brotli)
if [ "${BENCH_PROFILE:-0}" = 1 ] && ! command -v perf >/dev/null; then need_apt+=(linux-perf); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

VENV="$BENCH_DIR/fastapi-reference/.venv"
REQ="$BENCH_DIR/fastapi-reference/requirements.txt"
PY="$(command -v python3.11 || command -v python3)"
if ! cmp -s "$REQ" "$VENV/.installed-requirements" 2>/dev/null; then
  log "installing the FastAPI reference into $VENV"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$REQ"
  cp "$REQ" "$VENV/.installed-requirements"
fi

# ---------------------------------------------------------------- Keyhold binary
stale() {
  [ ! -x "$BIN" ] && return 0
  [ -n "$(cd "$ROOT" && find src Cargo.toml Cargo.lock style public migrations -newer "$BIN" -type f 2>/dev/null | head -1)" ]
}
if stale && [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
  log "building Keyhold (release)"
  if ! (cd "$ROOT" && PATH="$ROOT/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH" cargo leptos build --release --precompress --split) >"$OUT/build.log" 2>&1; then
    if [ -x "$BIN" ]; then
      log "WARNING: build failed (see $OUT/build.log); benchmarking the existing, older binary"
    else
      echo "build failed, see $OUT/build.log" >&2; exit 1
    fi
  fi
fi
[ -x "$BIN" ] || { echo "no Keyhold binary at $BIN" >&2; exit 1; }
# The machine's ceiling: a bare axum handler answering users/me with a fixed body.
if [ "${BENCH_CEILING:-1}" = 1 ]; then
  log "building the ceiling server (examples/ceiling.rs)"
  (cd "$ROOT" && RUSTFLAGS="--cfg erase_components" cargo build --release --example ceiling \
    --no-default-features --features ssr) >"$OUT/build-ceiling.log" 2>&1 ||
    { echo "ceiling build failed, see $OUT/build-ceiling.log" >&2; exit 1; }
fi

# ---------------------------------------------------------------- servers
PIDS=()
TMP="$(mktemp -d)"
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

wait_up() { # url
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "server at $1 did not come up" >&2; return 1
}

KH_LOG="${BENCH_RUST_LOG:-warn}"
log "starting Keyhold on $KH (RUST_LOG=$KH_LOG) and the FastAPI reference on $FA"
mkdir -p "$TMP/keyhold"
# KEYHOLD_RATE_LOGIN(_ADDRESS) / KEYHOLD_LOGIN_FREE_FAILURES: every login comes from 127.0.0.1 for
# the same account; without these, per-client login throttling (5 attempts, 1 per 12 s; 20 per
# address) would answer 429 after the first few requests and there would be nothing to measure.
LEPTOS_OUTPUT_NAME=keyhold LEPTOS_SITE_ADDR="127.0.0.1:$KH_PORT" LEPTOS_SITE_ROOT="$SITE_ROOT" \
LEPTOS_ENV=PROD KEYHOLD_DATA_DIR="$TMP/keyhold" RUST_LOG="$KH_LOG" DATABASE_URL="${BENCH_DATABASE_URL:-}" \
KEYHOLD_RATE_LOGIN=1000000/1s KEYHOLD_RATE_LOGIN_ADDRESS=1000000/1s KEYHOLD_LOGIN_FREE_FAILURES=1000000 \
KEYHOLD_RATE_REGISTRATION=1000000/1s \
KEYHOLD_KEY_ENCRYPTION_KEY="${BENCH_KEY_ENCRYPTION_KEY:-bench-key-encryption-key-0123456789abcdefghij}" \
  "$BIN" >"$OUT/keyhold.log" 2>&1 &
KH_PID=$!; PIDS+=("$KH_PID")
(cd "$BENCH_DIR/fastapi-reference" && exec "$VENV/bin/uvicorn" main:app --host 127.0.0.1 --port "$FA_PORT" \
  --workers 1 --log-level warning --no-access-log) >"$OUT/fastapi.log" 2>&1 &
FA_PID=$!; PIDS+=("$FA_PID")
wait_up "$KH/healthz"
wait_up "$FA/docs"

register_one() { # base path
  curl -fsS -o /dev/null -X POST "$1$2" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$USER_NAME\",\"email\":\"$USER_NAME@example.com\",\"password\":\"$PASSWORD\"}"
}
token_of() { # base path
  curl -fsS -X POST "$1$2" --data-urlencode "username=$USER_NAME" --data-urlencode "password=$PASSWORD" |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
register_one "$KH" /api/register
register_one "$FA" /register
KH_TOKEN="$(token_of "$KH" /api/login)"
FA_TOKEN="$(token_of "$FA" /login)"
curl -fsS -o /dev/null -H "Authorization: Bearer $KH_TOKEN" "$KH/api/users/me"
curl -fsS -o /dev/null -H "Authorization: Bearer $FA_TOKEN" "$FA/users/me"

rss() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status"; } # pid VmRSS|VmHWM -> KiB
# Idle: nothing asked of either server for 11 s (Keyhold's hashing threads give their
# working memory back after 10 s without a hash).
sleep 11
echo "BENCH idle_rss_kib=$(rss "$KH_PID" VmRSS)" >"$OUT/mem-keyhold.txt"
echo "BENCH idle_rss_kib=$(rss "$FA_PID" VmRSS)" >"$OUT/mem-fastapi.txt"

# CPU busy share of the machine over 2 s before measuring (other work skews results).
cpu_busy() {
  read -r _ a1 b1 c1 d1 e1 f1 g1 h1 _ < /proc/stat; sleep 2
  read -r _ a2 b2 c2 d2 e2 f2 g2 h2 _ < /proc/stat
  local busy=$(( (a2+b2+c2+f2+g2+h2) - (a1+b1+c1+f1+g1+h1) )) idle=$(( (d2+e2) - (d1+e1) ))
  echo $(( 100 * busy / (busy + idle) ))
}
# Wait (up to BENCH_WAIT_QUIET s, default 180) for other work such as a compile to finish.
BUSY="$(cpu_busy)"; waited=0
while [ "$BUSY" -gt 15 ] && [ "$waited" -lt "${BENCH_WAIT_QUIET:-180}" ]; do
  [ "$waited" = 0 ] && log "the machine is ${BUSY}% busy; waiting up to ${BENCH_WAIT_QUIET:-180}s for it to quieten"
  sleep 3; waited=$((waited + 5)); BUSY="$(cpu_busy)"
done
echo "BENCH background_cpu_pct=$BUSY" >"$OUT/machine.txt"
[ "$BUSY" -gt 15 ] && log "WARNING: the machine is already ${BUSY}% busy; results will be lower than on a quiet machine"

# CPU used by other processes during the measurement = machine busy time - servers - our children.
busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
ticks_of_times() { tail -1 "$1" | awk -v hz="$(getconf CLK_TCK)" '{split($1,a,"m"); split($2,b,"m"); print int(((a[1]*60+a[2])+(b[1]*60+b[2]))*hz)}'; }
RUN_T0=$(date +%s.%N); B0=$(busy_ticks); K0=$(proc_ticks "$KH_PID"); F0=$(proc_ticks "$FA_PID"); times >"$TMP/times0"; C0=$(ticks_of_times "$TMP/times0")

L="$BENCH_DIR/lua"
wrk_me() { # base path token conns -> BENCH line
  BENCH_TOKEN="$3" wrk -t2 -c"$4" -d"${DURATION}s" --latency -s "$L/me.lua" "$1$2" | grep '^BENCH'
}
# One wrk thread on one core (the last), so the server keeps the others; no Lua script,
# a fixed bearer token in a header (issue 23's measurement).
PIN=(); [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && PIN=(taskset -c "$(($(nproc) - 1))")
wrk_plain() { # url token -> BENCH line
  "${PIN[@]}" wrk -t1 -c64 -d"${DURATION}s" --latency -H "Authorization: Bearer $2" "$1" | awk '
    function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1000000; return v }
    /requests in/ { n = $1; secs = $4 + 0 }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = us($2) } $1 == "90%" { p90 = us($2) } $1 == "99%" { p99 = us($2) }
    /Non-2xx/ { bad = $5 }
    END { printf "BENCH requests=%d secs=%.3f rps=%.2f p50_us=%d p90_us=%d p99_us=%d non2xx=%d\n", n, secs, rps, p50, p90, p99, bad + 0 }'
}

if [ "${BENCH_CEILING:-1}" = 1 ]; then
  "$CEILING_BIN" "127.0.0.1:$CE_PORT" 2>"$OUT/ceiling.log" &
  CE_PID=$!; PIDS+=("$CE_PID")
  wait_up "http://127.0.0.1:$CE_PORT/api/users/me"
fi

# ---------------------------------------------------------------- 1. users/me
ROUNDS="${BENCH_ME_ROUNDS:-3}"
log "1. GET users/me, wrk -t1 -c64 (no script), ${DURATION}s each: ${ROUNDS} rounds of ceiling then Keyhold, then the reference"
: >"$OUT/me1-keyhold.txt"; : >"$OUT/me1-ceiling.txt"
for _ in $(seq 1 "$ROUNDS"); do
  [ "${BENCH_CEILING:-1}" = 1 ] && wrk_plain "http://127.0.0.1:$CE_PORT/api/users/me" "$KH_TOKEN" >>"$OUT/me1-ceiling.txt"
  wrk_plain "$KH/api/users/me" "$KH_TOKEN" >>"$OUT/me1-keyhold.txt"
done
wrk_plain "$FA/users/me" "$FA_TOKEN" >"$OUT/me1-fastapi.txt"
echo "BENCH rust_log=$KH_LOG wrk_cpu=${PIN[2]:-any}" >>"$OUT/machine.txt"

log "1a. GET users/me, 64 connections, wrk -t2 with the Lua script (the earlier measurement), ${DURATION}s each"
wrk_me "$KH" /api/users/me "$KH_TOKEN" 64 >"$OUT/me-keyhold.txt"
wrk_me "$FA" /users/me "$FA_TOKEN" 64 >"$OUT/me-fastapi.txt"
hwm() { echo "BENCH hwm_after_$1_kib=$(rss "$KH_PID" VmHWM)" >>"$OUT/mem-keyhold.txt"; echo "BENCH hwm_after_$1_kib=$(rss "$FA_PID" VmHWM)" >>"$OUT/mem-fastapi.txt"; }
hwm me

if [ "${BENCH_CEILING:-1}" = 1 ]; then
  wrk_me "http://127.0.0.1:$CE_PORT" /api/users/me "$KH_TOKEN" 64 >"$OUT/me-ceiling.txt"
  # Reaped, so its CPU counts as ours, not as foreign load.
  kill "$CE_PID" 2>/dev/null || true; wait "$CE_PID" 2>/dev/null || true
fi

# ---------------------------------------------------------------- 1b. token algorithms
if [ -n "${BENCH_ALGORITHMS-HS256 EdDSA ES256}" ]; then
  log "1b. GET users/me with tokens signed HS256, EdDSA, ES256 (one server each), ${DURATION}s each"
  BENCH_DURATION="$DURATION" BENCH_ALGORITHMS="${BENCH_ALGORITHMS-HS256 EdDSA ES256}" \
    LEPTOS_SITE_ROOT="$SITE_ROOT" "$BENCH_DIR/token_algorithms.sh" "$BIN" "$OUT"
fi

# ---------------------------------------------------------------- 2. login
login_wrk() { # base path conns secs threads
  BENCH_USER="$USER_NAME" BENCH_PASSWORD="$PASSWORD" \
    wrk -t"${5:-1}" -c"$3" -d"${4}s" --timeout 10s --latency -s "$L/login.lua" "$1$2" | grep '^BENCH'
}
log "2a. one login at a time (time per password hash), 5s each"
login_wrk "$KH" /api/login 1 5 >"$OUT/login1-keyhold.txt"
login_wrk "$FA" /login 1 5 >"$OUT/login1-fastapi.txt"
log "2b. login, 8 connections, ${DURATION}s each"
login_wrk "$KH" /api/login 8 "$DURATION" 2 >"$OUT/login-keyhold.txt"
login_wrk "$FA" /login 8 "$DURATION" 2 >"$OUT/login-fastapi.txt"
hwm login
storm() { # base login_path me_path token name
  login_wrk "$1" "$2" 8 "$DURATION" 1 >"$OUT/storm-login-$5.txt" &
  local lp=$!
  BENCH_TOKEN="$4" BENCH_DELAY_MS=10 wrk -t1 -c4 -d"${DURATION}s" --latency -s "$L/me.lua" "$1$3" |
    grep '^BENCH' >"$OUT/storm-me-$5.txt"
  wait "$lp"
}
log "2c. login storm (8 connections) + users/me probe (4 connections, 10 ms pause each), ${DURATION}s each"
storm "$KH" /api/login /api/users/me "$KH_TOKEN" keyhold
storm "$FA" /login /users/me "$FA_TOKEN" fastapi
hwm storm

# ---------------------------------------------------------------- 3. register
log "3. register, 8 connections, unique usernames, ${DURATION}s each"
reg_wrk() { BENCH_PASSWORD="$PASSWORD" wrk -t2 -c8 -d"${DURATION}s" --timeout 10s --latency -s "$L/register.lua" "$1" | grep '^BENCH'; }
reg_wrk "$KH/api/register" >"$OUT/register-keyhold.txt"
reg_wrk "$FA/register" >"$OUT/register-fastapi.txt"

# ---------------------------------------------------------------- 4. memory
echo "BENCH peak_rss_kib=$(rss "$KH_PID" VmHWM) after_rss_kib=$(rss "$KH_PID" VmRSS)" >>"$OUT/mem-keyhold.txt"
echo "BENCH peak_rss_kib=$(rss "$FA_PID" VmHWM) after_rss_kib=$(rss "$FA_PID" VmRSS)" >>"$OUT/mem-fastapi.txt"

B1=$(busy_ticks); K1=$(proc_ticks "$KH_PID"); F1=$(proc_ticks "$FA_PID"); times >"$TMP/times1"; C1=$(ticks_of_times "$TMP/times1")
FOREIGN=$(awk -v b=$((B1-B0)) -v k=$((K1-K0)) -v f=$((F1-F0)) -v c=$((C1-C0)) -v t0="$RUN_T0" -v t1="$(date +%s.%N)" \
  -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" 'BEGIN { o=(b-k-f-c)/hz; if (o<0) o=0; printf "%.1f core-s of %.0f (%.0f%%)", o, (t1-t0)*n, 100*o/((t1-t0)*n) }')
echo "BENCH foreign_cpu=\"$FOREIGN\"" >>"$OUT/machine.txt"
[ "${FOREIGN##*(}" != "0%)" ] && log "other processes used $FOREIGN of the machine's CPU during phases 1-3"

# ---------------------------------------------------------------- 5. client
log "5. client size and hydration"
PKG="$SITE_ROOT/pkg"
# Content-hashed names (keyhold.<hash>.wasm) with hash-files; plain names otherwise.
if ! ls "$PKG"/keyhold*.wasm >/dev/null 2>&1; then
  log "no client build in $PKG (a server-only build): client sizes skipped"
else
  WASM=$(ls "$PKG"/keyhold*.wasm | head -n1)
  JS=$(ls "$PKG"/keyhold*.js | grep -v '\.d\.' | head -n1)
  sizes() { echo "raw=$(stat -c %s "$1") gzip=$(gzip -9 -c "$1" | wc -c) brotli=$(brotli -q 11 -c "$1" | wc -c)"; }
  { echo "BENCH wasm_file=$(basename "$WASM") $(sizes "$WASM" | sed 's/\([a-z]*\)=/wasm_\1=/g')"
    echo "BENCH $(sizes "$JS" | sed 's/\([a-z]*\)=/js_\1=/g')"; } >"$OUT/client.txt"
  if [ "${BENCH_HYDRATION:-1}" = 1 ] && [ -x /usr/bin/chromium ]; then
    # Per page: code bytes before interactive (Chromium's network log), time to hydrated
    # (its /login line feeds the report), and the entry pages' paints on a phone profile.
    if node "$BENCH_DIR/pages.js" "$KH" 5 >"$OUT/pages.txt"; then
      grep '^BENCH hydrate_' "$OUT/pages.txt" >>"$OUT/client.txt"
    else
      log "page measurements failed"
    fi
  fi
fi

# ---------------------------------------------------------------- optional profile
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
  log "profiling Keyhold users/me with perf (${DURATION}s)"
  BENCH_TOKEN="$KH_TOKEN" wrk -t2 -c64 -d"${DURATION}s" -s "$L/me.lua" "$KH/api/users/me" >/dev/null &
  wp=$!
  sleep 1
  perf record -F 999 -g -p "$KH_PID" -o "$OUT/perf.data" -- sleep $((DURATION - 2)) >/dev/null 2>&1 || log "perf record failed"
  wait "$wp"
  perf report -i "$OUT/perf.data" --no-children --sort symbol --stdio --percent-limit 0.7 -g none 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | sed 's/ \+-  \+-  \+$//; s/ \+$//' >"$OUT/perf-top.txt" || true
  perf report -i "$OUT/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | sed 's/ \+$//' >"$OUT/perf-threads.txt" || true
  perf report -i "$OUT/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | sed 's/ \+$//' >"$OUT/perf-dso.txt" || true
fi

# ---------------------------------------------------------------- report
{
  echo "Keyhold binary: $BIN ($(date -u -r "$BIN" +%FT%TZ)), commit $(cd "$ROOT" && git rev-parse --short HEAD)"
  echo "Machine: $(nproc) cores, $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
  echo "Date: $(date -u +%FT%TZ); wrk phases ${DURATION}s; machine ${BUSY}% busy before the run;"
  echo "CPU used by other processes during phases 1-3: $FOREIGN"
  echo "Keyhold ran with RUST_LOG=$KH_LOG on ${BENCH_DATABASE_URL:+PostgreSQL}${BENCH_DATABASE_URL:-SQLite}; phase 1's wrk: one thread, 64 connections${PIN[2]:+, pinned to CPU ${PIN[2]}}"
  echo
  "$PY" "$BENCH_DIR/report.py" "$OUT" "$(nproc)"
} | tee "$OUT/report.txt"
if [ -f "$OUT/pages.txt" ]; then
  echo; grep -v '^BENCH' "$OUT/pages.txt"
fi
if [ -f "$OUT/perf-top.txt" ]; then
  echo; echo "perf, Keyhold during users/me: samples by thread, by DSO, top symbols (self):"
  cat "$OUT/perf-threads.txt" "$OUT/perf-dso.txt"; head -15 "$OUT/perf-top.txt"
fi
echo
echo "raw results: $OUT"
