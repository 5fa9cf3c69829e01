#!/usr/bin/env bash
# deno task test: every suite of the project, in one run, with one summary line.
#   zig build test (native library, leak-checking allocator)
#   cargo test (Rust kernels on the host) + the committed-module freshness check
#   deno test  (tests/, under Deno)
#   bun test   (tests/, the same files, under Bun)
#   scripts/test.d/*.sh (conformance, demo, docs, style gates, fuzz, leaks, soak, ...)
# Pass or fail comes from each runner's exit code; counts from the JUnit reports of deno and
# bun, one per suite for zig and cargo, and the closing "N passed, N failed" line of our own
# scripts. Prints "tests: N passed, M failed" last; exits non-zero if anything failed.
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
  # zig has no machine-readable reporter: the suite counts as one, by its exit code.
  count zig "$st" $((st == 0 ? 1 : 0)) $((st == 0 ? 0 : 1))
fi

section "kernels: cargo test"
if [ -f kernels/Cargo.toml ]; then
  (cd kernels && cargo test --quiet) >"$log/cargo" 2>&1; st=$?
  tail -n 20 "$log/cargo"
  count cargo "$st" $((st == 0 ? 1 : 0)) $((st == 0 ? 0 : 1))
  if [ -f kernels/check_fresh.sh ]; then
    section "kernels: committed module matches the sources"
    bash kernels/check_fresh.sh; st=$?
    count kernels-fresh "$st" $((st == 0 ? 1 : 0)) $((st == 0 ? 0 : 1))
  fi
fi

# Counts of deno and bun from their JUnit reports (<testsuites tests= failures= errors=>).
# The exit code decides: a run that exits 0 counts no failure (bun's report also lists a
# slow test that then passed as a failure); a run that fails counts at least one.
junit() { # file status -> "passed failed"
  local head
  head=$(grep -m1 -oE '<testsuites [^>]*>' "$1" 2>/dev/null) || { echo "0 1"; return; } # no report: failed
  local t f e
  t=$(echo "$head" | grep -oE ' tests="[0-9]+"' | grep -oE '[0-9]+'); f=$(echo "$head" | grep -oE ' failures="[0-9]+"' | grep -oE '[0-9]+')
  e=$(echo "$head" | grep -oE ' errors="[0-9]+"' | grep -oE '[0-9]+')
  local bad=$(( ${f:-0} + ${e:-0} ))
  if [ "$2" -eq 0 ]; then echo "${t:-0} 0"; else echo "$(( ${t:-0} - bad )) $(( bad > 0 ? bad : 1 ))"; fi
}

section "deno test"
NO_COLOR=1 deno test -A --quiet --junit-path="$log/deno.xml" tests/ >"$log/deno" 2>&1; st=$?
grep -vE '^\s*$' "$log/deno" | grep -vE ' \.\.\. ok' | tail -n 60
read -r p f < <(junit "$log/deno.xml" "$st")
count deno "$st" "$p" "$f"

section "bun test"
NO_COLOR=1 bun test --timeout 120000 --reporter=junit --reporter-outfile="$log/bun.xml" ./tests/ >"$log/bun" 2>&1; st=$?
grep -vE '^\(pass\)' "$log/bun" | grep -vE '^\s*$' | tail -n 60
read -r p f < <(junit "$log/bun.xml" "$st")
count bun "$st" "$p" "$f"

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
