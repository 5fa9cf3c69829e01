/**
 * The kernels as typed-array functions: quantize, dequantize, pad, depad, the fused
 * quantize+pad, depad+dequantize (NHWC or NCHW out) and the NHWC <-> NCHW transposes.
 *
 * Operands are typed arrays or {@link WasmBuffer}s. WasmBuffers (and typed arrays that view
 * the module's memory) are used in place; other arrays are copied through reusable scratch.
 * Every function writes into the `dst` it is given and returns it.
 *
 * Semantics (exact, see kernels/src/quant.rs):
 * - quantize: `q = clamp(roundHalfEven(x / scale) + zeroPoint)`, float32 division; NaN ->
 *   zeroPoint, +inf -> max, -inf -> min. Equals numpy's `np.round(x / scale + zp)` except
 *   on exact .5 ties with an odd zero point (numpy's tie goes to the even `v + zp`).
 * - dequantize: `y = float32(q - zeroPoint) * scale`, float32 multiplication.
 * - pad fills with `fill` (the zero point for quantized tensors); shapes are NHWC, rank
 *   1..4 (leading 1s added), padding `[begin, end]` per axis.
 *
 * @module
 */
import { WasmBuffer } from "./arena.ts";
import { callKernel, checkCount, checkOperand, type KernelArray, type Operand } from "./call.ts";
import {
  checkScale,
  checkZeroPoint,
  geometry,
  geometryFromPadded,
  type Padding,
  type QuantDtype,
  shape4,
} from "./shape.ts";
import { kernelExports } from "./wasm.ts";

function quantDtype(fn: string, arg: string, value: Operand, dtype: QuantDtype | undefined): QuantDtype {
  if (dtype !== undefined && dtype !== "int8" && dtype !== "uint8") {
    throw new TypeError(`${fn}: dtype must be "int8" or "uint8", got ${JSON.stringify(dtype)}`);
  }
  if (value instanceof WasmBuffer) return dtype ?? "int8";
  const own: QuantDtype = value instanceof Uint8Array ? "uint8" : "int8";
  if (dtype !== undefined && dtype !== own) {
    throw new TypeError(`${fn}: dtype ${dtype} contradicts ${arg}, a ${value.constructor.name}`);
  }
  return own;
}

/**
 * The checks of every quantize / dequantize kernel: `src` and `dst` types (the quantized
 * side int8/uint8, the other float32), the quantized dtype, the scale and the zero point.
 * Returns the dtype.
 */
function checkQuantArgs(
  fn: string,
  src: unknown,
  dst: unknown,
  quantized: "src" | "dst",
  scale: number,
  zeroPoint: number,
  dtype: QuantDtype | undefined,
): QuantDtype {
  const q = [Int8Array, Uint8Array], f = [Float32Array];
  checkOperand(fn, "src", src, quantized === "src" ? q : f);
  checkOperand(fn, "dst", dst, quantized === "dst" ? q : f);
  const dt = quantDtype(fn, quantized, (quantized === "src" ? src : dst) as Operand, dtype);
  checkScale(fn, scale);
  checkZeroPoint(fn, zeroPoint, dt);
  return dt;
}

/**
 * Quantizes float32 values: `dst[i] = clamp(roundHalfEven(src[i] / scale) + zeroPoint)`.
 * An Int8Array / Uint8Array `dst` decides int8 vs uint8; for a WasmBuffer pass `dtype`
 * (default "int8").
 *
 * @example
 * ```ts
 * import { quantize } from "./mod.ts";
 * const q = quantize(new Float32Array([0, 0.5, 1.5, NaN, Infinity]), new Int8Array(5), 1, 0);
 * console.log(q); // Int8Array [0, 0, 2, 0, 127]
 * ```
 */
export function quantize<D extends Int8Array | Uint8Array | WasmBuffer>(
  src: Float32Array | WasmBuffer,
  dst: D,
  scale: number,
  zeroPoint: number,
  dtype?: QuantDtype,
): D {
  const fn = "quantize";
  const dt = checkQuantArgs(fn, src, dst, "dst", scale, zeroPoint, dtype);
  if (src instanceof WasmBuffer && src.byteLength % 4 !== 0) {
    throw new RangeError(`${fn}: src WasmBuffer must hold whole float32 values, got ${src.byteLength} bytes`);
  }
  const n = src instanceof WasmBuffer ? src.byteLength / 4 : src.length;
  checkCount(fn, "dst", dst, n, 1);
  if (n === 0) return dst;
  callKernel(fn, [{ name: "src", value: src, bytes: 4 * n }], [{ name: "dst", value: dst, bytes: n }], undefined, (
    [s],
    [d],
  ) => kernelExports().quantize(s, d, n, scale, zeroPoint, dt === "uint8"));
  return dst;
}

