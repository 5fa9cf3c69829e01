/**
 * The `run_overhead` benchmark: what the TypeScript API adds to one device run,
 * on the tiny fixture model (tests/fixtures/tiny), where the device work is
 * small so that the per-call cost shows.
 *
 * Rows (ms per run, median of batches; ratio = peer_ms / ours_ms, so a ratio
 * near 1 means the API adds little):
 * - `run_overhead`: `ModelInstance.run()` (argument checks, pointer filling,
 *   error mapping) vs the bare FFI symbol called with a prepared argument array, timed in
 *   alternating batches.
 * - `run_async_overhead`: the time of one `runAsync()` as a program sees it, awaited one
 *   at a time (ms per call; the goal is <= 0.010 ms). The tiny model's native run takes
 *   2-10 us, less than a hand-off to another thread and back, so an idle instance runs it
 *   on the calling thread (runtime/run_gate.ts): the figure is the argument checks, the
 *   native run and a settled promise. Peer: the same native run through the runtime's bare
 *   nonblocking call with an argument array filled once (`bare-nonblocking-call`: Deno's
 *   nonblocking FFI call on its blocking pool; Bun: a Worker that calls the library), i.e.
 *   what one thread hop costs on this machine; the note gives `run()` and the hop.
 * - `run_async_handoff`: `runAsync()` with inline runs turned off (every call handed to
 *   another thread, as for a model whose runs are long), vs the same bare nonblocking call:
 *   the ratio is what the API adds to the thread hop itself. The hop is two thread
 *   wake-ups; on a quiet VM each one wakes a halted virtual CPU (5-60 us in all).
 *   Ours and the peer are timed in alternating batches (the machine is shared and noisy).
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
import { runGateSettings } from "../runtime/run_gate.ts";
import { type BenchRow, runtimeName } from "./row.ts";

const runtime = runtimeName();

/**
 * The rows this module prints (bench/main.ts skips it when `--filter` matches none).
 *
 * @example
 * ```ts
 * import { benchRows } from "./run_overhead.ts";
 * console.log(benchRows.join(", "));
 * ```
 */
export const benchRows: readonly string[] = [
  "run_overhead",
  "run_async_overhead",
  "run_async_handoff",
  "run_tiny_vs_onnxruntime",
];
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

/**
 * Medians of ms per call of `a` and `b`, timed in 15 alternating batches of 200 calls after a
 * warm-up (the machine is shared: both see the same load). A call that returns a promise is
 * awaited; synchronous calls run back to back.
 */
async function alternating(a: () => unknown, b: () => unknown): Promise<[number, number]> {
  const fs = [a, b];
  for (let i = 0; i < 200; i++) for (const f of fs) await f();
  const per: [number[], number[]] = [[], []];
  for (let k = 0; k < 15; k++) {
    for (const [j, f] of fs.entries()) {
      const t0 = performance.now();
      for (let i = 0; i < 200; i++) {
        const p = f();
        if (p instanceof Promise) await p;
      }
      per[j].push((performance.now() - t0) / 200);
    }
  }
  const median = (v: number[]) => v.sort((x, y) => x - y)[Math.floor(v.length / 2)];
  return [median(per[0]), median(per[1])];
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

  // The bare symbol: the same native call with an argument array filled once.
  const api = native();
  const ia = new ArgumentArray(1);
  const oa = new ArgumentArray(1);
  ia.setPointer(0, api.unsafeAddress(input), input.byteLength);
  oa.setPointer(0, api.unsafeAddress(output), output.byteLength);
  const handle = inst.node.handle;
  const sym = api.lib.symbols.axr_run_model_instance;
  const [ours, bare] = await alternating(() => inst.run([input], [output]), () => {
    if (sym(handle, ia.bytes, 1, oa.bytes, 1) !== 0) throw new Error("bare run failed");
  });
  rows.push(row("run_overhead", ours, "bare-ffi-call", bare));

  // runAsync (inline, then handed off) vs the bare nonblocking call: alternating batches
  const lib = api.lib;
  const bareAsync = () => lib.runNonblocking(handle, ia.bytes, 1, oa.bytes, 1, null);
  const ownAsync = () => inst.runAsync([input], [output]);
  const asyncMs = await alternating(ownAsync, bareAsync);
  const saved = runGateSettings.inlineMaxMs;
  runGateSettings.inlineMaxMs = 0;
  let handoffMs: [number, number];
  try {
    handoffMs = await alternating(ownAsync, bareAsync);
  } finally {
    runGateSettings.inlineMaxMs = saved;
  }
  const us = (ms: number) => `${(ms * 1000).toFixed(1)} us`;
  const r = row("run_async_overhead", asyncMs[0], "bare-nonblocking-call", asyncMs[1]);
  r.note = `inline (run_gate.ts); run() ${us(ours)}; a thread hop ${us(asyncMs[1])}`;
  rows.push(r);
  const h = row("run_async_handoff", handoffMs[0], "bare-nonblocking-call", handoffMs[1]);
  h.note = `handed off; the API adds ${us(handoffMs[0] - handoffMs[1])} to the hop`;
  rows.push(h);

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
