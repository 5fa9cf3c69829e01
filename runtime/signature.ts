/**
 * What `ModelInstance.infer()` takes and returns, as metadata: names, original
 * (float) shapes and datatypes, for servers and tools that describe a model.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { OnnxGraph } from "../onnx/mod.ts";
import type { Model } from "./model.ts";

/** One tensor of a {@link ModelSignature}; `-1` marks a dimension not known ahead. */
export interface SignatureTensor {
  /** The tensor's name, as infer() takes or returns it. */
  name: string;
  /** The original (float, NCHW) shape; `-1` for a dimension not known ahead. */
  shape: number[];
  /** Always `"FP32"`: infer() takes and returns Float32Array data. */
  datatype: "FP32";
}

/** The float inputs and outputs of `infer()`. */
export interface ModelSignature {
  /** The inputs, in model order. */
  inputs: SignatureTensor[];
  /** The outputs: postamble outputs, then device outputs no postamble consumes. */
  outputs: SignatureTensor[];
}

function manifestOf(dir: string): Record<string, unknown> {
  try {
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    return typeof m === "object" && m !== null ? m : {};
  } catch {
    return {};
  }
}

function graphOf(dir: string, rel: string | undefined): OnnxGraph | undefined {
  if (!rel) return undefined;
  return OnnxGraph.fromBytes(new Uint8Array(readFileSync(isAbsolute(rel) ? rel : join(dir, rel))));
}

const dims = (s: readonly unknown[] | null): number[] =>
  (s ?? []).map((d) => (typeof d === "number" && d > 0 ? d : -1));
const nchw = (s: readonly number[]): number[] => (s.length === 4 ? [s[0], s[3], s[1], s[2]] : [...s]);

/**
 * The float signature of a model's `infer()`: inputs (the preamble's, or the device
 * inputs in their original shapes) and outputs (the postamble's, plus device outputs no
 * postamble consumes).
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const sig = modelSignature(ctx.loadModel("tests/fixtures/tiny/model.json"));
 * console.log(sig.inputs[0]); // { name: "input", shape: [1, 3, 8, 8], datatype: "FP32" }
 * ```
 */
export function modelSignature(model: Model): ModelSignature {
  const dir = model.directory;
  const m = manifestOf(dir) as {
    input_names?: string[];
    output_names?: string[];
    input_shapes_original?: number[][];
    output_shapes_original?: number[][];
  };
  const ins = model.inputs();
  const outs = model.outputs();
  const devIn = ins.map((t, i) => ({
    name: m.input_names?.[i] ?? (t.name || `input_${i}`),
    shape: m.input_shapes_original?.[i] ?? nchw(t.unpaddedShape),
    datatype: "FP32" as const,
  }));
  const devOut = outs.map((t, i) => ({
    name: m.output_names?.[i] ?? (t.name || `output_${i}`),
    shape: m.output_shapes_original?.[i] ?? nchw(t.unpaddedShape),
    datatype: "FP32" as const,
  }));
  const props = model.properties;
  const pre = graphOf(dir, props.preambleGraph);
  const post = graphOf(dir, props.postambleGraph);
  const inputs = pre
    ? pre.inputs.map((v) => ({ name: v.name, shape: dims(v.shape), datatype: "FP32" as const }))
    : devIn;
  let outputs = devOut;
  if (post) {
    const consumed = new Set(post.inputs.map((v) => v.name));
    outputs = [
      ...post.outputs.map((v) => ({ name: v.name, shape: dims(v.shape), datatype: "FP32" as const })),
      ...devOut.filter((o) => !consumed.has(o.name)),
    ];
  }
  return { inputs, outputs };
}
