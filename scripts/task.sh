#!/usr/bin/env bash
# scripts/task.sh CMD...: what every deno task runs through: toolchains installed and
# the native library built, then CMD.
set -euo pipefail
source "$(cd "$(dirname "$0")" && pwd)/env.sh"
axr_build_native
exec "$@"
