/**
 * The bridge between ONNX files (read and written by `onnx/`: `decodeModel`,
 * `encodeModel`) and the compiler's graph (`compiler/graph.ts`).
 *
 * @example
 * ```ts
 * import { decodeOnnx, encodeOnnx } from "./compiler/onnx_io.ts";
 * const graph = decodeOnnx(bytes);          // ONNX bytes -> compiler graph
 * const again = encodeOnnx(graph);          // compiler graph -> ONNX bytes
 * ```
 * @module
 */
import { decodeModel } from "../onnx/read.ts";
import { encodeModel } from "../onnx/write.ts";
import {
  type AttributeProto,
  AttributeType,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from "../onnx/model.ts";
import type { TensorData } from "../onnx/tensor.ts";
import { type AttrValue, CompileError, type Const, constant, type DType, Graph, type Node } from "./graph.ts";

/** ONNX TensorProto.DataType codes of the compiler's element types. @example `ONNX_DTYPE.int8 === 3` */
export const ONNX_DTYPE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
};
const FROM_CODE: Record<number, DType> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  6: "int32",
  7: "int64",
  9: "bool",
  11: "float64",
};

/** Attributes that ONNX defines as floats (for nodes the compiler creates itself). */
const FLOAT_ATTRS = new Set([
  "alpha",
  "beta",
  "epsilon",
  "momentum",
  "min",
  "max",
  "gamma",
  "ratio",
  "value_float",
  "value_floats",
  "lambd",
  "extrapolation_value",
  "cubic_coeff_a",
  "scale",
  "bias",
  "scales",
  "spatial_scale",
]);

function constFromTensor(t: TensorProto): Const {
  const dt = FROM_CODE[t.dataType];
  if (!dt || !t.data || Array.isArray(t.data)) {
    throw new CompileError(
      `tensor ${t.name || "(attribute)"}: ONNX data type ${t.dataType} is not supported by the compiler`,
    );
  }
  const d = t.data;
  if (dt === "float32" || dt === "float64") {
    return constant(t.dims, d instanceof Float32Array ? d : Float32Array.from(d as Float64Array), "float32");
  }
  const data = d instanceof BigInt64Array || d instanceof BigUint64Array
    ? Float64Array.from(d as BigInt64Array, (v) => Number(v))
    : Float64Array.from(d as ArrayLike<number>);
  return constant(t.dims, data, dt);
}

/** int64 values held as float64 (INT64_MAX reads back as 2^63): saturated to int64's range. */
function int64Of(v: number): bigint {
  if (v >= 9223372036854775807) return 9223372036854775807n;
  if (v <= -9223372036854775808) return -9223372036854775808n;
  return BigInt(Math.trunc(v));
}

/**
 * The typed array of a compiler constant (int64 as BigInt64Array; values held as float64
 * saturate to int64's range, so a Slice end of INT64_MAX stays "to the end").
 *
 * @example
 * ```ts
 * constData(constant([2], new Float64Array([1, 2]), "float32")); // Float32Array [1, 2]
 * ```
 */
export function constData(c: Const): TensorData {
  switch (c.dtype) {
    case "float32":
      return Float32Array.from(c.data);
    case "float64":
      return Float64Array.from(c.data);
    case "int8":
      return Int8Array.from(c.data);
    case "uint8":
    case "bool":
      return Uint8Array.from(c.data);
    case "int32":
      return Int32Array.from(c.data);
    case "int64":
      return BigInt64Array.from(c.data, int64Of);
  }
}

function tensorFromConst(name: string, c: Const): TensorProto {
  return { name, dataType: ONNX_DTYPE[c.dtype], dims: [...c.dims], data: constData(c) };
}

const text = (b?: Uint8Array) => new TextDecoder().decode(b ?? new Uint8Array(0));

