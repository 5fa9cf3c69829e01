#!/usr/bin/env bash
# Leaks: 10,000 cycles of context, connect, load, instance, run, release after a warm-up,
# under Deno and under Bun (tests/leaks/main.ts): RSS growth < 5 MB, no descriptor left.
set -uo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/env.sh" || exit 1
cd "$AXR_ROOT"
passed=0; failed=0
for rt in deno bun; do
  if [ "$rt" = deno ]; then out=$(deno run -A --v8-flags=--expose-gc tests/leaks/main.ts --cycles 10000 2>&1)
  else out=$(bun tests/leaks/main.ts --cycles 10000 2>&1); fi
  echo "$out"
  line=$(echo "$out" | grep -E '^leaks: [0-9]+ passed' | tail -1)
  p=$(echo "$line" | grep -oE '[0-9]+ passed' | cut -d' ' -f1); f=$(echo "$line" | grep -oE '[0-9]+ failed' | cut -d' ' -f1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-1}))
done
echo "leaks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
