/**
 * What `ModelInstance.infer()` takes and returns, as metadata: names, original
 * (float) shapes and datatypes, for servers and tools that describe a model.
 *
 * @module
 */
import { hostTensors, loadHostGraph } from "./host_files.ts";
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

const dims = (s: readonly unknown[] | null): number[] =>
  (s ?? []).map((d) => (typeof d === "number" && d > 0 ? d : -1));

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
  const host = hostTensors(model);
  const devIn = host.inputNames.map((name, i) => ({
    name,
    shape: [...host.inputShapes[i]],
    datatype: "FP32" as const,
  }));
  const devOut = host.outputNames.map((name, i) => ({
    name,
    shape: [...host.outputShapes[i]],
    datatype: "FP32" as const,
  }));
  const props = model.properties;
  const pre = loadHostGraph(model, props.preambleGraph);
  const post = loadHostGraph(model, props.postambleGraph);
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