/**
 * Dequantizes int8/uint8 values: `dst[i] = float32(src[i] - zeroPoint) * scale`. An
 * Int8Array / Uint8Array `src` decides the type; for a WasmBuffer pass `dtype` (default
 * "int8").
 *
 * @example
 * ```ts
 * import { dequantize } from "./mod.ts";
 * console.log(dequantize(new Int8Array([-128, 0, 127]), new Float32Array(3), 0.5, -128));
 * // Float32Array [0, 64, 127.5]
 * ```
 */
export function dequantize<D extends Float32Array | WasmBuffer>(
  src: Int8Array | Uint8Array | WasmBuffer,
  dst: D,
  scale: number,
  zeroPoint: number,
  dtype?: QuantDtype,
): D {
  const fn = "dequantize";
  const dt = checkQuantArgs(fn, src, dst, "src", scale, zeroPoint, dtype);
  const n = src instanceof WasmBuffer ? src.byteLength : src.length;
  checkCount(fn, "dst", dst, n, 4);
  if (n === 0) return dst;
  callKernel(fn, [{ name: "src", value: src, bytes: n }], [{ name: "dst", value: dst, bytes: 4 * n }], undefined, (
    [s],
    [d],
  ) => kernelExports().dequantize(s, d, n, scale, zeroPoint, dt === "uint8"));
  return dst;
}

/** Element size (1 or 4) of a pad/depad/transpose operand pair. */
function elementSize(fn: string, src: Operand, dst: Operand, srcCount: number): 1 | 4 {
  if (!(src instanceof WasmBuffer)) return src instanceof Float32Array ? 4 : 1;
  if (!(dst instanceof WasmBuffer)) return dst instanceof Float32Array ? 4 : 1;
  if (srcCount > 0 && src.byteLength === srcCount) return 1;
  if (srcCount > 0 && src.byteLength === 4 * srcCount) return 4;
  if (srcCount === 0 && src.byteLength === 0) return 1;
  throw new RangeError(
    `${fn}: src WasmBuffer must be ${srcCount} bytes (int8/uint8) or ${4 * srcCount} bytes (float32), ` +
      `got ${src.byteLength}`,
  );
}

function checkSameKind(fn: string, src: Operand, dst: Operand): void {
  if (src instanceof WasmBuffer || dst instanceof WasmBuffer) return;
  if (src.constructor !== dst.constructor) {
    throw new TypeError(`${fn}: dst must be a ${src.constructor.name} like src, got ${dst.constructor.name}`);
  }
}

function checkFill(fn: string, fill: number, size: 1 | 4, src: Operand): void {
  if (typeof fill !== "number") throw new TypeError(`${fn}: fill must be a number, got ${typeof fill}`);
  if (size === 4) return;
  const [lo, hi] = src instanceof Int8Array ? [-128, 127] : src instanceof Uint8Array ? [0, 255] : [-128, 255];
  if (!Number.isInteger(fill) || fill < lo || fill > hi) {
    throw new RangeError(`${fn}: fill must be an integer in [${lo}, ${hi}], got ${fill}`);
  }
}

const BYTE_TYPES = [Int8Array, Uint8Array, Float32Array] as const;

/**
 * Pads an NHWC tensor (rank 1..4; any axis) with `fill`: `np.pad(src, padding,
 * constant_values=fill)`. int8, uint8 (fill = the zero point) or float32.
 *
 * @example
 * ```ts
 * import { pad } from "./mod.ts";
 * const out = pad(new Int8Array([1, 2, 3]), [1, 1, 3], [[0, 0], [0, 0], [0, 1]], -128, new Int8Array(4));
 * console.log(out); // Int8Array [1, 2, 3, -128]
 * ```
 */
export function pad<D extends KernelArray | WasmBuffer>(
  src: KernelArray | WasmBuffer,
  shape: readonly number[],
  padding: Padding,
  fill: number,
  dst: D,
): D {
  const fn = "pad";
  checkOperand(fn, "src", src, BYTE_TYPES);
  checkOperand(fn, "dst", dst, BYTE_TYPES);
  checkSameKind(fn, src, dst);
  const g = geometry(fn, shape, padding);
  const es = elementSize(fn, src, dst, g.count);
  checkFill(fn, fill, es, src);
  checkCount(fn, "src", src, g.count, es);
  checkCount(fn, "dst", dst, g.paddedCount, es);
  if (g.paddedCount === 0) return dst;
  callKernel(
    fn,
    [{ name: "src", value: src, bytes: es * g.count }],
    [{ name: "dst", value: dst, bytes: es * g.paddedCount }],
    g,
    ([s], [d], gp) =>
      es === 1 ? kernelExports().pad_u8(s, d, gp, fill & 0xff) : kernelExports().pad_f32(s, d, gp, fill),
  );
  return dst;
}

