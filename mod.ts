/**
 * @axelera/runtime: the Axelera Metis runtime for Deno and Bun, the
 * TypeScript counterpart of Python's `axelera.runtime` (camelCase names; see
 * the README, "Python names -> ours"). It drives the native library `libaxr` (an emulated
 * Metis device) or, through `AXR_LIBRARY`, the vendor's `libaxruntime.so`.
 *
 * @example
 * ```ts
 * import * as axr from "jsr:@axelera/runtime";
 *
 * using ctx = new axr.Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * using conn = ctx.deviceConnect();
 * const inst = conn.loadModelInstance(model, { aipuCores: 1 });
 * const [inInfo] = model.inputs();
 * const [outInfo] = model.outputs();
 * const input = inInfo.quantizePad(new Float32Array(inInfo.unpaddedLength));
 * const output = new Int8Array(outInfo.size);
 * inst.run([input], [output]);
 * console.log(outInfo.depadDequantize(output));
 * ```
 *
 * @module
 */
export { Context, type DeviceSelector, type HostCpu, type Logger, LogLevel } from "./runtime/context.ts";
export { Connection } from "./runtime/connection.ts";
export { Model, type ModelProperties } from "./runtime/model.ts";
export {
  type InstanceStats,
  ModelInstance,
  type TensorArgument,
  type WasmBufferLike,
} from "./runtime/model_instance.ts";
export type { InferInputs, InferOutputs, InferTensor, NumericArray, TensorDataOf } from "./runtime/infer.ts";
export type { DType as TensorDType, Tensor, TensorData } from "./onnx/mod.ts";
export {
  type AnyTypedArray,
  type AxisPadding,
  type DType,
  type FloatData,
  type QuantizedData,
  TensorInfo,
  type TensorInfoOptions,
  type WasmBuffer,
} from "./runtime/tensor_info.ts";
export { DeviceInfo } from "./runtime/device_info.ts";
export { BoardType, boardTypeName } from "./runtime/board_type.ts";
export type { DeviceOptions, InstanceOptions } from "./runtime/options.ts";
export { AxrObject } from "./runtime/object.ts";
export {
  AxeleraError,
  ConnectionError,
  DeviceInUse,
  IncompatibleDevice,
  InternalError,
  InvalidArgument,
  InvalidConfiguration,
  NotImplemented,
  Pending,
  ReleasedError,
  RuntimeError,
  UnknownError,
  ValueError,
} from "./runtime/errors.ts";
export { type ModelSignature, modelSignature, type SignatureTensor } from "./runtime/signature.ts";
export {
  libraryInfo,
  LibraryIntegrityError,
  LibraryNotFoundError,
  LibraryPermissionError,
  registerEmbeddedLibrary,
  UnsupportedRuntimeError,
} from "./runtime/library.ts";
