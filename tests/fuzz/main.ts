/**
 * `deno task fuzz [--cases N] [--seed S] [--batch B]` (also `bun tests/fuzz/main.ts`):
 * mutates the committed fixture model directories (model.json, manifest.json,
 * program.axp) and ONNX files, and feeds them in-process to the native loader
 * (`Context.loadModel`, then, when a mutant loads, an instance and a run on random
 * inputs) and to the ONNX reader (`OnnxGraph.fromBytes`). Every case must end in success
 * or a typed error (`AxeleraError`, `OnnxError`); anything else is a failure. Cases run
 * in batches in child processes, so a crash or a hang is counted (not fatal) and its
 * input saved under `.fuzz-crashes/`.
 *
 * `--keep DIR` keeps every model-directory mutant (for tests/fuzz/driver.c under valgrind);
 * `--inject-crash` makes each child kill itself mid-batch (checks that crashes are counted).
 *
 * Prints cases run, outcomes by kind, crashes, hangs and untyped errors, and last
 * `fuzz: N passed, M failed` (passed = cases that ended in success or a typed error).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as axr from "../../mod.ts";
import { OnnxError, OnnxGraph } from "../../onnx/mod.ts";
import { prng } from "../fixtures/make_fixtures.ts";
import { mutateFile } from "./mutate.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, "..", "..");
const FIXTURES = ["tiny", "ops", "uint8"].map((n) => join(ROOT, "tests", "fixtures", n));
const TARGETS = [
  { file: "model.json", kind: "json" },
  { file: "manifest.json", kind: "json" },
  { file: "program.axp", kind: "program" },
  { file: "program.axp", kind: "program" }, // the program is the richest format: twice the weight
  { file: "quantized.onnx", kind: "onnx" },
] as const;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 0) {
    console.error(`fuzz: --${name} takes a whole number, got ${process.argv[i + 1]}`);
    process.exit(2);
  }
  return v;
}

function strArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Summary {
  cases: number;
  outcomes: Record<string, number>;
  untyped: string[];
}

/** One batch, in this process: the child side. */
function runBatch(seed: number, cases: number, work: string, keep: string | undefined, injectCrash: boolean): Summary {
  const r = prng(seed);
  const outcomes: Record<string, number> = {};
  const untyped: string[] = [];
  const count = (k: string) => (outcomes[k] = (outcomes[k] ?? 0) + 1);
  const ctx = new axr.Context();
  const conn = ctx.deviceConnect();
  const dir = join(work, "case");
  for (let c = 0; c < cases; c++) {
    const fixture = FIXTURES[Math.floor(r() * FIXTURES.length)];
    const target = TARGETS[Math.floor(r() * TARGETS.length)];
    writeFileSync(join(work, "current.json"), JSON.stringify({ seed, case: c, fixture, file: target.file }));
    rmSync(dir, { recursive: true, force: true });
    cpSync(fixture, dir, { recursive: true });
    const original = new Uint8Array(readFileSync(join(fixture, target.file)));
    const mutant = mutateFile(r, target.kind, original);
    writeFileSync(join(dir, target.file), mutant);
    if (keep && target.kind !== "onnx") cpSync(dir, join(keep, `${seed}-${c}`), { recursive: true });
    if (injectCrash && c === Math.floor(cases / 2)) process.kill(process.pid, "SIGKILL"); // the harness's own check
    try {
      if (target.kind === "onnx") {
        OnnxGraph.fromBytes(mutant);
        count("onnx: loaded");
      } else {
        const model = ctx.loadModel(join(dir, "model.json"));
        try {
          const inst = conn.loadModelInstance(model);
          const ins = model.inputs().map((t) => new Int8Array(t.size).map(() => Math.floor(r() * 256) - 128));
          const outs = model.outputs().map((t) => new Int8Array(t.size));
          inst.run(ins, outs);
          count("model: loaded and ran");
        } finally {
          model.release();
        }
      }
    } catch (e) {
      if (e instanceof axr.AxeleraError) count(`model: ${e.name}`);
      else if (e instanceof OnnxError) count(`onnx: ${e.name}`);
      else {
        count("UNTYPED");
        if (untyped.length < 20) untyped.push(`${target.file} of ${fixture} (seed ${seed} case ${c}): ${String(e)}`);
      }
    }
  }
  ctx.release();
  return { cases, outcomes, untyped };
}

