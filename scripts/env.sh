#!/usr/bin/env bash
# Sourced by ./dev and every task script: installs the pinned toolchains that are
# missing into .tools/ (deno and bun from npm, zig from PyPI, the npm packages of
# package.json) and puts them first on PATH. Idempotent and quiet when all is there.
# Pins: keep in sync with README.md ("Toolchain").
AXR_DENO_VERSION=2.9.6
AXR_BUN_VERSION=1.4.5
AXR_ZIG_VERSION=0.14.1

AXR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AXR_TOOLS="$AXR_ROOT/.tools"
export AXR_ROOT AXR_TOOLS

_axr_log() { printf '[setup] %s\n' "$*" >&2; }

_axr_need_npm_tool() { # name version
  local bin="$AXR_TOOLS/npm/node_modules/.bin/$1"
  [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "$2"
}

if ! _axr_need_npm_tool deno "$AXR_DENO_VERSION" || ! _axr_need_npm_tool bun "$AXR_BUN_VERSION"; then
  command -v npm >/dev/null || { _axr_log "npm is required to install deno and bun"; return 1 2>/dev/null || exit 1; }
  _axr_log "installing deno@$AXR_DENO_VERSION and bun@$AXR_BUN_VERSION from npm into .tools/npm"
  mkdir -p "$AXR_TOOLS/npm"
  npm install --silent --no-audit --no-fund --no-save --prefix "$AXR_TOOLS/npm" \
    "deno@$AXR_DENO_VERSION" "bun@$AXR_BUN_VERSION" >&2
fi

if ! [ -x "$AXR_TOOLS/zig/ziglang/zig" ] || [ "$("$AXR_TOOLS/zig/ziglang/zig" version)" != "$AXR_ZIG_VERSION" ]; then
  _axr_log "installing zig $AXR_ZIG_VERSION from PyPI (ziglang) into .tools/zig"
  rm -rf "$AXR_TOOLS/zig"
  python3 -m pip install --quiet --root-user-action=ignore --disable-pip-version-check --target "$AXR_TOOLS/zig" "ziglang==$AXR_ZIG_VERSION" >&2
fi

mkdir -p "$AXR_TOOLS/bin"
ln -sf "$AXR_TOOLS/npm/node_modules/.bin/deno" "$AXR_TOOLS/bin/deno"
ln -sf "$AXR_TOOLS/npm/node_modules/.bin/bun" "$AXR_TOOLS/bin/bun"
ln -sf "$AXR_TOOLS/zig/ziglang/zig" "$AXR_TOOLS/bin/zig"
case ":$PATH:" in *":$AXR_TOOLS/bin:"*) ;; *) export PATH="$AXR_TOOLS/bin:$HOME/.cargo/bin:$PATH" ;; esac

# npm packages (onnxruntime-node, ...): installed when package.json changed.
if [ -f "$AXR_ROOT/package.json" ]; then
  stamp="$AXR_ROOT/node_modules/.axr-stamp"
  want="$(cat "$AXR_ROOT/package.json" "$AXR_ROOT/package-lock.json" 2>/dev/null | sha256sum | cut -c1-16)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    _axr_log "installing npm packages of package.json"
    (cd "$AXR_ROOT" && ONNXRUNTIME_NODE_INSTALL=skip npm install --silent --no-audit --no-fund >&2) && echo "$want" > "$stamp"
  fi
fi

# The native library: built when missing or older than its sources.
axr_build_native() {
  local lib="$AXR_ROOT/zig-out/lib/libaxr.so"
  if [ ! -f "$lib" ] || [ -n "$(find "$AXR_ROOT/ffi/src" "$AXR_ROOT/build.zig" -newer "$lib" 2>/dev/null | head -1)" ]; then
    _axr_log "building the native library (zig build -Doptimize=ReleaseSafe)"
    (cd "$AXR_ROOT" && zig build -Doptimize=ReleaseSafe >&2)
  fi
}
