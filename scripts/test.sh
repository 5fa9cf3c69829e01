#!/usr/bin/env bash
# deno task test: every suite of the project, in one run, with one summary line.
#   zig build test (native library, leak-checking allocator)
#   cargo test (Rust kernels on the host) + the committed-module freshness check
#   deno test  (tests/, under Deno)
#   bun test   (tests/, the same files, under Bun)
# Prints "tests: N passed, M failed" last; exits non-zero if anything failed.
set -uo pipefail
source "$(cd "$(dirname "$0")" && pwd)/env.sh" || exit 1
cd "$AXR_ROOT"
passed=0; failed=0; broken=()
log=$(mktemp -d -t axr-test-logs.XXXXXX)

section() { printf '\n==== %s\n' "$*"; }
count() { # name status passed failed
  passed=$((passed + $3)); failed=$((failed + $4))
  if [ "$2" -ne 0 ] || [ "$4" -ne 0 ]; then broken+=("$1"); fi
  [ "$2" -ne 0 ] && [ "$4" -eq 0 ] && failed=$((failed + 1))
  printf '%s: %d passed, %d failed (exit %d)\n' "$1" "$3" "$4" "$2"
}

section "native library: zig build test"
if [ -f build.zig ]; then
  axr_build_native
  zig build test --summary all >"$log/zig" 2>&1; st=$?
  tail -n 40 "$log/zig"
  p=$(grep -oE '[0-9]+/[0-9]+ tests passed' "$log/zig" | tail -1 | cut -d/ -f1); p=${p:-0}
  f=$(grep -oE '[0-9]+ (failed|leaked)' "$log/zig" | awk '{s+=$1} END {print s+0}')
  count zig "$st" "$p" "$f"
fi

section "kernels: cargo test"
if [ -f kernels/Cargo.toml ]; then
  (cd kernels && cargo test --quiet) >"$log/cargo" 2>&1; st=$?
  tail -n 20 "$log/cargo"
  p=$(grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log/cargo" | awk '{s+=$4} END {print s+0}')
  f=$(grep -oE '[0-9]+ failed' "$log/cargo" | awk '{s+=$1} END {print s+0}')
  count cargo "$st" "$p" "$f"
  if [ -f kernels/check_fresh.sh ]; then
    section "kernels: committed module matches the sources"
    bash kernels/check_fresh.sh; st=$?
    count kernels-fresh "$st" $((st == 0 ? 1 : 0)) 0
  fi
fi

section "deno test"
NO_COLOR=1 deno test -A --quiet tests/ >"$log/deno" 2>&1; st=$?
grep -vE '^\s*$' "$log/deno" | grep -vE ' \.\.\. ok' | tail -n 60
line=$(grep -E '^(ok|FAILED) \|' "$log/deno" | tail -1)
# Deno counts a describe() block as one test and its test()s as steps: count both.
p=$(echo "$line" | grep -oE '[0-9]+ passed' | cut -d' ' -f1); f=$(echo "$line" | grep -oE '[0-9]+ failed' | cut -d' ' -f1)
steps=$(echo "$line" | grep -oE '\(([0-9]+) steps?\)' | head -1 | grep -oE '[0-9]+'); p=$(( ${p:-0} + ${steps:-0} ))
count deno "$st" "${p:-0}" "${f:-0}"

section "bun test"
# --timeout: bunfig.toml's [test] timeout is not applied by bun 1.4; heavy tests need more than 5 s on a loaded 2-core machine
NO_COLOR=1 bun test --timeout 120000 ./tests/ >"$log/bun" 2>&1; st=$?
grep -vE '^\(pass\)' "$log/bun" | grep -vE '^\s*$' | tail -n 60
p=$(grep -oE '^ *[0-9]+ pass' "$log/bun" | tail -1 | grep -oE '[0-9]+'); f=$(grep -oE '^ *[0-9]+ fail' "$log/bun" | tail -1 | grep -oE '[0-9]+')
count bun "$st" "${p:-0}" "${f:-0}"

for extra in scripts/test.d/*.sh; do
  [ -f "$extra" ] || continue
  name=$(basename "$extra" .sh)
  section "$name"
  bash "$extra" >"$log/$name" 2>&1; st=$?
  tail -n 25 "$log/$name"
  p=$(grep -oE '^[a-z-]*:? ?[0-9]+ passed, [0-9]+ failed' "$log/$name" | tail -1 | grep -oE '[0-9]+ passed' | cut -d' ' -f1)
  f=$(grep -oE '^[a-z-]*:? ?[0-9]+ passed, [0-9]+ failed' "$log/$name" | tail -1 | grep -oE '[0-9]+ failed' | cut -d' ' -f1)
  count "$name" "$st" "${p:-0}" "${f:-0}"
done

echo
[ ${#broken[@]} -eq 0 ] || echo "failing suites: ${broken[*]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#broken[@]} -eq 0 ]
