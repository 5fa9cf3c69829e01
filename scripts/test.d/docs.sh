#!/usr/bin/env bash
# The documentation's promises: README examples type-check, the @example blocks of every
# published source (deno.json publish.include) and of serve/ and cli/ type-check, every export of mod.ts has
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
# The published TypeScript sources, from deno.json's publish.include (tests excluded).
mapfile -t published < <(deno eval --quiet '
  const cfg = JSON.parse(Deno.readTextFileSync("deno.json"));
  const out = [];
  const walk = (p) => {
    const st = Deno.statSync(p);
    if (st.isDirectory) for (const e of Deno.readDirSync(p)) walk(`${p}/${e.name}`);
    else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) out.push(p);
  };
  for (const inc of cfg.publish?.include ?? []) {
    const glob = inc.match(/^(.*)\/\*\.ts$/);
    if (glob) for (const e of Deno.readDirSync(glob[1])) e.isFile && e.name.endsWith(".ts") && out.push(`${glob[1]}/${e.name}`);
    else { try { walk(inc.replace(/\/$/, "")); } catch { /* a listed file not built yet */ } }
  }
  console.log([...new Set(out)].sort().join("\n"));')
check "JSDoc examples of every published source type-check (${#published[@]} files)" deno check --doc "${published[@]}"
# The server and the CLI are not published but keep the same promise for their examples.
check "JSDoc examples of serve/ and cli/ type-check" deno check --doc serve/*.ts cli/*.ts
check "deno doc --lint mod.ts" deno doc --lint mod.ts
check "deno publish --dry-run" deno publish --dry-run --allow-dirty
rm -f /tmp/axr-docs.$$
echo "docs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
