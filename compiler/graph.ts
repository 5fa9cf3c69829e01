/**
 * The compiler's graph: a small, mutable, ONNX-shaped IR (nodes with named inputs and
 * outputs, attributes, constant tensors). `compiler/from_onnx.ts` builds it from a parsed
 * ONNX model; every pass of the compiler works on it.
 *
 * @example
 * ```ts
 * import { Graph, constant } from "./compiler/graph.ts";
 * const g = new Graph();
 * g.inputs.push({ name: "x", shape: [1, 3, 8, 8] });
 * g.consts.set("w", constant([4, 3, 1, 1], new Float32Array(12)));
 * g.nodes.push({ op: "Conv", name: "c", inputs: ["x", "w"], outputs: ["y"], attrs: {} });
 * g.outputs.push("y");
 * ```
 * @module
 */

/** Element types the compiler handles in constants. @example `const d: DType = "int8"` */
export type DType = "float32" | "int64" | "int32" | "int8" | "uint8" | "bool" | "float64";

/**
 * A constant tensor. Float data is a Float32Array; integer data (shapes, indices,
 * quantized weights) is a Float64Array holding exact integers.
 *
 * @example
 * ```ts
 * const t: Const = constant([2], new Float64Array([1, 2]), "int64");
 * ```
 */
export interface Const {
  dims: number[];
  dtype: DType;
  data: Float32Array | Float64Array;
}

/** Attribute values (ONNX attributes, decoded). @example `const a: AttrValue = [1, 1]` */
export type AttrValue = number | number[] | string | string[] | Const;

/**
 * A node: ONNX op type, unique name, input and output tensor names ("" = absent optional
 * input), attributes.
 *
 * @example
 * ```ts
 * const n: Node = { op: "Relu", name: "r", inputs: ["x"], outputs: ["y"], attrs: {} };
 * ```
 */
export interface Node {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  /** Opset of the model the node came from, when below 13 (Softmax then flattens to 2-D). */
  opset?: number;
  /** ONNX attribute type codes, when the node came from a file (kept when written back). */
  attrTypes?: Record<string, number>;
  domain?: string;
}

/**
 * A graph input: name and shape (numbers, or strings for symbolic dimensions).
 *
 * @example
 * ```ts
 * const i: GraphInput = { name: "x", shape: [1, 3, "h", "w"] };
 * ```
 */
export interface GraphInput {
  name: string;
  shape: (number | string)[];
  dtype?: DType;
}

/**
 * Makes a constant tensor.
 *
 * @example
 * ```ts
 * const w = constant([2, 2], new Float32Array([1, 0, 0, 1]));
 * ```
 */
export function constant(dims: number[], data: Float32Array | Float64Array, dtype?: DType): Const {
  return { dims: [...dims], data, dtype: dtype ?? (data instanceof Float32Array ? "float32" : "int64") };
}

/**
 * Makes a float32 constant (zeros when `data` is omitted).
 *
 * @example
 * ```ts
 * const z = f32([2, 3]); // 6 zeros
 * ```
 */
export const f32 = (dims: number[], data?: Float32Array) =>
  constant(dims, data ?? new Float32Array(numel(dims)), "float32");

/** A number attribute of `n`, or `d` when absent or not a number. @example `attrN(n, "group", 1)` */
export const attrN = (n: Node, k: string, d: number) => (typeof n.attrs[k] === "number" ? (n.attrs[k] as number) : d);

/** A number-array attribute of `n`, or `d` when absent or not an array. @example `attrA(n, "strides", [1, 1])` */
export const attrA = (n: Node, k: string, d: number[]) => (Array.isArray(n.attrs[k]) ? (n.attrs[k] as number[]) : d);

/** Raised for models the compiler cannot handle; names the node and the reason. @example `new CompileError("node n (Op): reason")` */
export class CompileError extends Error {
  /**
   * @example
   * ```ts
   * throw new CompileError("node conv1 (Conv): weights are not constant");
   * ```
   */
  constructor(message: string, options: { usage?: boolean } = {}) {
    super(message);
    this.name = "CompileError";
    this.usage = options.usage ?? false;
  }

  /** The input lacks something the command line gives (e.g. `--input-shape`): exit 2, not 1. */
  readonly usage: boolean;
}

/**
 * The graph: nodes in topological order, inputs, output names, constants by name.
 *
 * @example
 * ```ts
 * const g = new Graph();
 * g.producer("y"); // undefined: nothing produces y
 * ```
 */
export class Graph {
  nodes: Node[] = [];
  inputs: GraphInput[] = [];
  outputs: string[] = [];
  consts: Map<string, Const> = new Map();
  /** Default-domain ONNX opset of the model the graph came from (0: unknown). */
  opset = 0;
  /** Static shapes of tensors, filled by `inferShapes`. */
  shapes: Map<string, number[]> = new Map();
  /** Element types of non-float tensors (int64 indices, bool masks), filled by `inferShapes`. */
  dtypes: Map<string, DType> = new Map();
  /** Activation quantization given by the model (QDQ models), by float tensor name. */
  quant: Map<string, { scale: number; zeroPoint: number }> = new Map();
  /** Per-output-channel weight scales given by the model (QDQ models), by constant name. */
  weightScales: Map<string, Float32Array> = new Map();

  /**
   * The node producing a tensor (undefined for inputs and constants).
   *
   * @example
   * ```ts
   * new Graph().producer("x"); // undefined
   * ```
   */
  producer(name: string): Node | undefined {
    return this.nodes.find((n) => n.outputs.includes(name));
  }

  /**
   * The nodes reading a tensor.
   *
   * @example
   * ```ts
   * new Graph().consumers("x"); // []
   * ```
   */
  consumers(name: string): Node[] {
    return this.nodes.filter((n) => n.inputs.includes(name));
  }

  /**
   * Renames every use of tensor `from` to `to` (node inputs and graph outputs).
   *
   * @example
   * ```ts
   * const g = new Graph(); g.outputs.push("a"); g.replaceUses("a", "b"); // outputs: ["b"]
   * ```
   */
  replaceUses(from: string, to: string): void {
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
    this.outputs = this.outputs.map((o) => (o === from ? to : o));
  }

  /**
   * Removes nodes whose outputs nobody uses (and constants nobody reads).
   *
   * @example
   * ```ts
   * new Graph().prune();
   * ```
   */
  prune(): void {
    let changed = true;
    while (changed) {
      changed = false;
      const used = new Set<string>(this.outputs);
      for (const n of this.nodes) for (const i of n.inputs) used.add(i);
      const keep = this.nodes.filter((n) => n.outputs.some((o) => used.has(o)));
      if (keep.length !== this.nodes.length) {
        this.nodes = keep;
        changed = true;
      }
    }
    const used = new Set<string>(this.outputs);
    for (const n of this.nodes) for (const i of n.inputs) used.add(i);
    for (const k of [...this.consts.keys()]) if (!used.has(k)) this.consts.delete(k);
  }

  /**
   * A fresh tensor/node name starting with `base`.
   *
   * @example
   * ```ts
   * new Graph().fresh("tmp"); // "tmp"
   * ```
   */
  fresh(base: string): string {
    const taken = (s: string) =>
      this.consts.has(s) || this.inputs.some((i) => i.name === s) ||
      this.nodes.some((n) => n.name === s || n.outputs.includes(s));
    if (!taken(base)) return base;
    for (let k = 1;; k++) if (!taken(`${base}_${k}`)) return `${base}_${k}`;
  }
}

/** Number of elements of a shape. @example `numel([1, 3, 8, 8]) === 192` */
export function numel(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
