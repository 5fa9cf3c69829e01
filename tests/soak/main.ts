/**
 * `deno task soak [--seconds S]` (also `bun tests/soak/main.ts`): 4 instances on the 4
 * sub-devices of one emulated device for S seconds (default 60): two driven with
 * `runAsync` from this event loop (one connection, two sub-devices), two from Workers
 * (each with its own Context and connection). Every result is checked bit for bit
 * against a single-threaded `run()` of the same input, every job must come back exactly
 * once, and a watchdog fails the run when nothing completes for 10 s (a deadlock).
 * Prints throughput and last `soak: N passed, M failed`.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import process from "node:process";
import * as axr from "../../mod.ts";
import { prng } from "../fixtures/make_fixtures.ts";

const MODEL = fileURLToPath(new URL("../fixtures/ops/model.json", import.meta.url));
const i = process.argv.indexOf("--seconds");
const seconds = i >= 0 ? Number(process.argv[i + 1]) : 60;
if (!(seconds > 0)) {
  console.error(`soak: --seconds takes a positive number, got ${process.argv[i + 1]}`);
  process.exit(2);
}
const INFLIGHT = 2; // per instance

const ctx = new axr.Context();
const model = ctx.loadModel(MODEL);
const r = prng(5);
const inputs = Array.from(
  { length: 16 },
  () =>
    model.inputs().map((t) =>
      t.pad(t.depad(Int8Array.from({ length: t.size }, () => Math.floor(r() * 256) - 128))) as Int8Array
    ),
);
const sizes = model.outputs().map((t) => t.size);

// the single-threaded truth
const conn = ctx.deviceConnect(0, 2);
const local = [conn.loadModelInstance(model), conn.loadModelInstance(model)];
const expected = inputs.map((ins) => {
  const outs = sizes.map((n) => new Int8Array(n));
  local[0].run(ins, outs);
  return outs;
});

let nextId = 0, completed = 0, mismatches = 0, duplicates = 0, errors = 0;
const pending = new Map<number, number>(); // job id -> input index
let lastProgress = performance.now();
const deadline = performance.now() + seconds * 1000;
const perDriver = new Map<string, number>();

function finish(driver: string, id: number, outs: Int8Array[]): void {
  const input = pending.get(id);
  if (input === undefined) {
    duplicates++;
    return;
  }
  pending.delete(id);
  completed++;
  perDriver.set(driver, (perDriver.get(driver) ?? 0) + 1);
  lastProgress = performance.now();
  if (!outs.every((o, k) => o.length === expected[input][k].length && o.every((v, j) => v === expected[input][k][j]))) {
    mismatches++;
  }
}

async function localDriver(inst: axr.ModelInstance, name: string): Promise<void> {
  const lane = async () => {
    while (performance.now() < deadline) {
      const id = nextId++, input = id % inputs.length;
      pending.set(id, input);
      const outs = sizes.map((n) => new Int8Array(n));
      try {
        await inst.runAsync(inputs[input], outs);
        finish(name, id, outs);
      } catch (e) {
        errors++;
        console.log(`${name}: ${e}`);
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
}

function workerDriver(name: string): Promise<void> {
  const w = new Worker(new URL("./worker.ts", import.meta.url).href, { type: "module" });
  return new Promise((resolve) => {
    const send = () => {
      if (performance.now() >= deadline) return false;
      const id = nextId++, input = id % inputs.length;
      pending.set(id, input);
      w.postMessage({ job: { id, input } });
      return true;
    };
    let inflight = 0;
    w.onmessage = (e: MessageEvent) => {
      const m = e.data;
      if (m.ready) {
        for (let k = 0; k < INFLIGHT; k++) if (send()) inflight++;
      } else if (m.done !== undefined) {
        finish(name, m.done, m.outputs);
        inflight--;
        if (send()) inflight++;
        if (inflight === 0) w.postMessage({ stop: true });
      } else if (m.stopped) {
        w.terminate();
        resolve();
      } else if (m.error) {
        errors++;
        console.log(`${name}: ${m.error}`);
        w.terminate();
        resolve();
      }
    };
    w.postMessage({ start: { model: MODEL, inputs } });
  });
}

const watchdog = setInterval(() => {
  if (performance.now() - lastProgress > 10_000) {
    console.log(`soak: DEADLOCK: nothing completed for 10 s (${pending.size} jobs in flight)`);
    console.log("soak: 0 passed, 1 failed");
    process.exit(1);
  }
}, 1000);

const t0 = performance.now();
await Promise.all([
  localDriver(local[0], "event loop A"),
  localDriver(local[1], "event loop B"),
  workerDriver("worker C"),
  workerDriver("worker D"),
]);
clearInterval(watchdog);
const secs = (performance.now() - t0) / 1000;
const lost = pending.size;
ctx.release();
console.log(
  `soak: ${completed} runs in ${secs.toFixed(1)} s on 4 sub-devices (${
    (completed / secs).toFixed(0)
  } runs/s), runtime ${"Bun" in globalThis ? "bun" : "deno"}`,
);
for (const [d, n] of perDriver) console.log(`  ${d.padEnd(14)} ${n} runs`);
console.log(`  mismatches ${mismatches}, lost ${lost}, duplicated ${duplicates}, errors ${errors}`);
const failedChecks = [mismatches, lost, duplicates, errors, completed > 0 ? 0 : 1].filter((x) => x > 0).length;
console.log(`soak: ${5 - failedChecks} passed, ${failedChecks} failed`);
process.exit(failedChecks ? 1 : 0);
