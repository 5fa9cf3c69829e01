/**
 * The `run_overhead` benchmark: what the TypeScript API adds to one device run,
 * on the tiny fixture model (tests/fixtures/tiny), where the device work is
 * small so that the per-call cost shows.
 *
 * Rows (ms per run, median of batches; ratio = peer_ms / ours_ms, so a ratio
 * near 1 means the API adds little):
 * - `run_overhead`: `ModelInstance.run()` (argument checks, pointer filling,
 *   error mapping) vs the bare FFI symbol called with a prepared argument array.
 * - `run_async_overhead`: the time of one `runAsync()`, awaited one at a time (ms per
 *   call; the goal is <= 0.010 ms): argument checks, the tiny model's native run (the
 *   peer figure of `run_overhead`, about 2 us), the hand-off to another thread and back
 *   (Deno: a nonblocking FFI call on Deno's blocking pool; Bun: a Worker that calls the
 *   library) and the promise. Peer: the same native run through the runtime's bare
 *   nonblocking call with an argument array filled once (`bare-nonblocking-call`), so
 *   the ratio is what the API adds to the thread hop itself; the note gives `run()`. The
 *   two are timed in alternating batches (the machine is shared and noisy).
 * - `run_tiny_vs_onnxruntime`: `run()` vs onnxruntime-node running the same
 *   quantized graph (`quantized.onnx`) on the CPU (skipped when the package is missing).
 *
 * Used by bench/main.ts; runnable alone: `deno run -A bench/run_overhead.ts`
 * or `bun bench/run_overhead.ts`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { ArgumentArray, native } from "../ffi/native.ts";
import { type BenchRow, runtimeName } from "./row.ts";

const runtime = runtimeName();
const modelPath = fileURLToPath(new URL("../tests/fixtures/tiny/model.json", import.meta.url));

/** Median ms per call of `fn` over `batches` batches of `n` calls (after a warm-up). */
async function timeIt(fn: () => void | Promise<void>, n: number, batches = 7): Promise<number> {
  for (let i = 0; i < Math.min(n, 200); i++) await fn();
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await fn();
    per.push((performance.now() - t0) / n);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)];
}

/** Same as timeIt for synchronous functions (no await between calls). */
function timeSync(fn: () => void, n: number, batches = 7): number {
  for (let i = 0; i < Math.min(n, 200); i++) fn();
  const per: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    per.push((performance.now() - t0) / n);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)];
}

function row(bench: string, ours: number, peer: string, peerMs: number): BenchRow {
  return { bench, runtime, ours_ms: ours, peer, peer_ms: peerMs, ratio: peerMs / ours };
}

/**
 * Runs the benchmark; returns its rows.
 *
 * @example
 * ```ts
 * for (const r of await runOverhead()) console.log(r.bench, r.ours_ms, r.ratio);
 * ```
 */
export async function runOverhead(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  using ctx = new axr.Context();
  const model = ctx.loadModel(modelPath);
  using conn = ctx.deviceConnect(0, 1);
  const inst = conn.loadModelInstance(model, { aipuCores: 1 });
  const [iInfo] = model.inputs();
  const [oInfo] = model.outputs();
  const input = new Int8Array(iInfo.size).map((_, i) => (i * 31) % 200 - 100);
  const output = new Int8Array(oInfo.size);
  const n = 2000;

  const ours = timeSync(() => inst.run([input], [output]), n);

  // The bare symbol: the same native call with an argument array filled once.
  const api = native();
  const ia = new ArgumentArray(1);
  const oa = new ArgumentArray(1);
  ia.setPointer(0, api.unsafeAddress(input), input.byteLength);
  oa.setPointer(0, api.unsafeAddress(output), output.byteLength);
  const handle = inst.node.handle;
  const sym = api.lib.symbols.axr_run_model_instance;
  const bare = timeSync(() => {
    if (sym(handle, ia.bytes, 1, oa.bytes, 1) !== 0) throw new Error("bare run failed");
  }, n);
  rows.push(row("run_overhead", ours, "bare-ffi-call", bare));

  // runAsync vs the bare nonblocking call: alternating batches, median of the batch means
  const lib = api.lib;
  const bareAsync = () => lib.runNonblocking(handle, ia.bytes, 1, oa.bytes, 1, null);
  const ownAsync = () => inst.runAsync([input], [output]);
  for (let i = 0; i < 200; i++) {
    await ownAsync();
    await bareAsync();
  }
  const per: { own: number[]; bare: number[] } = { own: [], bare: [] };
  for (let b = 0; b < 15; b++) {
    for (const [k, f] of [["own", ownAsync], ["bare", bareAsync]] as const) {
      const t0 = performance.now();
      for (let i = 0; i < 200; i++) await f();
      per[k].push((performance.now() - t0) / 200);
    }
  }
  const median = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const asyncMs = median(per.own), bareAsyncMs = median(per.bare);
  const r = row("run_async_overhead", asyncMs, "bare-nonblocking-call", bareAsyncMs);
  r.note = `run() ${(ours * 1000).toFixed(1)} us; the API adds ${((asyncMs - bareAsyncMs) * 1000).toFixed(1)} us`;
  rows.push(r);

  try {
    const ort = await import("onnxruntime-node");
    const bytes = readFileSync(fileURLToPath(new URL("../tests/fixtures/tiny/quantized.onnx", import.meta.url)));
    const session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: "disabled",
      intraOpNumThreads: 1,
    });
    const inName = session.inputNames[0];
    // quantized.onnx takes the unpadded int8 tensor, NHWC, as the device program sees it
    const dims = iInfo.unpaddedShape;
    const data = iInfo.depad(input);
    const feeds = { [inName]: new ort.Tensor(iInfo.dtype === "uint8" ? "uint8" : "int8", data as Int8Array, dims) };
    const peerRuns = 500;
    const peerMs = await timeIt(
      async () => {
        await session.run(feeds);
      },
      peerRuns,
      5,
    );
    rows.push(row("run_tiny_vs_onnxruntime", ours, "onnxruntime-node", peerMs));
    await session.release?.();
  } catch (e) {
    console.error(`run_overhead: onnxruntime-node peer skipped: ${(e as Error).message.split("\n")[0]}`);
  }
  return rows;
}

if (import.meta.main) {
  for (const r of await runOverhead()) console.log(JSON.stringify(r));
}
