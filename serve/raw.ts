/**
 * Raw device tensors (`"parameters": {"raw": true}` on an inference request): the
 * quantized, padded int8/uint8 tensors the device takes and returns, passed to
 * `ModelInstance.runAsync()` as they are, without the pre- and postamble, quantize,
 * pad, depad or dequantize of `infer()`. For clients that do that host work themselves.
 *
 * @module
 */
import type { InferOutputs, InferTensor, Model, ModelInstance, Tensor, TensorInfo } from "../mod.ts";
import type { WireSignature, WireTensor } from "./protocol.ts";

/** A raw tensor as the model metadata describes it: also how to quantize and pad for it. */
export interface RawTensor extends WireTensor {
  parameters: { scale: number; zero_point: number; padding: number[][]; unpadded_shape: number[] };
}

/** The raw inputs and outputs of a model. */
export interface RawSignature extends WireSignature {
  inputs: RawTensor[];
  outputs: RawTensor[];
}

function describe(t: TensorInfo, i: number, kind: "input" | "output"): RawTensor {
  return {
    name: t.name || `${kind}_${i}`,
    datatype: t.dtype === "uint8" ? "UINT8" : t.dtype === "float32" ? "FP32" : "INT8",
    shape: [...t.shape],
    parameters: {
      scale: t.scale,
      zero_point: t.zeroPoint,
      padding: t.padding.map((p) => [...p]),
      unpadded_shape: [...t.unpaddedShape],
    },
  };
}

/**
 * The device tensors of `model`, named as its TensorInfo names them (`input_0` ... when
 * unnamed).
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const raw = rawSignature(model);
 * console.log(raw.inputs[0]); // { name, datatype: "INT8", shape: [1, 10, 10, 4], parameters: { scale, ... } }
 * ```
 */
export function rawSignature(model: Model): RawSignature {
  return {
    inputs: model.inputs().map((t, i) => describe(t, i, "input")),
    outputs: model.outputs().map((t, i) => describe(t, i, "output")),
  };
}

/**
 * Runs the device tensors `inputs` (by raw name) on `inst`; the raw outputs by name.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const inst = conn.loadModelInstance(model);
 * const raw = rawSignature(model);
 * const { name, shape } = raw.inputs[0]; // "input", [1, 8, 8, 4]: padded NHWC
 * const q = new Int8Array(shape.reduce((a, b) => a * b, 1));
 * const outs = await runRaw(inst, model, raw, { [name]: { data: q, shape, dtype: "int8" } });
 * ```
 */
export async function runRaw(
  inst: ModelInstance,
  model: Model,
  raw: RawSignature,
  inputs: Record<string, Tensor>,
): Promise<InferOutputs> {
  const ins = raw.inputs.map((t) => inputs[t.name].data as Int8Array | Uint8Array | Float32Array);
  const infos = model.outputs();
  const outs = infos.map((
    t,
  ) => (t.dtype === "uint8"
    ? new Uint8Array(t.size)
    : t.dtype === "float32"
    ? new Float32Array(t.size / 4)
    : new Int8Array(t.size))
  );
  await inst.runAsync(ins, outs);
  const result: InferOutputs = {};
  // data and dtype come from the same TensorInfo (dtype picks the array above): they pair.
  raw.outputs.forEach((t, i) => {
    result[t.name] = { data: outs[i], shape: [...t.shape], dtype: infos[i].dtype } as InferTensor;
  });
  return result;
}