function attrValue(a: AttributeProto): AttrValue {
  switch (a.type) {
    case AttributeType.FLOAT:
      return a.f ?? 0;
    case AttributeType.INT:
      return a.i ?? 0;
    case AttributeType.STRING:
      return text(a.s);
    case AttributeType.TENSOR:
      return constFromTensor(a.t!);
    case AttributeType.FLOATS:
      return a.floats ?? [];
    case AttributeType.INTS:
      return a.ints ?? [];
    case AttributeType.STRINGS:
      return (a.strings ?? []).map(text);
    default:
      throw new CompileError(`attribute ${a.name}: type ${a.type} (subgraphs, sparse tensors) is not supported`);
  }
}

/**
 * An ONNX attribute from a compiler attribute value (`type`: the ONNX attribute type code
 * when known, else floats are recognised by name).
 *
 * @example
 * ```ts
 * attributeProto("alpha", 0.2); // { name: "alpha", type: 1, f: 0.2 }
 * ```
 */
export function attributeProto(name: string, v: AttrValue, type?: number): AttributeProto {
  const enc = new TextEncoder();
  if (typeof v === "string") return { name, type: AttributeType.STRING, s: enc.encode(v) };
  if (typeof v === "number") {
    const isFloat = type !== undefined ? type === AttributeType.FLOAT : FLOAT_ATTRS.has(name);
    return isFloat ? { name, type: AttributeType.FLOAT, f: v } : { name, type: AttributeType.INT, i: v };
  }
  if (Array.isArray(v)) {
    if (v.length && typeof v[0] === "string") {
      return {
        name,
        type: AttributeType.STRINGS,
        strings: (v as string[]).map((s) => enc.encode(s)),
      };
    }
    const isFloat = type !== undefined ? type === AttributeType.FLOATS : FLOAT_ATTRS.has(name);
    return isFloat
      ? { name, type: AttributeType.FLOATS, floats: v as number[] }
      : { name, type: AttributeType.INTS, ints: v as number[] };
  }
  return { name, type: AttributeType.TENSOR, t: tensorFromConst("", v) };
}

/**
 * Converts a decoded ONNX model into a compiler graph (`opset`: the default domain's).
 *
 * @example
 * ```ts
 * const g = graphFromModel(decodeModel(bytes));
 * ```
 */
export function graphFromModel(m: ModelProto): Graph {
  const g = new Graph();
  g.opset = m.opsetImports.find((o) => o.domain === "" || o.domain === "ai.onnx")?.version ?? 0;
  for (const t of m.graph.initializers) g.consts.set(t.name, constFromTensor(t));
  const seen = new Set<string>();
  m.graph.nodes.forEach((n, k) => {
    let name = n.name || `${n.opType}_${k}`;
    for (let j = 1; seen.has(name); j++) name = `${n.name || n.opType}_${j}`;
    seen.add(name);
    const attrs: Record<string, AttrValue> = {};
    const attrTypes: Record<string, number> = {};
    for (const a of n.attributes) {
      attrs[a.name] = attrValue(a);
      attrTypes[a.name] = a.type;
    }
    g.nodes.push({
      op: n.opType,
      name,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs,
      attrTypes,
      domain: n.domain || undefined,
      ...(g.opset && g.opset < 13 ? { opset: g.opset } : {}),
    });
  });
  for (const i of m.graph.inputs) {
    if (g.consts.has(i.name)) continue;
    g.inputs.push({
      name: i.name,
      shape: (i.shape ?? []).map((d) => (d === null ? "?" : d)),
      dtype: FROM_CODE[i.elemType] ?? "float32",
    });
  }
  g.outputs = m.graph.outputs.map((o) => o.name);
  return g;
}

/**
 * The graph's nodes with the compiler's fused activations written as ONNX ops of the
 * given opset: SiLU -> x * Sigmoid(x); HardSwish before opset 14 -> x * HardSigmoid(x);
 * a bias-less Gemm (a fused MatMul) before opset 11 -> MatMul.
 */
