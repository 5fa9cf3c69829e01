/**
 * The whole host path of one inference, as Axelera's Python examples do it by hand:
 * preamble graph, NCHW -> NHWC, quantize + pad, the device run, depad + dequantize
 * (+ NHWC -> NCHW), postamble graph. Device buffers live in the kernels' WebAssembly
 * memory, so quantize -> run -> dequantize copies nothing.
 *
 * @module
 */
import {
  allocate,
  depadDequantize,
  depadDequantizeNchw,
  nchwToNhwc,
  quantizePad,
  type WasmBuffer,
} from "../kernels/mod.ts";
import type { OnnxGraph, Tensor } from "../onnx/mod.ts";
import { invalidArgument } from "./errors.ts";
import { hostTensors, loadHostGraph } from "./host_files.ts";
import type { AnyTypedArray, TensorInfo } from "./tensor_info.ts";

/**
 * One input's values as a typed array of numbers. A Float32Array is taken as it is;
 * other element types (e.g. a Uint8Array of pixels) are converted to float32 by
 * value, as a float model takes them.
 */
export type NumericArray = Exclude<AnyTypedArray, BigInt64Array | BigUint64Array>;

/**
 * Float inputs of `infer()`: one array (single-input models), a list in model order, or
 * a record by name. Arrays take the input's original shape; a {@link Tensor} gives its own.
 */
export type InferInputs =
  | NumericArray
  | Tensor
  | readonly (NumericArray | Tensor)[]
  | Readonly<Record<string, NumericArray | Tensor>>;

/** A typed array of numbers (any element type but bigint), not a DataView. */
function isNumericArray(v: unknown): v is NumericArray {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) &&
    !(v instanceof BigUint64Array);
}

/** The data array that holds each element type (bool as 0/1 bytes, float16 as raw bits). */
export interface TensorDataOf {
  /** 32-bit floats. */
  float32: Float32Array;
  /** 64-bit floats. */
  float64: Float64Array;
  /** Signed bytes. */
  int8: Int8Array;
  /** Unsigned bytes. */
  uint8: Uint8Array;
  /** 16-bit signed integers. */
  int16: Int16Array;
  /** 16-bit unsigned integers. */
  uint16: Uint16Array;
  /** 32-bit signed integers. */
  int32: Int32Array;
  /** 32-bit unsigned integers. */
  uint32: Uint32Array;
  /** 64-bit signed integers (bigint). */
  int64: BigInt64Array;
  /** 64-bit unsigned integers (bigint). */
  uint64: BigUint64Array;
  /** 0/1 bytes. */
  bool: Uint8Array;
  /** Raw IEEE half-precision bits. */
  float16: Uint16Array;
  /** Strings. */
  string: string[];
}

/**
 * One output of `infer()`: `data` typed by `dtype`. Dequantized device outputs and
 * float postambles give `"float32"`; narrow on `dtype` and `data` is a Float32Array.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const inst = conn.loadModelInstance(model);
 * const [y] = Object.values(inst.infer(new Float32Array(model.inputs()[0].unpaddedLength)));
 * if (y.dtype === "float32") console.log(Math.max(...y.data));
 * ```
 */
export type InferTensor = { [D in keyof TensorDataOf]: { data: TensorDataOf[D]; shape: number[]; dtype: D } }[
  keyof TensorDataOf
];

/** Outputs of `infer()`, by name: the postamble's outputs, and device outputs no postamble consumes. */
export type InferOutputs = Record<string, InferTensor>;

/**
 * A graph runner's tensor as an {@link InferTensor}: the runner keeps `data` and
 * `dtype` in step (onnx/tensor.ts), so the pairing holds.
 */
function typed(t: Tensor): InferTensor {
  return t as InferTensor;
}

/** What the pipeline needs of a model. */
export interface InferModel {
  readonly directory: string;
  readonly properties: { preambleGraph?: string; postambleGraph?: string };
  inputs(): TensorInfo[];
  outputs(): TensorInfo[];
}

const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** The element order of a device tensor (NHWC, 4-D) against its original shape. */
function isNchwOf(original: readonly number[], logical: readonly number[]): boolean {
  return original.length === 4 && logical.length === 4 &&
    original[0] === logical[0] && original[1] === logical[3] && original[2] === logical[1] &&
    original[3] === logical[2] &&
    !(logical[3] === 1 || logical[1] * logical[2] === 1); // a transpose that moves nothing is skipped
}

/**
 * One model's host pipeline, made once per instance and reused: graphs loaded, device
 * buffers allocated in WebAssembly memory.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const inst = conn.loadModelInstance(model);
 * const p = new InferPipeline(model);
 * const out = p.infer(new Float32Array(3 * 224 * 224), (ins, outs) => inst.run(ins, outs));
 * ```
 */
