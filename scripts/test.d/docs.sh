#!/usr/bin/env bash
# The documentation's promises: README examples type-check, every export of mod.ts has
# JSDoc (deno doc --lint), and the package publishes with no slow types (dry run).
set -uo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/env.sh" || exit 1
cd "$AXR_ROOT"
passed=0; failed=0
check() { # name command...
  local name=$1; shift
  if NO_COLOR=1 "$@" >/tmp/axr-docs.$$ 2>&1; then passed=$((passed + 1)); echo "ok   $name"
  else failed=$((failed + 1)); echo "FAIL $name"; tail -n 30 /tmp/axr-docs.$$; fi
}
check "README examples type-check" deno check --doc-only README.md
check "JSDoc examples of the public API type-check" deno check --doc mod.ts
check "deno doc --lint mod.ts" deno doc --lint mod.ts
check "deno publish --dry-run" deno publish --dry-run --allow-dirty
rm -f /tmp/axr-docs.$$
echo "docs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
