/**
 * Writers for the compiled model directory (docs/model-format.md, format version 1):
 * the device program `program.axp`, `model.json` and `manifest.json`.
 *
 * Plain TypeScript over `node:fs` / `node:path`, so it runs unchanged under Deno and Bun.
 *
 * @example Build a one-op program and write a model directory
 * ```ts
 * import { ProgramBuilder, writeModelDirectory } from "./compiler/program.ts";
 *
 * const p = new ProgramBuilder();
 * const x = p.addInput({ name: "x", shape: [1, 4, 4, 3], scale: 0.5, zero_point: 1,
 *   padding: [[0, 0], [0, 0], [0, 0], [0, 1]] });
 * const y = p.addTensor({ name: "y", shape: [1, 4, 4, 3], scale: 0.5, zero_point: 1 });
 * p.addOp({ op: "Relu", name: "relu", inputs: [x], outputs: [y] });
 * p.markOutput(y);
 * writeModelDirectory("build/relu", { name: "relu", program: p.finish() });
 * ```
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The magic at offset 0 of `program.axp`. @example `bytes.subarray(0, 8)` spells PROGRAM_MAGIC */
export const PROGRAM_MAGIC = "AXRPROG\0";
/** The program format version this writer produces. @example `PROGRAM_VERSION === 1` */
export const PROGRAM_VERSION = 1;

/** Element type of program inputs and outputs (every other tensor is int8). @example `const d: TensorDtype = "uint8"` */
export type TensorDtype = "int8" | "uint8";

/**
 * One tensor of the program: 4-D, NHWC, per-tensor quantization.
 *
 * @example
 * ```ts
 * const t: TensorSpec = { name: "x", shape: [1, 8, 8, 3], scale: 0.0078125, zero_point: -1 };
 * ```
 */
export interface TensorSpec {
  /** Tensor name (unique within the program is recommended, not required). */
  name: string;
  /** Logical NHWC shape (4 dimensions, each 1..65535). */
  shape: number[];
  /** Quantization scale; stored as float32 (the writer rounds it with Math.fround). */
  scale: number;
  /** Quantization zero point, within the dtype's range. */
  zero_point: number;
  /** `"int8"` (default) or `"uint8"` (program inputs and outputs only). */
  dtype?: TensorDtype;
  /** [[lo, hi]] per NHWC axis; only on program inputs and outputs. */
  padding?: number[][];
}

/**
 * A reference into the data section: bytes `offset .. offset+length` after `data_start`.
 *
 * @example
 * ```ts
 * const r: DataRef = { offset: 0, length: 16 };
 * ```
 */
export interface DataRef {
  offset: number;
  length: number;
}

/**
 * One op of the program: `op`, `name`, `inputs`, `outputs` (tensor indices) and the
 * op's attributes and data references (see the op table of docs/model-format.md).
 *
 * @example
 * ```ts
 * const op: OpSpec = { op: "Clip", name: "clip", inputs: [0], outputs: [1], lo: -100, hi: 100 };
 * ```
 */
export interface OpSpec {
  op: string;
  name: string;
  inputs: number[];
  outputs: number[];
  [attribute: string]: unknown;
}

/**
 * The JSON section of `program.axp`.
 *
 * @example
 * ```ts
 * const j: ProgramJson = { tensors: [], inputs: [], outputs: [], ops: [] };
 * ```
 */
export interface ProgramJson {
  tensors: TensorSpec[];
  inputs: number[];
  outputs: number[];
  ops: OpSpec[];
}

/**
 * A program ready to be encoded: its JSON section and its data section.
 *
 * @example
 * ```ts
 * const prog: Program = { json: { tensors: [], inputs: [], outputs: [], ops: [] }, data: new Uint8Array(0) };
 * const bytes = encodeProgram(prog);
 * ```
 */
export interface Program {
  json: ProgramJson;
  data: Uint8Array;
}

/** Raised for an inconsistent program or model description given to the writers. @example `new ProgramError("bad scale")` */
export class ProgramError extends Error {
  /**
   * @example
   * ```ts
   * throw new ProgramError("tensor 3: shape must have 4 dimensions");
   * ```
   */
  constructor(message: string) {
    super(message);
    this.name = "ProgramError";
  }
}