export class InferPipeline {
  readonly #ins: TensorInfo[];
  readonly #outs: TensorInfo[];
  readonly #inNames: string[];
  readonly #outNames: string[];
  readonly #inOriginal: number[][];
  readonly #outOriginal: number[][];
  readonly #pre: OnnxGraph | undefined;
  readonly #post: OnnxGraph | undefined;
  readonly #devIn: WasmBuffer[];
  readonly #devOut: WasmBuffer[];
  readonly #nhwc: WasmBuffer[];
  #freed = false;

  /**
   * Loads the model's pre/postamble graphs and allocates its device buffers.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const p = new InferPipeline(model);
   * ```
   */
  constructor(model: InferModel) {
    const host = hostTensors(model);
    this.#ins = model.inputs();
    this.#outs = model.outputs();
    this.#inNames = [...host.inputNames];
    this.#outNames = [...host.outputNames];
    this.#inOriginal = host.inputShapes.map((s) => [...s]);
    this.#outOriginal = host.outputShapes.map((s) => [...s]);
    this.#ins.forEach((t, i) => this.#checkOriginal("input", i, t, this.#inOriginal[i]));
    this.#outs.forEach((t, i) => this.#checkOriginal("output", i, t, this.#outOriginal[i]));
    this.#pre = loadHostGraph(model, model.properties.preambleGraph);
    this.#post = loadHostGraph(model, model.properties.postambleGraph);
    this.#devIn = this.#ins.map((t) => allocate(t.size));
    this.#devOut = this.#outs.map((t) => allocate(t.size));
    this.#nhwc = this.#ins.map((t) => allocate(4 * product(t.unpaddedShape)));
  }