/**
 * Removes padding: `src[begin0:-end0, begin1:-end1, ...]` of a padded NHWC tensor (rank
 * 1..4) into `dst`. int8, uint8 or float32.
 *
 * @example
 * ```ts
 * import { depad } from "./mod.ts";
 * const out = depad(new Int8Array([1, 2, 3, 0]), [1, 1, 4], [[0, 0], [0, 0], [0, 1]], new Int8Array(3));
 * console.log(out); // Int8Array [1, 2, 3]
 * ```
 */
export function depad<D extends KernelArray | WasmBuffer>(
  src: KernelArray | WasmBuffer,
  paddedShape: readonly number[],
  padding: Padding,
  dst: D,
): D {
  const fn = "depad";
  checkOperand(fn, "src", src, BYTE_TYPES);
  checkOperand(fn, "dst", dst, BYTE_TYPES);
  checkSameKind(fn, src, dst);
  const g = geometryFromPadded(fn, paddedShape, padding);
  const es = elementSize(fn, src, dst, g.paddedCount);
  checkCount(fn, "src", src, g.paddedCount, es);
  checkCount(fn, "dst", dst, g.count, es);
  if (g.count === 0) return dst;
  callKernel(
    fn,
    [{ name: "src", value: src, bytes: es * g.paddedCount }],
    [{ name: "dst", value: dst, bytes: es * g.count }],
    g,
    ([s], [d], gp) => es === 1 ? kernelExports().depad_u8(s, d, gp) : kernelExports().depad_f32(s, d, gp),
  );
  return dst;
}

/**
 * Fused quantize + pad in one pass: `np.pad(quantize(src), padding, constant_values=zp)`.
 * `shape` is the unpadded NHWC shape of `src`; `dst` holds the padded tensor. The dtype of
 * an Int8Array / Uint8Array `dst` decides int8 vs uint8; for a WasmBuffer pass `dtype`.
 *
 * @example
 * ```ts
 * import { quantizePad } from "./mod.ts";
 * const rgb = new Float32Array(640 * 640 * 3).fill(0.5);
 * const q = quantizePad(rgb, [1, 640, 640, 3], [[0, 0], [1, 1], [1, 15], [0, 1]],
 *   0.003919653594493866, -128, new Int8Array(642 * 656 * 4));
 * ```
 */
export function quantizePad<D extends Int8Array | Uint8Array | WasmBuffer>(
  src: Float32Array | WasmBuffer,
  shape: readonly number[],
  padding: Padding,
  scale: number,
  zeroPoint: number,
  dst: D,
  dtype?: QuantDtype,
): D {
  const fn = "quantizePad";
  const dt = checkQuantArgs(fn, src, dst, "dst", scale, zeroPoint, dtype);
  const g = geometry(fn, shape, padding);
  checkCount(fn, "src", src, g.count, 4);
  checkCount(fn, "dst", dst, g.paddedCount, 1);
  if (g.paddedCount === 0) return dst;
  callKernel(
    fn,
    [{ name: "src", value: src, bytes: 4 * g.count }],
    [{ name: "dst", value: dst, bytes: g.paddedCount }],
    g,
    ([s], [d], gp) => kernelExports().quantize_pad(s, d, gp, scale, zeroPoint, dt === "uint8"),
  );
  return dst;
}

function depadDequantizeImpl<D extends Float32Array | WasmBuffer>(
  fn: string,
  nchw: boolean,
  src: Int8Array | Uint8Array | WasmBuffer,
  paddedShape: readonly number[],
  padding: Padding,
  scale: number,
  zeroPoint: number,
  dst: D,
  dtype: QuantDtype | undefined,
): D {
  const dt = checkQuantArgs(fn, src, dst, "src", scale, zeroPoint, dtype);
  const g = geometryFromPadded(fn, paddedShape, padding);
  checkCount(fn, "src", src, g.paddedCount, 1);
  checkCount(fn, "dst", dst, g.count, 4);
  if (g.count === 0) return dst;
  callKernel(
    fn,
    [{ name: "src", value: src, bytes: g.paddedCount }],
    [{ name: "dst", value: dst, bytes: 4 * g.count }],
    g,
    ([s], [d], gp) =>
      nchw
        ? kernelExports().depad_dequantize_nchw(s, d, gp, scale, zeroPoint, dt === "uint8")
        : kernelExports().depad_dequantize(s, d, gp, scale, zeroPoint, dt === "uint8"),
  );
  return dst;
}

/**
 * Fused depad + dequantize in one pass (NHWC in, NHWC out):
 * `(src[depad].astype(float32) - zp) * scale`. `paddedShape` is the shape of `src`.
 *
 * @example
 * ```ts
 * import { depadDequantize } from "./mod.ts";
 * const y = depadDequantize(new Int8Array(80 * 80 * 64), [1, 80, 80, 64], [[0, 0], [0, 0], [0, 0], [0, 4]],
 *   0.1, -128, new Float32Array(80 * 80 * 60));
 * console.log(y[0]); // 12.800000190734863
 * ```
 */
