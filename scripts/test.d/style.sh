#!/usr/bin/env bash
# The style gates: every source formatted as its tool formats it, and lint-clean.
#   deno fmt --check (config in deno.json), deno lint, cargo fmt --check (kernels/),
#   zig fmt --check (ffi/src, build.zig), cargo clippy (kernels/, for wasm32 + simd128 as
#   built: clippy's error-level lints fail the gate, its warnings are printed, not counted,
#   so that a newer stable clippy's new warnings cannot turn CI red).
# Prints "style: N passed, N failed" last; exits non-zero when a gate fails.
set -uo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/env.sh" || exit 1
cd "$AXR_ROOT"
passed=0; failed=0
out=$(mktemp)
check() { # name command...
  local name=$1; shift
  if NO_COLOR=1 "$@" >"$out" 2>&1; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name (fix: the same command without --check)"; tail -n 40 "$out"; fi
}
check "deno fmt --check" deno fmt --check
check "deno lint" deno lint
check "cargo fmt --check (kernels)" bash -c 'cd kernels && cargo fmt --check'
check "cargo clippy (kernels, wasm32 + simd128)" bash -c 'cd kernels &&
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
  rustup target add wasm32-unknown-unknown >&2
  RUSTFLAGS="-C target-feature=+simd128" CARGO_TARGET_DIR=target/clippy \
    cargo clippy --quiet --target wasm32-unknown-unknown'
check "zig fmt --check (ffi/src, build.zig)" zig fmt --check ffi/src build.zig
rm -f "$out"
echo "style: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
