#!/usr/bin/env bash
# Linux aarch64 under qemu-user (Metis M.2 cards sit in Arm64 boards):
#   the packaged library (zig build -Dstrip -Dtarget=aarch64-linux-gnu, as deno task pack builds
#      it) found beside the module in an unpacked JSR layout, a model run through the TypeScript API
#      under aarch64 Bun and aarch64 Deno (npm packages @oven/bun-linux-aarch64, @deno/linux-arm64-glibc,
#      pinned to scripts/env.sh's versions): tensor infos (C structs returned by value, which bun:ffi
#      cannot receive on aarch64: libaxr's axr_ext_get_model_input/output serve) and infer() output
#      byte-equal to the x86-64 run.
# Installs what is missing: Debian qemu-user, libc6-arm64-cross, libgcc-s1-arm64-cross (deno needs
# libgcc_s); the aarch64 bun and deno into ${XDG_CACHE_HOME:-~/.cache}/axr-runtime/aarch64-tools.
# (zig build test -Dtarget=aarch64-linux-gnu -fqemu --glibc-runtimes /usr runs the Zig tests the same
# way, but slowly under qemu, and the cross-process reservation test spawns an aarch64 helper, which
# qemu-user cannot exec without binfmt_misc: not run here.)
# Last line: "qemu-arm: N passed, M failed" (the suite name has no digits: scripts/test.sh counts it).
set -uo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/env.sh" || exit 1
cd "$AXR_ROOT"
passed=0; failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && tail -n 30 "$2"; }
tmp=$(mktemp -d -t axr-aarch64.XXXXXX); trap 'rm -rf "$tmp"' EXIT
export AXR_EMU_STATE_DIR="${AXR_EMU_STATE_DIR:-$tmp/state}"
sysroot=/usr/aarch64-linux-gnu

need=()
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
[ -f "$sysroot/lib/libc.so.6" ] || need+=(libc6-arm64-cross)
[ -f "$sysroot/lib/libgcc_s.so.1" ] || need+=(libgcc-s1-arm64-cross)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "[setup] apt-get install ${need[*]}" >&2
  $sudo apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
export QEMU_LD_PREFIX="$sysroot"

tools="${XDG_CACHE_HOME:-$HOME/.cache}/axr-runtime/aarch64-tools"
fetch_tool() { # npm-package version dir
  [ -f "$tools/$3/.version" ] && [ "$(cat "$tools/$3/.version")" = "$2" ] && return 0
  echo "[setup] $1@$2 (aarch64) into $tools/$3" >&2
  rm -rf "${tools:?}/$3" && mkdir -p "$tools/$3" &&
    (cd "$tools" && npm pack --silent "$1@$2" >"$3.name") &&
    tar xzf "$tools/$(cat "$tools/$3.name")" -C "$tools/$3" && rm -f "$tools/$(cat "$tools/$3.name")" &&
    echo "$2" >"$tools/$3/.version"
}
fetch_tool @oven/bun-linux-aarch64 "$AXR_BUN_VERSION" bun
fetch_tool @deno/linux-arm64-glibc "$AXR_DENO_VERSION" deno
bun64="$tools/bun/package/bin/bun"; deno64="$tools/deno/package/deno"

# The packaged library in a JSR layout (sources + native/linux-aarch64-gnu/), run from file:.
s=$(date +%s)
if zig build -Doptimize=ReleaseSafe -Dstrip -Dtarget=aarch64-linux-gnu --prefix build/pack/linux-aarch64-gnu >"$tmp/build" 2>&1; then
  echo "aarch64 library built in $(( $(date +%s) - s )) s"
else fail "zig build -Dtarget=aarch64-linux-gnu" "$tmp/build"; fi
pkg="$tmp/pkg"
mkdir -p "$pkg/native/linux-aarch64-gnu"
cp -r mod.ts runtime ffi kernels onnx "$pkg/" && rm -rf "$pkg/ffi/src"
cp build/pack/linux-aarch64-gnu/lib/libaxr.so "$pkg/native/linux-aarch64-gnu/"
model="$AXR_ROOT/tests/fixtures/tiny/model.json"
mod="file://$pkg/mod.ts"
deno run -A tests/aarch64/model_run.ts "file://$AXR_ROOT/mod.ts" "$model" >"$tmp/x64.out" 2>"$tmp/x64.err" ||
  fail "x86-64 reference run" "$tmp/x64.err"
for rt in bun deno; do
  if [ "$rt" = bun ]; then cmd=(qemu-aarch64 "$bun64" "$AXR_ROOT/tests/aarch64/model_run.ts" "$mod" "$model")
  else cmd=(qemu-aarch64 "$deno64" run -A "$AXR_ROOT/tests/aarch64/model_run.ts" "$mod" "$model"); fi
  s=$(date +%s)
  if env -u AXR_LIBRARY DENO_DIR="$tmp/deno-dir" timeout 900 "${cmd[@]}" >"$tmp/$rt.out" 2>"$tmp/$rt.err"; then
    cat "$tmp/$rt.err"
    if cmp -s "$tmp/$rt.out" "$tmp/x64.out" && grep -q "on arm64: beside the module .*native/linux-aarch64-gnu" "$tmp/$rt.err"; then
      ok "aarch64 $rt under qemu: tensor infos and infer() equal to x86-64 ($(( $(date +%s) - s )) s)"
    else
      fail "aarch64 $rt: output differs from x86-64 or wrong library"; diff "$tmp/$rt.out" "$tmp/x64.out" | head -5; cat "$tmp/$rt.err"
    fi
  else fail "aarch64 $rt under qemu (exit $?)" "$tmp/$rt.err"; fi
done

echo "qemu-arm: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
