#!/usr/bin/env bash
# The README's demo, as a user runs it: compiles the detector when missing, runs it on
# the emulated device, writes the annotated PNG. Passes when the PNG is written and
# every line of text drawn on the page is found (a box with IoU > 0.3 against it).
set -uo pipefail
source "$(cd "$(dirname "$0")/.." && pwd)/env.sh" || exit 1
cd "$AXR_ROOT"
out=$(mktemp -d)/demo.png
log=$(mktemp)
deno run -A examples/demo.ts --out "$out" --runs 2 >"$log" 2>&1; st=$?
cat "$log"
ok=1
[ "$st" -eq 0 ] || ok=0
head -c 8 "$out" 2>/dev/null | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a' || { echo "no PNG at $out"; ok=0; }
for line in "AXELERA METIS" "EDGE AI 2026" "RUNS ANYWHERE"; do
  grep -E "best match \"$line\" IoU (0\.[3-9]|1\.)" "$log" >/dev/null || { echo "no box found for \"$line\""; ok=0; }
done
rm -rf "$(dirname "$out")" "$log"
echo "demo: $ok passed, $((1 - ok)) failed"
[ "$ok" -eq 1 ]
