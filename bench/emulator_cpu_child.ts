/**
 * Child of bench/emulator_cpu.ts: loads one compiled model with the library and CPU level
 * of its environment (`AXR_LIBRARY`, `AXR_CPU`), times `inst.run` (median of `runs`
 * after a warm-up) and prints one JSON line `{"ms":..,"copyMs":..,"cpu":..,"checksum":..}` (copyMs: a
 * TypedArray copy of the first input's bytes into the first output).
 *
 *   deno run -A bench/emulator_cpu_child.ts MODEL_JSON RUNS [HOST_THREADS]
 *
 * @module
 */
import process from "node:process";
import * as axr from "../mod.ts";
import { prng } from "../tests/fixtures/make_fixtures.ts";
import { medianMs } from "./row.ts";

const [modelJson, runsArg, threadsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
using ctx = new axr.Context();
const model = ctx.loadModel(modelJson);
using conn = ctx.deviceConnect();
const opts: Record<string, unknown> = { aipuCores: 1 };
if (threadsArg) opts.hostThreads = Number(threadsArg);
const inst = conn.loadModelInstance(model, opts as { aipuCores: number });
const r = prng(2);
const ins = model.inputs().map((t) => Int8Array.from({ length: t.size }, () => Math.floor(r() * 256) - 128));
model.inputs().forEach((t, i) => ins[i].set(t.pad(t.depad(ins[i])) as Int8Array));
const outs = model.outputs().map((t) => new Int8Array(t.size));
const ms = medianMs(() => inst.run(ins, outs), { warmup: 2, minRuns: runs, minMs: 300 });
// a copy of the first input's bytes into the first output (the memory-speed reference)
const copyMs = medianMs(() => outs[0].set(ins[0].subarray(0, outs[0].length)), {
  warmup: 2,
  minRuns: runs,
  minMs: 100,
});
const stats = inst.stats() as unknown as { cpu?: string };
let sum = 0;
for (const o of outs) for (let i = 0; i < o.length; i++) sum = (sum * 31 + o[i]) >>> 0;
console.log(JSON.stringify({ ms, copyMs, cpu: stats.cpu ?? "", checksum: sum }));
inst.release();
model.release();
process.exit(0);
