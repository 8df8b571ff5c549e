# Sourced by the scripts: how long each phase of `make run` and `make test` takes.
# phase <name> <command...>: runs the command, then prints and records its time in
# $KEYHOLD_PHASES (a tab-separated log, one line per phase: name, seconds, status), so
# a fresh machine's first run can be read back phase by phase (docs/first-run.md).
KEYHOLD_PHASES="${KEYHOLD_PHASES:-$HOME/.cache/keyhold/phases.tsv}"
mkdir -p "$(dirname "$KEYHOLD_PHASES")"

phase() {
  local name="$1" start=$SECONDS status=0
  shift
  "$@" || status=$?
  local took=$((SECONDS - start))
  printf '\033[1;34m==>\033[0m %s took %dm %02ds\n' "$name" $((took / 60)) $((took % 60))
  printf '%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$name" "$took" "$status" >>"$KEYHOLD_PHASES"
  return $status
}
