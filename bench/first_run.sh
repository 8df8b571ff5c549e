#!/usr/bin/env bash
# `make run` as a new machine runs it: a fresh clone and a HOME of its own (no
# cargo-leptos, no wasm-bindgen, no cargo registry, no npm cache, no build directory),
# with the machine's Rust toolchain (rustup; its wasm32 target is shared, which a new
# machine adds in ~15 s) and system packages. Prints every phase, the time from the
# clone to the first answer of /healthz, and how busy the two cores were meanwhile.
#
#   bench/first_run.sh [commit]      # default: HEAD; needs port 3000 free; ~25 minutes
#
# Results: docs/first-run.md.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
COMMIT="${1:-HEAD}"
RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
RUSTUP="$(command -v rustup)"
FRESH="$(mktemp -d /tmp/keyhold-first-run.XXXXXX)"
if curl -sf -o /dev/null http://127.0.0.1:3000/healthz; then
  echo "port 3000 is in use: stop that server first" >&2
  exit 1
fi

# The toolchain's proxies (rustup picks the tool by the name it is called with).
mkdir -p "$FRESH/home/.cargo/bin"
for tool in cargo rustc rustup rustdoc rustfmt cargo-fmt cargo-clippy clippy-driver; do
  ln -s "$RUSTUP" "$FRESH/home/.cargo/bin/$tool"
done

# Busy and total jiffies of all cores, from /proc/stat.
cpu() { awk '/^cpu / { busy = $2 + $3 + $4 + $7 + $8; print busy, busy + $5 + $6 }' /proc/stat; }

read -r busy0 total0 < <(cpu)
start=$SECONDS
git clone -q "$REPO" "$FRESH/keyhold"
git -C "$FRESH/keyhold" checkout -q "$COMMIT"
(
  cd "$FRESH/keyhold"
  export HOME="$FRESH/home" CARGO_HOME="$FRESH/home/.cargo" RUSTUP_HOME
  export PATH="$FRESH/home/.cargo/bin:/usr/local/bin:/usr/bin:/bin"
  unset CARGO_TARGET_DIR
  exec setsid make run
) >"$FRESH/run.log" 2>&1 &
RUN=$!
until curl -sf -o /dev/null http://127.0.0.1:3000/healthz; do
  if ! kill -0 "$RUN" 2>/dev/null; then
    echo "make run stopped before serving; its log:" >&2
    tail -n 40 "$FRESH/run.log" >&2
    exit 1
  fi
  sleep 2
done
took=$((SECONDS - start))
read -r busy1 total1 < <(cpu)
kill -- -"$(ps -o sid= -p "$RUN" | tr -d ' ')" 2>/dev/null || kill "$RUN"

echo "phases (from $FRESH/home/.cache/keyhold/phases.tsv):"
awk -F'\t' '{ printf "  %-55s %3dm %02ds\n", $2, $3 / 60, $3 % 60 }' \
  "$FRESH/home/.cache/keyhold/phases.tsv"
printf 'clone to serving: %dm %02ds; both cores %d%% busy on average\n' \
  $((took / 60)) $((took % 60)) $(((busy1 - busy0) * 100 / (total1 - total0)))
echo "(the fresh machine is in $FRESH: rm -rf it when done)"
