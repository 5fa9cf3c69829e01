/**
 * `deno task zoo`: the model zoo test (docs/zoo.md). One row per model (its three forms
 * and its speed), then why it fails, then `zoo: N passed, N failed` over the models.
 *
 *   deno task zoo                  every model; a model passes when all its checks pass
 *   deno task zoo --only a,b       these models
 *   deno task zoo --no-per-op      skip the per-op check (it runs the plain TypeScript
 *                                  reference executor of the format: slow on large models)
 *   deno task zoo --short          the CI form (scripts/test.d/zoo.sh): the models marked
 *                                  short; counts the checks one by one (model, form,
 *                                  criterion), and the checks listed in
 *                                  tests/zoo/known_failing.txt (compiler bugs of issue 15)
 *                                  are printed as "known failing (issue 15)" and not
 *                                  counted; one of them that passes is counted as passed
 *                                  and reported, so that the list can shrink.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { ROOT, ZOO } from "./models.ts";
import { checkForm, type FormResult, FORMS, prepare, timeQdq } from "./zoo.ts";

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = arg("only")?.split(",");
const short = args.includes("--short");
const perOp = !args.includes("--no-per-op");
if (only) {
  const unknown = only.filter((n) => !ZOO.some((m) => m.name === n));
  if (unknown.length) {
    console.error(`unknown model(s) ${unknown.join(", ")}; the zoo has ${ZOO.map((m) => m.name).join(", ")}`);
    process.exit(2);
  }
}
const models = ZOO.filter((m) => (only ? only.includes(m.name) : !short || m.short));
const known = new Set(
  short
    ? readFileSync(join(ROOT, "tests", "zoo", "known_failing.txt"), "utf8").split("\n").map((l) =>
      l.replace(/#.*/, "").trim()
    )
      .filter(Boolean)
    : [],
);

interface Check {
  id: string;
  ok: boolean;
  why: string;
}
const checks: Check[] = [];
let passed = 0, failed = 0;
const t00 = performance.now();
for (const m of models) {
  const t0 = performance.now();
  const cells: string[] = [];
  const details: string[] = [];
  let ok = true;
  try {
    const p = prepare(m);
    const results: FormResult[] = [];
    for (const form of FORMS) results.push(await checkForm(m, p, form, perOp));
    for (const r of results) {
      cells.push(`${r.form} ${r.ok ? "ok" : "FAIL"}${r.summary ? ` (${r.summary})` : ""}`);
      if (!r.ok) ok = false;
      for (const why of r.problems.slice(0, 4)) details.push(`    ${r.form}: ${why}`);
      if (r.problems.length > 4) details.push(`    ${r.form}: ... ${r.problems.length - 4} more`);
      for (const c of r.checks) checks.push({ id: `${m.name} ${r.form} ${c.criterion}`, ok: c.ok, why: c.why });
    }
    const s = await timeQdq(m, p);
    let why = "";
    if (typeof s === "string") {
      why = s;
      cells.push("speed FAIL");
    } else {
      if (s.ours_ms > s.peer_ms) {
        why = `infer() ${s.ours_ms.toFixed(2)} ms > onnxruntime-node qdq ${s.peer_ms.toFixed(2)} ms`;
      }
      cells.push(
        `speed ${why ? "FAIL" : "ok"} (infer ${s.ours_ms.toFixed(2)} ms, ort qdq ${s.peer_ms.toFixed(2)} ms, x${
          (s.peer_ms / s.ours_ms).toFixed(2)
        })`,
      );
    }
    if (why) {
      ok = false;
      details.push(`    speed: ${why}`);
    }
    checks.push({ id: `${m.name} qdq speed`, ok: !why, why });
  } catch (e) {
    ok = false;
    details.push(`    error: ${(e as Error).stack ?? e}`);
    checks.push({ id: `${m.name} setup`, ok: false, why: (e as Error).message });
  }
  if (ok) passed++;
  else failed++;
  console.log(
    `${ok ? "PASS" : "FAIL"} ${m.name.padEnd(18)} ${cells.join(" | ")} [${
      ((performance.now() - t0) / 1000).toFixed(0)
    } s]`,
  );
  for (const d of details) console.log(d);
}
console.log(`(${((performance.now() - t00) / 1000).toFixed(0)} s)`);
if (!short) {
  console.log(`zoo: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
// the CI form: checks one by one, known failures listed apart
const good = checks.filter((c) => c.ok);
const knownBad = checks.filter((c) => !c.ok && known.has(c.id));
const bad = checks.filter((c) => !c.ok && !known.has(c.id));
const fixed = good.filter((c) => known.has(c.id));
console.log(`\npassing checks:`);
for (const c of good) console.log(`  ok   ${c.id}`);
if (fixed.length) {
  console.log(`\nknown failing checks that now pass (remove them from tests/zoo/known_failing.txt):`);
  for (const c of fixed) console.log(`  ${c.id}`);
}
if (knownBad.length) {
  console.log(`\nknown failing (issue 15), not counted:`);
  for (const c of knownBad) console.log(`  xfail ${c.id}: ${c.why}`);
}
if (bad.length) {
  console.log(`\nFAILING:`);
  for (const c of bad) console.log(`  FAIL ${c.id}: ${c.why}`);
}
console.log(`zoo: ${good.length} passed, ${bad.length} failed`);
process.exit(bad.length ? 1 : 0);