/** Bytes of any typed array, without copying. */
function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Builds a program incrementally: tensors, ops, and a data section where every blob is
 * aligned to 16 bytes (which satisfies the element-size alignment rule for int32/f32).
 *
 * @example
 * ```ts
 * const p = new ProgramBuilder();
 * const x = p.addInput({ name: "x", shape: [1, 1, 1, 4], scale: 0.1, zero_point: 0 });
 * const y = p.addTensor({ name: "y", shape: [1, 1, 1, 2], scale: 0.2, zero_point: 0 });
 * p.addOp({ op: "Gemm", name: "fc", inputs: [x], outputs: [y],
 *   weights: p.addData(new Int8Array(8)), bias: p.addData(new Int32Array(2)),
 *   w_scale: p.addData(new Float32Array([0.01, 0.01])) });
 * p.markOutput(y);
 * const bytes = encodeProgram(p.finish());
 * ```
 */
export class ProgramBuilder {
  readonly tensors: TensorSpec[] = [];
  readonly inputs: number[] = [];
  readonly outputs: number[] = [];
  readonly ops: OpSpec[] = [];
  #chunks: Uint8Array[] = [];
  #size = 0;

  /**
   * Adds a tensor and returns its index. The scale is rounded to float32.
   *
   * @example
   * ```ts
   * const t = new ProgramBuilder().addTensor({ name: "t", shape: [1, 2, 2, 8], scale: 0.05, zero_point: 0 });
   * ```
   */
  addTensor(spec: TensorSpec): number {
    if (spec.shape.length !== 4) throw new ProgramError(`tensor ${spec.name}: shape must have 4 dimensions`);
    for (const d of spec.shape) {
      if (!Number.isInteger(d) || d < 1 || d > 65535) {
        throw new ProgramError(`tensor ${spec.name}: dimension ${d} outside 1..65535`);
      }
    }
    const scale = Math.fround(spec.scale);
    if (!(scale > 0) || !Number.isFinite(scale)) throw new ProgramError(`tensor ${spec.name}: bad scale ${spec.scale}`);
    const t: TensorSpec = { name: spec.name, shape: [...spec.shape], scale, zero_point: spec.zero_point };
    if (spec.dtype && spec.dtype !== "int8") t.dtype = spec.dtype;
    const [lo, hi] = spec.dtype === "uint8" ? [0, 255] : [-128, 127];
    if (!Number.isInteger(spec.zero_point) || spec.zero_point < lo || spec.zero_point > hi) {
      throw new ProgramError(`tensor ${spec.name}: zero point ${spec.zero_point} outside ${lo}..${hi}`);
    }
    if (spec.padding && spec.padding.some(([a, b]) => a !== 0 || b !== 0)) {
      if (spec.padding.length !== 4) throw new ProgramError(`tensor ${spec.name}: padding needs 4 [lo, hi] pairs`);
      t.padding = spec.padding.map(([a, b]) => [a, b]);
    }
    this.tensors.push(t);
    return this.tensors.length - 1;
  }

  /**
   * Adds a tensor and marks it as a program input.
   *
   * @example
   * ```ts
   * const x = new ProgramBuilder().addInput({ name: "x", shape: [1, 8, 8, 3], scale: 1 / 64, zero_point: 3 });
   * ```
   */
  addInput(spec: TensorSpec): number {
    const i = this.addTensor(spec);
    this.inputs.push(i);
    return i;
  }

  /**
   * Marks an existing tensor as a program output (in call order).
   *
   * @example
   * ```ts
   * const p = new ProgramBuilder();
   * p.markOutput(p.addTensor({ name: "y", shape: [1, 1, 1, 10], scale: 0.1, zero_point: 0 }));
   * ```
   */
  markOutput(index: number, padding?: number[][]): void {
    if (padding && padding.some(([a, b]) => a !== 0 || b !== 0)) {
      this.tensors[index].padding = padding.map(([a, b]) => [a, b]);
    }
    this.outputs.push(index);
  }

