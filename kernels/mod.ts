/**
 * WASM SIMD kernels of @axelera/runtime: quantize, dequantize, pad, depad, fused
 * quantize+pad and depad+dequantize (NHWC or NCHW out), NHWC <-> NCHW transposes, float32
 * element-wise ops with broadcasting, exp, sigmoid, softmax and any transpose (for the ONNX
 * runner), and the arena ({@link WasmBuffer}, {@link allocate}) that lets a tensor live in
 * the module's memory so that kernels and device share it without copies.
 *
 * @example
 * ```ts
 * import { allocate, quantizePad } from "./mod.ts";
 * const x = allocate(640 * 640 * 3 * 4), q = allocate(642 * 656 * 4);
 * x.f32().fill(0.5);
 * quantizePad(x, [1, 640, 640, 3], [[0, 0], [1, 1], [1, 15], [0, 1]], 0.0039196536, -128, q, "int8");
 * // q.byteOffset is the address to hand to the native library.
 * ```
 *
 * @module
 */
export { allocate, WasmBuffer, wasmMemory } from "./arena.ts";
export { simdSupported, WasmSimdUnsupportedError } from "./wasm.ts";
export type { KernelArray, Operand } from "./call.ts";
export type { Padding, QuantDtype } from "./shape.ts";
export {
  depad,
  depadDequantize,
  depadDequantizeNchw,
  dequantize,
  nchwToNhwc,
  nhwcToNchw,
  pad,
  quantize,
  quantizePad,
} from "./ops.ts";
export {
  add,
  binary,
  type BinaryOp,
  broadcastShape,
  div,
  exp,
  gemm,
  gemmDot,
  type GemmLayout,
  gemmStepwise,
  im2col,
  mul,
  PackedMatrix,
  sigmoid,
  softmax,
  softmaxAxis,
  sub,
} from "./numeric.ts";
export { conv1x1Permuted, permute, permuteForm } from "./permute.ts";
