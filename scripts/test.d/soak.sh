#!/usr/bin/env bash
# Concurrency soak, short budget (the long one: `deno task soak --seconds 60`): 4 instances
# on 4 sub-devices, runAsync from the event loop and from Workers, bit-exact, nothing
# lost or duplicated, no deadlock; under Deno and under Bun.
set -uo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/env.sh" || exit 1
cd "$AXR_ROOT"
state=$(mktemp -d -t axr-soak.XXXXXX); trap 'rm -rf "$state"' EXIT
passed=0; failed=0
for rt in deno bun; do
  if [ "$rt" = deno ]; then out=$(AXR_EMU_STATE_DIR=$state timeout 120 deno run -A tests/soak/main.ts --seconds 8 2>&1)
  else out=$(AXR_EMU_STATE_DIR=$state timeout 120 bun tests/soak/main.ts --seconds 8 2>&1); fi
  echo "$out"
  line=$(echo "$out" | grep -E '^soak: [0-9]+ passed' | tail -1)
  p=$(echo "$line" | grep -oE '[0-9]+ passed' | cut -d' ' -f1); f=$(echo "$line" | grep -oE '[0-9]+ failed' | cut -d' ' -f1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
done
echo "soak: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
