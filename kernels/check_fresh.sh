#!/usr/bin/env bash
# kernels/check_fresh.sh: exit 0 when the committed module kernels/wasm.generated.ts matches
# the kernel sources. (1) Always: the sha256 of the sources (source_hash.sh) must equal the
# SOURCE_SHA256 recorded in the module (no Rust needed). (2) When this machine's
# `rustc --version` equals the recorded RUSTC_VERSION: rebuild into a temporary directory
# (build.sh installs the pinned wasm-bindgen-cli / wasm-pack into .tools/cargo if missing)
# and compare the generated file byte for byte; otherwise say why that was skipped.
# Fix a failure with `deno task kernels` (kernels/build.sh) and commit the result.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
gen="$here/wasm.generated.ts"
export PATH="$here/../.tools/cargo/bin:$HOME/.cargo/bin:$PATH"

field() { sed -n "s/^export const $1 = \"\\(.*\\)\";\$/\\1/p" "$gen" | head -1; }

[ -f "$gen" ] || { echo "kernels: $gen is missing; run deno task kernels" >&2; exit 1; }
recorded="$(field SOURCE_SHA256)"
actual="$(bash "$here/source_hash.sh")"
if [ "$recorded" != "$actual" ]; then
  echo "kernels: STALE: sources hash $actual, module built from $recorded; run deno task kernels" >&2
  exit 1
fi
echo "kernels: source hash matches ($actual)"

want_rustc="$(field RUSTC_VERSION)"
have_rustc="$(rustc --version 2>/dev/null || echo "no rustc")"
if [ "$have_rustc" != "$want_rustc" ]; then
  echo "kernels: byte comparison skipped: this machine has '$have_rustc', the module was built with '$want_rustc'"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The same target dir as build.sh's default would reuse its cache, but a clean one proves
# the bytes do not depend on it; keep the cache of an earlier check when there is one.
export CARGO_TARGET_DIR="${AXR_KERNELS_CHECK_TARGET:-$here/target/check}"
# wasm-pack when it is installed (in .tools/cargo or the tool cache), else the direct
# cargo + wasm-bindgen build (identical bytes), which saves compiling wasm-pack on a new
# machine: only wasm-bindgen-cli is installed then (about 3 minutes on 2 cores).
cache="${AXR_TOOL_CACHE-${XDG_CACHE_HOME:-$HOME/.cache}/axr-runtime/cargo}"
if [ -z "${AXR_KERNELS_BUILDER:-}" ]; then
  export AXR_KERNELS_BUILDER=direct
  for d in "$here/../.tools/cargo/bin" "$cache/bin"; do
    [ -x "$d/wasm-pack" ] && "$d/wasm-pack" --version 2>/dev/null | grep -q " $(sed -n 's/^WASM_PACK_VERSION=//p' "$here/build.sh")" &&
      AXR_KERNELS_BUILDER=wasm-pack && break
  done
fi
echo "kernels: rebuilding into a temporary directory with $AXR_KERNELS_BUILDER to compare bytes"
if ! bash "$here/build.sh" --out "$tmp/wasm.generated.ts" >"$tmp/log" 2>&1; then
  cat "$tmp/log" >&2
  echo "kernels: rebuild failed" >&2
  exit 1
fi
if cmp -s "$tmp/wasm.generated.ts" "$gen"; then
  echo "kernels: rebuilt module is byte-identical to the committed one ($(field WASM_SHA256))"
  exit 0
fi
echo "kernels: STALE: rebuilding the sources gives a different module; run deno task kernels" >&2
diff <(sed -n 's/^export const \([A-Z_0-9]*\) = "\(.\{0,80\}\).*/\1 \2/p' "$gen") \
     <(sed -n 's/^export const \([A-Z_0-9]*\) = "\(.\{0,80\}\).*/\1 \2/p' "$tmp/wasm.generated.ts") >&2
exit 1
