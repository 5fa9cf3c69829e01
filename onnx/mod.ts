/**
 * ONNX for the host side of @axelera/runtime: read and write ONNX files, and run the
 * small float graphs (pre/postambles) that compiled models carry.
 *
 * @example
 * ```ts
 * import { OnnxGraph, tensor } from "./mod.ts";
 * const g = await OnnxGraph.load("postamble.onnx");
 * const y = g.run({ x: tensor("float32", [1, 1000], new Float32Array(1000)) });
 * ```
 * @module
 */
export { type GraphOptions, OnnxGraph, type ValueInfo } from "./graph.ts";
export { decodeModel, decodeTensorProto } from "./read.ts";
export { encodeModel, encodeTensorProto } from "./write.ts";
export {
  OnnxError,
  OnnxFormatError,
  OnnxGraphError,
  OnnxUnsupportedAttributeError,
  OnnxUnsupportedError,
} from "./errors.ts";
export type {
  AttributeProto,
  Dim,
  GraphProto,
  ModelProto,
  NodeProto,
  OpsetImport,
  TensorProto,
  ValueInfoProto,
} from "./model.ts";
export { AttributeType } from "./model.ts";
export {
  allocData,
  bytesPerElement,
  DataType,
  dataTypeCode,
  type DType,
  dtypeOf,
  halfToFloat,
  sizeOf,
  type Tensor,
  tensor,
  type TensorData,
  toNumbers,
} from "./tensor.ts";
export { supportedOps } from "./ops/registry.ts";
export { attribute, type AttrValue, float, floats, makeModel, makeNode, tensorProto, valueInfo } from "./build.ts";