  #checkOriginal(kind: string, i: number, t: TensorInfo, original: number[]): void {
    if (product(original) !== product(t.unpaddedShape)) {
      throw invalidArgument(
        "ModelInstance.infer()",
        `manifest.json: ${kind} ${i} '${t.name}': original shape ${JSON.stringify(original)} has ${
          product(original)
        } elements, the device tensor ${JSON.stringify(t.unpaddedShape)} has ${product(t.unpaddedShape)}`,
      );
    }
  }

  /** Names of the float inputs `infer()` takes (the preamble's inputs, or the device inputs). */
  get inputNames(): string[] {
    return this.#pre ? this.#pre.inputs.map((v) => v.name) : [...this.#inNames];
  }

  /** The device buffers (WebAssembly memory) that `run` receives. */
  get deviceBuffers(): { inputs: WasmBuffer[]; outputs: WasmBuffer[] } {
    return { inputs: this.#devIn, outputs: this.#devOut };
  }

  #feeds(inputs: InferInputs): Record<string, Tensor> {
    const names = this.inputNames;
    const shapeOf = (name: string): number[] => {
      const d = this.#inNames.indexOf(name);
      if (d >= 0 && !this.#pre) return this.#inOriginal[d];
      const v = this.#pre?.inputs.find((x) => x.name === name);
      return (v?.shape ?? []).map((s) => (typeof s === "number" && s > 0 ? s : -1));
    };
    const asTensor = (name: string, given: NumericArray | Tensor): Tensor => {
      if (given instanceof BigInt64Array || given instanceof BigUint64Array) {
        throw invalidArgument(
          "ModelInstance.infer()",
          `input '${name}': a ${given.constructor.name} is not a float input`,
        );
      }
      if (isNumericArray(given)) {
        const v = given instanceof Float32Array ? given : Float32Array.from(given);
        let shape = shapeOf(name);
        if (shape.some((s) => s < 0)) {
          const known = product(shape.filter((s) => s > 0));
          if (shape.filter((s) => s < 0).length !== 1 || v.length % known !== 0) {
            throw invalidArgument(
              "ModelInstance.infer()",
              `input '${name}' has a dynamic shape ${JSON.stringify(shape)}: pass a tensor {data, shape, dtype}`,
            );
          }
          shape = shape.map((s) => (s < 0 ? v.length / known : s));
        }
        return { data: v, shape, dtype: "float32" };
      }
      if (typeof given !== "object" || given === null || !("data" in given) || !Array.isArray(given.shape)) {
        throw invalidArgument(
          "ModelInstance.infer()",
          `input '${name}' must be a typed array (Float32Array, ...) or a tensor {data, shape, dtype}`,
        );
      }
      return given;
    };
    if (
      ArrayBuffer.isView(inputs) ||
      (!Array.isArray(inputs) && typeof inputs === "object" && inputs !== null && "data" in inputs && "shape" in inputs)
    ) {
      if (names.length !== 1) {
        throw invalidArgument(
          "ModelInstance.infer()",
          `the model has ${names.length} inputs (${names.join(", ")}); pass a list or a record`,
        );
      }
      return { [names[0]]: asTensor(names[0], inputs as NumericArray | Tensor) };
    }
    if (Array.isArray(inputs)) {
      if (inputs.length !== names.length) {
        throw invalidArgument(
          "ModelInstance.infer()",
          `the model has ${names.length} input(s) (${names.join(", ")}), got ${inputs.length}`,
        );
      }
      return Object.fromEntries(names.map((n, i) => [n, asTensor(n, inputs[i])]));
    }
    const rec = inputs as Readonly<Record<string, NumericArray | Tensor>>;
    for (const k of Object.keys(rec)) {
      if (!names.includes(k)) {
        throw invalidArgument("ModelInstance.infer()", `unknown input '${k}' (inputs: ${names.join(", ")})`);
      }
    }
    return Object.fromEntries(names.map((n) => {
      if (!(n in rec)) throw invalidArgument("ModelInstance.infer()", `missing input '${n}'`);
      return [n, asTensor(n, rec[n])];
    }));
  }

  /** Fills the device input buffers from float inputs (preamble, transpose, quantize + pad). */
  prepare(inputs: InferInputs): void {
    this.#live();
    let feeds = this.#feeds(inputs);
    if (this.#pre) feeds = { ...feeds, ...this.#pre.run(feeds) };
    this.#ins.forEach((t, i) => {
      const name = this.#inNames[i];
      const v = feeds[name];
      if (!v) throw invalidArgument("ModelInstance.infer()", `nothing produces device input '${name}'`);
      if (!(v.data instanceof Float32Array)) {
        throw invalidArgument("ModelInstance.infer()", `device input '${name}' must be float32, got ${v.dtype}`);
      }
      const unpadded = t.unpaddedShape;
      if (v.data.length !== product(unpadded)) {
        throw invalidArgument(
          "ModelInstance.infer()",
          `input '${name}' needs ${product(unpadded)} elements (shape ${
            JSON.stringify(this.#inOriginal[i])
          }), got ${v.data.length}`,
        );
      }
      let src: Float32Array | WasmBuffer = v.data;
      if (isNchwOf(this.#inOriginal[i], unpadded)) {
        const o = this.#inOriginal[i];
        src = nchwToNhwc(v.data, [o[0], o[1], o[2], o[3]], this.#nhwc[i]);
      }
      quantizePad(
        src,
        unpadded,
        t.padding.map((p) => [p[0], p[1]] as [number, number]),
        t.scale,
        t.zeroPoint,
        this.#devIn[i],
        t.dtype === "uint8" ? "uint8" : "int8",
      );
    });
  }

  /** Turns the device output buffers into float outputs (depad + dequantize, transpose, postamble). */
  finish(): InferOutputs {
    this.#live();
    const device: Record<string, InferTensor> = {};
    this.#outs.forEach((t, i) => {
      const original = this.#outOriginal[i];
      const dst = new Float32Array(product(original));
      const pad = t.padding.map((p) => [p[0], p[1]] as [number, number]);
      const dt = t.dtype === "uint8" ? "uint8" : "int8";
      if (isNchwOf(original, t.unpaddedShape)) {
        depadDequantizeNchw(this.#devOut[i], t.shape, pad, t.scale, t.zeroPoint, dst, dt);
      } else depadDequantize(this.#devOut[i], t.shape, pad, t.scale, t.zeroPoint, dst, dt);
      device[this.#outNames[i]] = { data: dst, shape: [...original], dtype: "float32" };
    });
    if (!this.#post) return device;
    const used = new Set(this.#post.inputs.map((v) => v.name));
    const feeds: Record<string, Tensor> = {};
    for (const n of used) {
      if (!device[n]) {
        throw invalidArgument(
          "ModelInstance.infer()",
          `the postamble reads '${n}', which is no device output (${this.#outNames.join(", ")})`,
        );
      }
      feeds[n] = device[n];
    }
    const out: InferOutputs = {};
    for (const [n, t] of Object.entries(this.#post.run(feeds))) out[n] = typed(t);
    for (const [n, v] of Object.entries(device)) if (!used.has(n)) out[n] = v;
    return out;
  }

  /**
   * Runs the whole path with `run` doing the device step on the pipeline's buffers.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
   * const [input] = model.inputs();
   * const image = new Float32Array(input.unpaddedLength);
   * using conn = ctx.deviceConnect();
   * const inst = conn.loadModelInstance(model);
   * const p = new InferPipeline(model);
   * const out = p.infer(image, (ins, outs) => inst.run(ins, outs));
   * ```
   */
  infer(inputs: InferInputs, run: (ins: WasmBuffer[], outs: WasmBuffer[]) => void): InferOutputs {
    this.prepare(inputs);
    run(this.#devIn, this.#devOut);
    return this.finish();
  }

  #live(): void {
    if (this.#freed) throw invalidArgument("ModelInstance.infer()", "the model instance was released");
  }

  /** Frees the device buffers (idempotent). */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    for (const b of [...this.#devIn, ...this.#devOut, ...this.#nhwc]) b.free();
  }
}