function parent(): number {
  const total = arg("cases", 2000), seed0 = arg("seed", 1), batch = Math.max(1, arg("batch", 500));
  const keep = strArg("keep");
  if (keep) mkdirSync(keep, { recursive: true });
  const crashDir = join(ROOT, ".fuzz-crashes");
  const sum: Summary = { cases: 0, outcomes: {}, untyped: [] };
  let crashes = 0, hangs = 0, batches = 0;
  const t0 = performance.now();
  const state = mkdtempSync(join(tmpdir(), "axr-fuzz-state-"));
  for (let done = 0; done < total; done += batch, batches++) {
    const n = Math.min(batch, total - done);
    const work = mkdtempSync(join(tmpdir(), "axr-fuzz-"));
    const seed = seed0 * 1_000_003 + batches;
    const argv = "Deno" in globalThis
      ? ["run", "-A", fileURLToPath(import.meta.url)]
      : [fileURLToPath(import.meta.url)];
    const extra = [
      ...(keep ? ["--keep", keep] : []),
      ...(process.argv.includes("--inject-crash") ? ["--inject-crash"] : []),
    ];
    const child = spawnSync(process.execPath, [
      ...argv,
      "--child",
      "--seed",
      String(seed),
      "--cases",
      String(n),
      "--work",
      work,
      ...extra,
    ], {
      encoding: "utf8",
      timeout: Math.max(60_000, n * 200),
      env: { ...process.env, AXR_EMU_STATE_DIR: state, AXR_EMU_DEVICES: "pcie", NO_COLOR: "1" },
      maxBuffer: 64 << 20,
    });
    const line = child.stdout?.split("\n").find((l) => l.startsWith("{"));
    if (child.status === 0 && line) {
      const s = JSON.parse(line) as Summary;
      sum.cases += s.cases;
      for (const [k, v] of Object.entries(s.outcomes)) sum.outcomes[k] = (sum.outcomes[k] ?? 0) + v;
      sum.untyped.push(...s.untyped);
    } else {
      const timedOut = child.error && /ETIMEDOUT|timed out/i.test(String(child.error));
      if (timedOut) hangs++;
      else crashes++;
      let where = "unknown case";
      try {
        where = readFileSync(join(work, "current.json"), "utf8");
        const dest = join(crashDir, `seed-${seed}`);
        mkdirSync(dest, { recursive: true });
        cpSync(join(work, "case"), dest, { recursive: true });
        writeFileSync(join(dest, "current.json"), where);
      } catch { /* nothing to save */ }
      console.log(
        `${
          timedOut ? "HANG" : "CRASH"
        } in batch seed ${seed} (status ${child.status}, signal ${child.signal}): ${where}`,
      );
      console.log((child.stderr ?? "").split("\n").slice(-15).join("\n"));
      sum.cases += 1; // the case that crashed; the rest of the batch is not counted
    }
    rmSync(work, { recursive: true, force: true });
    if (process.stdout.isTTY) process.stdout.write(`\rfuzz: ${sum.cases}/${total} cases`);
  }
  rmSync(state, { recursive: true, force: true });
  if (process.stdout.isTTY) process.stdout.write("\n");
  const secs = (performance.now() - t0) / 1000;
  const untypedN = sum.outcomes.UNTYPED ?? 0;
  console.log(
    `fuzz: ${sum.cases} cases in ${secs.toFixed(1)} s (${(sum.cases / secs).toFixed(0)}/s), seed ${seed0}, runtime ${
      "Deno" in globalThis ? "deno" : "bun"
    }`,
  );
  for (const [k, v] of Object.entries(sum.outcomes).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(36)} ${v}`);
  console.log(`  crashes ${crashes}, hangs ${hangs}, untyped errors ${untypedN}`);
  for (const u of sum.untyped) console.log(`  untyped: ${u}`);
  const failed = crashes + hangs + untypedN;
  console.log(`fuzz: ${sum.cases - failed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  if (process.argv.includes("--child")) {
    console.log(
      JSON.stringify(
        runBatch(
          arg("seed", 1),
          arg("cases", 100),
          strArg("work")!,
          strArg("keep"),
          process.argv.includes("--inject-crash"),
        ),
      ),
    );
    process.exit(0);
  }
  process.exit(parent());
}