function defuse(g: Graph, opset: number): Node[] {
  const out: Node[] = [];
  for (const n of g.nodes) {
    if ((n.op === "SiLU" || n.op === "Swish") || (n.op === "HardSwish" && opset < 14)) {
      const gate = `${n.outputs[0]}__gate`;
      out.push(
        n.op === "HardSwish"
          ? {
            op: "HardSigmoid",
            name: `${n.name}__gate`,
            inputs: [n.inputs[0]],
            outputs: [gate],
            attrs: { alpha: 1 / 6, beta: 0.5 },
          }
          : { op: "Sigmoid", name: `${n.name}__gate`, inputs: [n.inputs[0]], outputs: [gate], attrs: {} },
        { op: "Mul", name: n.name, inputs: [n.inputs[0], gate], outputs: [n.outputs[0]], attrs: {} },
      );
    } else if (
      n.op === "Gemm" && n.inputs.length < 3 && opset < 11 && !n.attrs.transA && !n.attrs.transB &&
      (n.attrs.alpha ?? 1) === 1
    ) {
      out.push({ ...n, op: "MatMul", attrs: {}, attrTypes: undefined }); // Gemm's C is optional only from opset 11
    } else out.push(n);
  }
  return out;
}

/**
 * Options of `encodeOnnx`.
 *
 * @example
 * ```ts
 * const o: EncodeOptions = { opset: 17, outputTypes: { y: "int8" } };
 * ```
 */
export interface EncodeOptions {
  /** Default-domain opset (default 17, or the graph's own `opset` when it has one). */
  opset?: number;
  /** Element types of graph outputs (default: the graph's `dtypes`, else float32). */
  outputTypes?: Record<string, DType>;
  /** Graph name (default "graph"). */
  name?: string;
}

/**
 * Converts a compiler graph into an ONNX model object (for `encodeModel`).
 *
 * @example
 * ```ts
 * const m = modelFromGraph(graph, { opset: 17 });
 * ```
 */
export function modelFromGraph(g: Graph, options: EncodeOptions = {}): ModelProto {
  const opset = options.opset ?? (g.opset || 17);
  const nodes: NodeProto[] = defuse(g, opset).map((n) => ({
    name: n.name,
    opType: n.op,
    domain: n.domain ?? "",
    inputs: [...n.inputs],
    outputs: [...n.outputs],
    attributes: Object.entries(n.attrs).map(([k, v]) => attributeProto(k, v, n.attrTypes?.[k])),
  }));
  const domains = [...new Set(g.nodes.map((n) => n.domain).filter((d): d is string => !!d))];
  return {
    irVersion: 8,
    producerName: "axr-compiler",
    opsetImports: [{ domain: "", version: opset }, ...domains.map((domain) => ({ domain, version: 1 }))],
    graph: {
      name: options.name ?? "graph",
      nodes,
      initializers: [...g.consts].map(([k, c]) => tensorFromConst(k, c)),
      inputs: g.inputs.map((i) => ({ name: i.name, elemType: ONNX_DTYPE[i.dtype ?? "float32"], shape: [...i.shape] })),
      outputs: g.outputs.map((o) => ({
        name: o,
        elemType: ONNX_DTYPE[options.outputTypes?.[o] ?? g.dtypes.get(o) ?? "float32"],
        shape: g.shapes.get(o) ?? null,
      })),
      valueInfo: [],
    },
  };
}

/**
 * Decodes ONNX bytes into a compiler graph.
 *
 * @example
 * ```ts
 * const g = decodeOnnx(new Uint8Array(readFileSync("model.onnx")));
 * ```
 */
export function decodeOnnx(bytes: Uint8Array): Graph {
  try {
    return graphFromModel(decodeModel(bytes));
  } catch (e) {
    if (e instanceof CompileError) throw e;
    throw new CompileError(`cannot read the ONNX model: ${(e as Error).message}`);
  }
}

/**
 * Encodes a compiler graph as ONNX bytes.
 *
 * @example
 * ```ts
 * const bytes = encodeOnnx(graph, { opset: 17 });
 * ```
 */
export function encodeOnnx(g: Graph, options: EncodeOptions = {}): Uint8Array {
  return encodeModel(modelFromGraph(g, options));
}