  /**
   * Appends an op (ops run in the order they are added).
   *
   * @example
   * ```ts
   * const p = new ProgramBuilder();
   * p.addOp({ op: "Relu", name: "r", inputs: [0], outputs: [1] });
   * ```
   */
  addOp(op: OpSpec): void {
    this.ops.push(op);
  }

  /**
   * Appends a blob to the data section at a 16-byte aligned offset; returns its reference.
   *
   * @example
   * ```ts
   * const ref = new ProgramBuilder().addData(new Float32Array([0.5, 0.25])); // {offset: 0, length: 8}
   * ```
   */
  addData(array: ArrayBufferView): DataRef {
    const pad = (16 - (this.#size % 16)) % 16;
    if (pad) {
      this.#chunks.push(new Uint8Array(pad));
      this.#size += pad;
    }
    const offset = this.#size;
    const bytes = bytesOf(array).slice(); // little-endian on every supported host
    this.#chunks.push(bytes);
    this.#size += bytes.length;
    return { offset, length: bytes.length };
  }

  /**
   * Returns the program (JSON + data section) built so far.
   *
   * @example
   * ```ts
   * const prog = new ProgramBuilder().finish(); // { json: {...}, data: Uint8Array(0) }
   * ```
   */
  finish(): Program {
    const data = new Uint8Array(this.#size);
    let o = 0;
    for (const c of this.#chunks) {
      data.set(c, o);
      o += c.length;
    }
    return {
      json: { tensors: this.tensors, inputs: this.inputs, outputs: this.outputs, ops: this.ops },
      data,
    };
  }
}

/**
 * Encodes a program as the bytes of `program.axp`: magic, version, JSON length, JSON,
 * zero padding to a multiple of 16, data section.
 *
 * @example
 * ```ts
 * const bytes = encodeProgram({ json: { tensors: [], inputs: [], outputs: [], ops: [] }, data: new Uint8Array(0) });
 * // bytes.subarray(0, 8) is "AXRPROG\0"
 * ```
 */
export function encodeProgram(program: Program): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(program.json));
  const dataStart = 16 + json.length + ((16 - (json.length % 16)) % 16);
  const out = new Uint8Array(dataStart + program.data.length);
  for (let i = 0; i < 8; i++) out[i] = PROGRAM_MAGIC.charCodeAt(i);
  const view = new DataView(out.buffer);
  view.setUint32(8, PROGRAM_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(program.data, dataStart);
  return out;
}

/** Shape of a tensor's device buffer: logical shape plus padding. */
function paddedShape(t: TensorSpec): number[] {
  return t.shape.map((d, i) => d + (t.padding ? t.padding[i][0] + t.padding[i][1] : 0));
}

/** NHWC -> NCHW for a 4-D shape. */
function nchw(s: number[]): number[] {
  return [s[0], s[3], s[1], s[2]];
}

/**
 * What the manifest needs beyond the program: names and original shapes (default: the
 * logical shapes in NCHW order), and the pre/postamble file names.
 *
 * @example
 * ```ts
 * const o: ManifestOptions = { inputShapesOriginal: [[1, 3, 224, 224]], postambleGraph: "postamble.onnx" };
 * ```
 */
export interface ManifestOptions {
  inputNames?: string[];
  outputNames?: string[];
  inputShapesOriginal?: number[][];
  outputShapesOriginal?: number[][];
  preambleGraph?: string | null;
  postambleGraph?: string | null;
  programFile?: string;
}

/**
 * Builds the `manifest.json` object (Axelera's keys) for a program's inputs and outputs.
 *
 * @example
 * ```ts
 * const p = new ProgramBuilder();
 * p.addInput({ name: "x", shape: [1, 8, 8, 3], scale: 0.5, zero_point: 0, padding: [[0, 0], [0, 0], [0, 0], [0, 1]] });
 * const m = makeManifest(p.finish().json); // m.input_shapes is [[1, 8, 8, 4]]
 * ```
 */
export function makeManifest(json: ProgramJson, options: ManifestOptions = {}): Record<string, unknown> {
  const ins = json.inputs.map((i) => json.tensors[i]);
  const outs = json.outputs.map((i) => json.tensors[i]);
  const flatPad = (t: TensorSpec) => (t.padding ?? [[0, 0], [0, 0], [0, 0], [0, 0]]).flat();
  return {
    manifest_version: 1,
    input_names: options.inputNames ?? ins.map((t) => t.name),
    output_names: options.outputNames ?? outs.map((t) => t.name),
    quantize_params: ins.map((t) => [t.scale, t.zero_point]),
    dequantize_params: outs.map((t) => [t.scale, t.zero_point]),
    input_shapes: ins.map(paddedShape),
    output_shapes: outs.map(paddedShape),
    input_shapes_original: options.inputShapesOriginal ?? ins.map((t) => nchw(t.shape)),
    output_shapes_original: options.outputShapesOriginal ?? outs.map((t) => nchw(t.shape)),
    n_padded_ch_inputs: ins.map(flatPad),
    n_padded_ch_outputs: outs.map(flatPad),
    input_dtypes: ins.map((t) => t.dtype ?? "int8"),
    output_dtypes: outs.map((t) => t.dtype ?? "int8"),
    preprocess_graph: options.preambleGraph ?? null,
    postprocess_graph: options.postambleGraph ?? null,
    model_lib_file: options.programFile ?? "program.axp",
    input_tensor_layout: "NHWC",
  };
}

/**
 * What `writeModelDirectory` writes: the program and the optional ONNX graphs (bytes).
 *
 * @example
 * ```ts
 * const m: ModelDirectory = { name: "tiny", program: new ProgramBuilder().finish() };
 * ```
 */
export interface ModelDirectory {
  name: string;
  program: Program;
  preamble?: Uint8Array;
  postamble?: Uint8Array;
  quantized?: Uint8Array;
  manifest?: Omit<ManifestOptions, "preambleGraph" | "postambleGraph" | "programFile">;
}

/**
 * Writes a compiled model directory: `model.json`, `manifest.json`, `program.axp` and,
 * when given, `preamble.onnx`, `postamble.onnx`, `quantized.onnx`. Creates `dir`.
 * Returns the path of `model.json` (what `Context.loadModel` takes).
 *
 * @example
 * ```ts
 * const p = new ProgramBuilder();
 * const x = p.addInput({ name: "x", shape: [1, 2, 2, 4], scale: 0.5, zero_point: 0 });
 * const y = p.addTensor({ name: "y", shape: [1, 2, 2, 4], scale: 0.5, zero_point: 0 });
 * p.addOp({ op: "Relu", name: "relu", inputs: [x], outputs: [y] });
 * p.markOutput(y);
 * const modelJson = writeModelDirectory("/tmp/relu", { name: "relu", program: p.finish() });
 * ```
 */
export function writeModelDirectory(dir: string, model: ModelDirectory): string {
  mkdirSync(dir, { recursive: true });
  const pre = model.preamble ? "preamble.onnx" : null;
  const post = model.postamble ? "postamble.onnx" : null;
  writeFileSync(join(dir, "program.axp"), encodeProgram(model.program));
  if (model.preamble) writeFileSync(join(dir, pre!), model.preamble);
  if (model.postamble) writeFileSync(join(dir, post!), model.postamble);
  if (model.quantized) writeFileSync(join(dir, "quantized.onnx"), model.quantized);
  const manifest = makeManifest(model.program.json, {
    ...model.manifest,
    preambleGraph: pre,
    postambleGraph: post,
    programFile: "program.axp",
  });
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest, null, 1) + "\n");
  const modelJson = {
    format: "axr-model",
    version: 1,
    name: model.name,
    manifest: "manifest.json",
    program: "program.axp",
    preamble_graph: pre,
    postamble_graph: post,
    input_tensor_layout: "NHWC",
  };
  const path = join(dir, "model.json");
  writeFileSync(path, JSON.stringify(modelJson, null, 2) + "\n");
  return path;
}
