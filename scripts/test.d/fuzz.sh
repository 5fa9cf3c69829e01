#!/usr/bin/env bash
# Short fuzzing budget for CI (the long run: `deno task fuzz --cases 100000`):
#   1. the harness counts a crash (a child that kills itself must be reported),
#   2. mutants of every file the runtime reads, in-process under Deno and under Bun,
#   3. a sample of model-directory mutants through the C ABI under valgrind (memory errors
#      and leaks of the native loader), with a library built for a CPU valgrind knows.
# Last line: "fuzz: N passed, M failed".
set -uo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/env.sh" || exit 1
cd "$AXR_ROOT"
passed=0; failed=0
tmp=$(mktemp -d -t axr-fuzz-ci.XXXXXX); trap 'rm -rf "$tmp"' EXIT
tally() { # log: adds the harness's own counts
  local line; line=$(grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
  passed=$((passed + $(echo "$line" | grep -oE '[0-9]+ passed' | cut -d' ' -f1)))
  failed=$((failed + $(echo "$line" | grep -oE '[0-9]+ failed' | cut -d' ' -f1)))
}

deno run -A tests/fuzz/main.ts --cases 200 --batch 100 --inject-crash >"$tmp/inject" 2>&1
if grep -q 'crashes 2,' "$tmp/inject"; then passed=$((passed + 1)); echo "ok   the harness counts crashes"
else failed=$((failed + 1)); echo "FAIL the harness did not count an injected crash"; cat "$tmp/inject"; fi
rm -rf .fuzz-crashes/seed-1000003 .fuzz-crashes/seed-1000004; rmdir .fuzz-crashes 2>/dev/null

deno run -A tests/fuzz/main.ts --cases 3000 --batch 1000 --seed 101 --keep "$tmp/mutants" >"$tmp/deno" 2>&1; cat "$tmp/deno"; tally "$tmp/deno"
bun tests/fuzz/main.ts --cases 1000 --batch 500 --seed 202 >"$tmp/bun" 2>&1; cat "$tmp/bun"; tally "$tmp/bun"

if command -v valgrind >/dev/null && command -v zig >/dev/null; then
  zig build -Doptimize=ReleaseSafe -Dcpu=x86_64_v3 --prefix "$tmp/vglib" >/dev/null 2>&1 &&
    zig cc -O1 -g -Iinclude tests/fuzz/driver.c -ldl -o "$tmp/driver" 2>/dev/null
  sample=$(ls -d "$tmp"/mutants/* | head -400 | sed 's|$|/model.json|')
  if AXR_EMU_STATE_DIR="$tmp/state" valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
      "$tmp/driver" "$tmp/vglib/lib/libaxr.so" $sample >"$tmp/vg.out" 2>"$tmp/vg.err"; then
    passed=$((passed + 1)); echo "ok   valgrind: $(wc -l <"$tmp/vg.out") mutants through the C ABI, no memory errors, no leaks"
  else
    failed=$((failed + 1)); echo "FAIL valgrind"; head -c 4000 "$tmp/vg.err"
  fi
else
  echo "valgrind or zig missing: the valgrind sample was not run"
fi
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
