/**
 * Helpers to build ONNX models in code (tests, the YOLO-head bench, the compiler):
 * nodes with attributes from plain values, initializers from tensors, value infos.
 *
 * @example
 * ```ts
 * import { makeModel, makeNode, valueInfo } from "./build.ts";
 * import { encodeModel } from "./write.ts";
 * const m = makeModel({
 *   nodes: [makeNode("Softmax", ["x"], ["y"], { axis: -1 })],
 *   inputs: [valueInfo("x", "float32", [1, 1000])], outputs: [valueInfo("y", "float32", [1, 1000])],
 * });
 * const bytes = encodeModel(m);
 * ```
 * @module
 */
import {
  type AttributeProto,
  AttributeType,
  type Dim,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "./model.ts";
import { dataTypeCode, type DType, type Tensor } from "./tensor.ts";

/** An attribute value: number (int when integral unless wrapped with {@link float}), number[], string, Tensor. @example `{ axis: 1, alpha: float(0.1) }` */
export type AttrValue =
  | number
  | number[]
  | string
  | Tensor
  | { float: number }
  | { floats: number[] }
  | { strings: string[] };

/** Marks a number as a FLOAT attribute. @example `float(1)` */
export function float(v: number): { float: number } {
  return { float: v };
}
/** Marks numbers as a FLOATS attribute. @example `floats([0.5, 2])` */
export function floats(v: number[]): { floats: number[] } {
  return { floats: v };
}

/** A TensorProto from a tensor. @example `tensorProto("w", tensor("float32", [2], [1, 2]))` */
export function tensorProto(name: string, t: Tensor): TensorProto {
  return { name, dataType: dataTypeCode(t.dtype), dims: [...t.shape], data: t.data };
}

/** An attribute from a plain value. @example `attribute("perm", [0, 2, 1])` */
export function attribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === "number") {
    return Number.isInteger(v) ? { name, type: AttributeType.INT, i: v } : { name, type: AttributeType.FLOAT, f: v };
  }
  if (typeof v === "string") return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ("float" in v) return { name, type: AttributeType.FLOAT, f: v.float };
  if ("floats" in v) return { name, type: AttributeType.FLOATS, floats: v.floats };
  if ("strings" in v) {
    return { name, type: AttributeType.STRINGS, strings: v.strings.map((x) => new TextEncoder().encode(x)) };
  }
  return { name, type: AttributeType.TENSOR, t: tensorProto("", v) };
}

let counter = 0;
/** A node. @example `makeNode("Add", ["a", "b"], ["c"])` */
export function makeNode(
  opType: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrValue> = {},
  name?: string,
): NodeProto {
  return {
    name: name ?? `${opType.toLowerCase()}_${counter++}`,
    opType,
    domain: "",
    inputs,
    outputs,
    attributes: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
  };
}

/** A tensor value info. @example `valueInfo("x", "float32", [1, "N"])` */
export function valueInfo(name: string, dtype: DType, shape: Dim[] | null): ValueInfoProto {
  return { name, elemType: dataTypeCode(dtype), shape };
}

/** A model with opset `opset` (default 17). @example `makeModel({ nodes, inputs, outputs })` */
export function makeModel(g: {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: Record<string, Tensor>;
  name?: string;
  opset?: number;
}): ModelProto {
  const graph: GraphProto = {
    name: g.name ?? "graph",
    nodes: g.nodes,
    inputs: g.inputs,
    outputs: g.outputs,
    valueInfo: [],
    initializers: Object.entries(g.initializers ?? {}).map(([k, t]) => tensorProto(k, t)),
  };
  return {
    irVersion: 8,
    producerName: "@axelera/runtime",
    opsetImports: [{ domain: "", version: g.opset ?? 17 }],
    graph,
  };
}
