/**
 * The ONNX object model that {@link decodeModel} returns and {@link encodeModel} writes.
 * Field names follow onnx.proto in camelCase; repeated fields are arrays.
 *
 * @example
 * ```ts
 * import type { ModelProto } from "./model.ts";
 * const m: ModelProto = { irVersion: 8, opsetImports: [{ domain: "", version: 17 }], graph: { name: "g", nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] } };
 * ```
 * @module
 */
import type { TensorData } from "./tensor.ts";

/** An initializer, Constant value, or tensor attribute. `data` is null for element types we do not decode (then `raw` holds the bytes). @example `const t: TensorProto = { name: "w", dataType: 1, dims: [2], data: new Float32Array(2) }` */
export interface TensorProto {
  name: string;
  dataType: number;
  dims: number[];
  data: TensorData | null;
  raw?: Uint8Array;
}

/** AttributeProto.AttributeType codes. @example `AttributeType.INTS === 7` */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** A node attribute; the field that `type` names is set. Strings are kept as bytes. @example `const a: AttributeProto = { name: "axis", type: 2, i: 1 }` */
export interface AttributeProto {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  refAttrName?: string;
}

/** A graph node. @example `const n: NodeProto = { name: "r", opType: "Relu", domain: "", inputs: ["x"], outputs: ["y"], attributes: [] }` */
export interface NodeProto {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: AttributeProto[];
}

/** A dimension: a number, a symbolic name (string) or unknown (null). @example `const d: Dim = "batch"` */
export type Dim = number | string | null;

/** A graph input/output/value_info. `elemType` is the ONNX data type code (0 when not a tensor); `shape` is null when unknown. @example `const v: ValueInfoProto = { name: "x", elemType: 1, shape: [1, "N"] }` */
export interface ValueInfoProto {
  name: string;
  elemType: number;
  shape: Dim[] | null;
  /** Not a plain tensor type (sequence, map, optional, sparse). */
  nonTensor?: boolean;
}

/** A graph. @example `const g: GraphProto = { name: "g", nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] }` */
export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
  /** Count of sparse_initializer entries (not supported by the runner). */
  sparseInitializers?: number;
}

/** An opset import. @example `const o: OpsetImport = { domain: "", version: 13 }` */
export interface OpsetImport {
  domain: string;
  version: number;
}

/** A model. @example `const m: ModelProto = { irVersion: 8, opsetImports: [], graph }` */
export interface ModelProto {
  irVersion: number;
  opsetImports: OpsetImport[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  metadataProps?: Record<string, string>;
  graph: GraphProto;
  /** Count of model-local functions (not supported by the runner). */
  functions?: number;
}