export function depadDequantize<D extends Float32Array | WasmBuffer>(
  src: Int8Array | Uint8Array | WasmBuffer,
  paddedShape: readonly number[],
  padding: Padding,
  scale: number,
  zeroPoint: number,
  dst: D,
  dtype?: QuantDtype,
): D {
  return depadDequantizeImpl("depadDequantize", false, src, paddedShape, padding, scale, zeroPoint, dst, dtype);
}

/**
 * Fused depad + dequantize + NHWC -> NCHW in one pass: like {@link depadDequantize} but
 * `dst` is `[n, c, h, w]` (of the depadded shape).
 *
 * @example
 * ```ts
 * import { depadDequantizeNchw } from "./mod.ts";
 * const y = depadDequantizeNchw(new Int8Array([1, 2, 0, 3, 4, 0]), [1, 1, 2, 3], [[0, 0], [0, 0], [0, 0], [0, 1]],
 *   1, 0, new Float32Array(4));
 * console.log(y); // Float32Array [1, 3, 2, 4]
 * ```
 */
export function depadDequantizeNchw<D extends Float32Array | WasmBuffer>(
  src: Int8Array | Uint8Array | WasmBuffer,
  paddedShape: readonly number[],
  padding: Padding,
  scale: number,
  zeroPoint: number,
  dst: D,
  dtype?: QuantDtype,
): D {
  return depadDequantizeImpl("depadDequantizeNchw", true, src, paddedShape, padding, scale, zeroPoint, dst, dtype);
}

function transposeImpl<D extends KernelArray | WasmBuffer>(
  fn: string,
  toNchw: boolean,
  src: KernelArray | WasmBuffer,
  shape: readonly number[],
  dst: D,
): D {
  checkOperand(fn, "src", src, BYTE_TYPES);
  checkOperand(fn, "dst", dst, BYTE_TYPES);
  checkSameKind(fn, src, dst);
  const s = shape4(fn, "shape", shape);
  const count = s[0] * s[1] * s[2] * s[3];
  const es = elementSize(fn, src, dst, count);
  checkCount(fn, "src", src, count, es);
  checkCount(fn, "dst", dst, count, es);
  if (count === 0) return dst;
  // toNchw: shape is [n, h, w, c]; else shape is [n, c, h, w].
  const [n, h, w, c] = toNchw ? s : [s[0], s[2], s[3], s[1]];
  callKernel(
    fn,
    [{ name: "src", value: src, bytes: es * count }],
    [{ name: "dst", value: dst, bytes: es * count }],
    undefined,
    (
      [sp],
      [dp],
    ) => {
      const k = kernelExports();
      if (toNchw) (es === 1 ? k.nhwc_to_nchw_u8 : k.nhwc_to_nchw_f32)(sp, dp, n, h, w, c);
      else (es === 1 ? k.nchw_to_nhwc_u8 : k.nchw_to_nhwc_f32)(sp, dp, n, h, w, c);
    },
  );
  return dst;
}

/**
 * NHWC -> NCHW transpose; `shape` is the NHWC shape `[n, h, w, c]` of `src` (rank 1..4,
 * leading 1s added). int8, uint8 or float32.
 *
 * @example
 * ```ts
 * import { nhwcToNchw } from "./mod.ts";
 * console.log(nhwcToNchw(new Float32Array([1, 2, 3, 4, 5, 6]), [1, 1, 2, 3], new Float32Array(6)));
 * // Float32Array [1, 4, 2, 5, 3, 6]
 * ```
 */
export function nhwcToNchw<D extends KernelArray | WasmBuffer>(
  src: KernelArray | WasmBuffer,
  shape: readonly number[],
  dst: D,
): D {
  return transposeImpl("nhwcToNchw", true, src, shape, dst);
}

/**
 * NCHW -> NHWC transpose; `shape` is the NCHW shape `[n, c, h, w]` of `src` (rank 1..4,
 * leading 1s added). int8, uint8 or float32.
 *
 * @example
 * ```ts
 * import { nchwToNhwc } from "./mod.ts";
 * console.log(nchwToNhwc(new Int8Array([1, 4, 2, 5, 3, 6]), [1, 3, 1, 2], new Int8Array(6)));
 * // Int8Array [1, 2, 3, 4, 5, 6]
 * ```
 */
export function nchwToNhwc<D extends KernelArray | WasmBuffer>(
  src: KernelArray | WasmBuffer,
  shape: readonly number[],
  dst: D,
): D {
  return transposeImpl("nchwToNhwc", false, src, shape, dst);
}
