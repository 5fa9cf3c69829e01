/**
 * `deno task leaks [--cycles N]` (also `bun tests/leaks/main.ts`): N cycles (default
 * 10,000) of context, connect, load, instance, run, release, after a warm-up; passes when
 * resident memory grows less than 5 MB and no file descriptor stays open. Prints the
 * figures and last `leaks: N passed, M failed`.
 *
 * @module
 */
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import process from "node:process";
import * as axr from "../../mod.ts";

const MODEL = fileURLToPath(new URL("../fixtures/tiny/model.json", import.meta.url));
const i = process.argv.indexOf("--cycles");
const cycles = i >= 0 ? Number(process.argv[i + 1]) : 10_000;
if (!Number.isInteger(cycles) || cycles < 1) {
  console.error(`leaks: --cycles takes a positive whole number, got ${process.argv[i + 1]}`);
  process.exit(2);
}

function collect(): void {
  const g = globalThis as { gc?: (full?: boolean) => void; Bun?: { gc(force: boolean): void } };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

const fds = () => readdirSync("/proc/self/fd").length;
const rssMb = () => process.memoryUsage().rss / (1 << 20);

function cycle(input: Int8Array, output: Int8Array): void {
  const ctx = new axr.Context();
  const conn = ctx.deviceConnect();
  const model = ctx.loadModel(MODEL);
  const inst = conn.loadModelInstance(model);
  inst.run([input], [output]);
  inst.release();
  model.release();
  conn.release();
  ctx.release();
}

const [input, output] = (() => {
  using probe = new axr.Context();
  const m = probe.loadModel(MODEL);
  return [new Int8Array(m.inputs()[0].size), new Int8Array(m.outputs()[0].size)];
})();
// Warm-up: JIT, V8 heap and malloc arenas reach their working size first (measured: RSS
// plateaus after ~20k cycles under Deno at about +17 MB over the first 1,000, so growth past it would be a leak).
const warm = Number(process.env.AXR_LEAKS_WARMUP ?? 25_000);
for (let k = 0; k < warm; k++) cycle(input, output);
collect();
const rss0 = rssMb(), fd0 = fds(), heap0 = process.memoryUsage().heapUsed / (1 << 20);
const t0 = performance.now();
for (let k = 0; k < cycles; k++) {
  cycle(input, output);
  if (k % 2000 === 1999) collect();
}
collect();
const secs = (performance.now() - t0) / 1000;
const rss1 = rssMb(), fd1 = fds(), heap1 = process.memoryUsage().heapUsed / (1 << 20);
const grew = rss1 - rss0;
console.log(
  `leaks: ${cycles} cycles of context, connect, load, instance, run, release in ${secs.toFixed(1)} s (${
    (cycles / secs).toFixed(0)
  }/s), runtime ${"Bun" in globalThis ? "bun" : "deno"}`,
);
console.log(
  `  resident memory ${rss0.toFixed(1)} MB -> ${rss1.toFixed(1)} MB (${grew >= 0 ? "+" : ""}${
    grew.toFixed(2)
  } MB, limit +5 MB)`,
);
console.log(`  JS heap used ${heap0.toFixed(1)} MB -> ${heap1.toFixed(1)} MB`);
console.log(`  open file descriptors ${fd0} -> ${fd1}`);
const failed = (grew < 5 ? 0 : 1) + (fd1 <= fd0 ? 0 : 1);
console.log(`leaks: ${2 - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
