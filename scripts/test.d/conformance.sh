#!/usr/bin/env bash
# ONNX backend node tests through onnx/ (deno task conformance). Installs the test data
# (PyPI package onnx, data files only: nothing is imported in Python) into
# .tools/onnx-tests, then runs onnx/conformance.ts under Deno.
# onnx 1.18.0 is pinned because later wheels (1.19+, incl. 1.23.2) no longer ship
# onnx/backend/test/data/node.
# Prints "conformance: N passed, N failed, N skipped" last; exits non-zero on failures.
set -euo pipefail
source "$(cd "$(dirname "$0")/../.." && pwd)/scripts/env.sh"
cd "$AXR_ROOT"
ONNX_TESTS_VERSION=1.18.0
data=.tools/onnx-tests/onnx/backend/test/data/node
if [ ! -d "$data" ] || [ "$(cat .tools/onnx-tests/.version 2>/dev/null)" != "$ONNX_TESTS_VERSION" ]; then
  echo "[setup] installing the ONNX backend test data (onnx==$ONNX_TESTS_VERSION from PyPI) into .tools/onnx-tests" >&2
  rm -rf .tools/onnx-tests
  python3 -m pip install --quiet --root-user-action=ignore --disable-pip-version-check --no-deps \
    --only-binary :all: --target .tools/onnx-tests "onnx==$ONNX_TESTS_VERSION" >&2
  echo "$ONNX_TESTS_VERSION" > .tools/onnx-tests/.version
fi
exec deno run -A onnx/conformance.ts "$data" "$@"
