/**
 * Calibration with onnxruntime-node (a dev dependency, imported only when present):
 * the ORIGINAL model runs with every activation that the simplified graph keeps added as
 * a graph output; the ranges are collected as by `calibrate` (compiler/calibrate.ts).
 * Much faster than the TypeScript executor on large inputs. Simplification keeps tensor
 * names (a folded BatchNorm's output is the Conv's, a fused HardSwish's output is the
 * pattern's last tensor), so the names match.
 *
 * @example
 * ```ts
 * import { calibrateWithOnnxRuntime } from "./compiler/calibrate_ort.ts";
 * const ranges = await calibrateWithOnnxRuntime(bytes, graph, samples); // undefined without onnxruntime
 * ```
 * @module
 */
import { decodeModel } from "../onnx/read.ts";
import { encodeModel } from "../onnx/write.ts";
import { type CalibrationMethod, type Range, RangeCollector, type Sample } from "./calibrate.ts";
import { CompileError, type Graph } from "./graph.ts";

// deno-lint-ignore no-explicit-any
type Ort = any;

async function loadOrt(): Promise<Ort | undefined> {
  try {
    const spec = "onnxruntime-node";
    return await import(spec);
  } catch {
    return undefined;
  }
}

/**
 * Calibrates with onnxruntime: the ranges by the method and the plain min/max seen;
 * `undefined` when onnxruntime-node cannot be imported.
 *
 * @example
 * ```ts
 * const r = await calibrateWithOnnxRuntime(bytes, graph, samples, (i, n) => console.log(i, n));
 * r?.ranges.get("conv1_out");
 * ```
 */
export async function calibrateWithOnnxRuntime(
  modelBytes: Uint8Array,
  g: Graph,
  samples: Sample[],
  progress?: (done: number, total: number) => void,
  method: CalibrationMethod = "minmax",
): Promise<{ ranges: Map<string, Range>; observed: Map<string, Range> } | undefined> {
  const ort = await loadOrt();
  if (!ort?.InferenceSession) return undefined;
  const m = decodeModel(modelBytes);
  const produced = new Set(m.graph.nodes.flatMap((n) => n.outputs));
  const wanted = new Set<string>();
  // the float tensors: an int64/bool one (TopK's indices, a mask) has no range, and declared
  // as a float output onnxruntime refuses the model
  for (const n of g.nodes) for (const o of n.outputs) if (o && produced.has(o) && !g.dtypes.has(o)) wanted.add(o);
  const existing = new Set(m.graph.outputs.map((o) => o.name));
  for (const name of wanted) if (!existing.has(name)) m.graph.outputs.push({ name, elemType: 1, shape: null });
  let session;
  try {
    session = await ort.InferenceSession.create(encodeModel(m), { graphOptimizationLevel: "disabled" });
  } catch (e) {
    throw new CompileError(`onnxruntime cannot run the model for calibration: ${(e as Error).message}`);
  }
  const rc = new RangeCollector(method);
  for (const [k, sample] of samples.entries()) {
    const feeds: Record<string, unknown> = {};
    g.inputs.forEach((inp, i) => {
      feeds[inp.name] = new ort.Tensor("float32", sample[i], inp.shape as number[]);
      rc.note(inp.name, sample[i]);
    });
    const res = await session.run(feeds);
    for (const name of wanted) {
      const t = res[name];
      if (t && t.data instanceof Float32Array) rc.note(name, t.data);
    }
    progress?.(k + 1, samples.length);
  }
  await session.release?.();
  return { ranges: rc.ranges(samples.length), observed: rc.observed() };
}
