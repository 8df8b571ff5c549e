# Sourced by the scripts that test a live release server (fuzz.sh, clients.sh).
# start_server <binary> <port> <data dir>: starts it in the background with its own
# SQLite database in <data dir> (log in <data dir>/server.log), sets SERVER to its pid
# and returns once /healthz answers.
start_server() {
  local bin="$1" port="$2" data="$3"
  LEPTOS_OUTPUT_NAME=keyhold LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_SITE_ROOT=target/site \
    LEPTOS_ENV=PROD KEYHOLD_DATA_DIR="$data" RUST_LOG=warn "$bin" 2>"$data/server.log" &
  SERVER=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.2; done
  echo "the server did not start:"; cat "$data/server.log"; return 1
}

# server_panicked <data dir>: true (and prints it) when the server log shows a panic.
server_panicked() {
  grep -q "panicked" "$1/server.log" && { echo "the server panicked:"; grep -A3 panicked "$1/server.log"; }
}
