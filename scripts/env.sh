# Sourced by the scripts: where builds go and which tools come first on PATH.
# A persistent target directory outside the checkout makes rebuilds (and reruns of CI
# on the same machine) fast; set CARGO_TARGET_DIR yourself to put it elsewhere.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/keyhold/target}"
# wasm-opt from npm's binaryen must come before any other (Debian's breaks hydration).
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
