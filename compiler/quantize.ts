/**
 * Quantization math of the compiler (static int8):
 * - activations: per-tensor asymmetric int8 from a calibrated range [lo, hi] (widened to
 *   include 0 so that zero, and therefore padding, is exact);
 * - weights: per-output-channel symmetric int8 in [-127, 127], zero point 0;
 * - biases: int32 with scale `x_scale * w_scale[c]` (float32 product, as onnxruntime);
 * - lookup tables for element-wise functions: `table[i] = q_y(f(dq_x(i)))`.
 *
 * @example
 * ```ts
 * import { activationParams, quantizeWeights } from "./compiler/quantize.ts";
 * const q = activationParams(-1, 3);        // { scale: 0.0156..., zeroPoint: -64 }
 * const w = quantizeWeights(new Float32Array([0.5, -1, 0.25, 0.1]), 2); // 2 channels of 2
 * ```
 * @module
 */

const f32 = Math.fround;

import { roundHalfEven } from "../onnx/numeric.ts";

/** Rounds half to even (the device's and onnxruntime's rounding): onnx/numeric.ts's. @example `roundHalfEven(2.5) === 2` */
export { roundHalfEven };

/**
 * Quantization parameters of a tensor.
 *
 * @example
 * ```ts
 * const p: QParams = { scale: 0.02, zeroPoint: -3 };
 * ```
 */
export interface QParams {
  scale: number;
  zeroPoint: number;
}

/**
 * Asymmetric int8 parameters covering [lo, hi] (and 0), computed as onnxruntime's
 * `quantize_static` does (`compute_scale_zp` of onnxruntime.quantization, MinMax): the
 * span `hi - lo` in float32, divided by 255 in float64; the zero point rounded (half to
 * even) from that float64 scale; the scale stored as float32. So a calibrated range gives
 * the same grid bit for bit as quantize_static's on the same range (docs/zoo.md).
 *
 * @example
 * ```ts
 * activationParams(0, 6); // { scale: 6/255, zeroPoint: -128 }
 * ```
 */
export function activationParams(lo: number, hi: number, dtype: "int8" | "uint8" = "int8"): QParams {
  lo = f32(Math.min(lo, 0));
  hi = f32(Math.max(hi, 0));
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw new RangeError(`range [${lo}, ${hi}] is not finite`);
  if (hi - lo < 1e-8) return { scale: f32(1 / 255), zeroPoint: dtype === "uint8" ? 0 : -128 };
  const scale64 = f32(hi - lo) / 255;
  const qmin = dtype === "uint8" ? 0 : -128, qmax = qmin + 255;
  const zp = Math.min(qmax, Math.max(qmin, roundHalfEven(qmin - lo / scale64)));
  return { scale: f32(scale64), zeroPoint: zp };
}

/**
 * q(v) = sat(rne(v / scale) + zp), float32 steps (the format's quantize).
 *
 * @example
 * ```ts
 * quantizeValue(0.5, { scale: 0.25, zeroPoint: 1 }); // 3
 * ```
 */
export function quantizeValue(v: number, p: QParams, dtype: "int8" | "uint8" = "int8"): number {
  const [lo, hi] = dtype === "uint8" ? [0, 255] : [-128, 127];
  const q = roundHalfEven(f32(f32(v) / p.scale)) + p.zeroPoint;
  return q < lo ? lo : q > hi ? hi : q;
}

/**
 * dq(q) = float32(q - zp) * scale.
 *
 * @example
 * ```ts
 * dequantizeValue(3, { scale: 0.25, zeroPoint: 1 }); // 0.5
 * ```
 */
export function dequantizeValue(q: number, p: QParams): number {
  return f32((q - p.zeroPoint) * p.scale);
}

/**
 * Per-output-channel symmetric quantization of a weight tensor whose first axis is the
 * output channel (`channels` of them). Returns int8 values and float32 scales: scale
 * `max |w| / 127`, q = rne(w / scale) with the division in float32, as onnxruntime's
 * `quantize_static` quantizes weights (per_channel, symmetric int8), so that a float
 * model's weights get the same int8 values as in its QDQ model. `minScales[c]`, when
 * given, is a floor on channel c's scale (see {@link biasScaleFloor}).
 *
 * @example
 * ```ts
 * const { q, scales } = quantizeWeights(new Float32Array([1, -2, 0.5, 0.25]), 2);
 * // scales[0] = 2/127, q[1] = -127
 * ```
 */
export function quantizeWeights(
  w: ArrayLike<number>,
  channels: number,
  minScales?: ArrayLike<number>,
): { q: Int8Array; scales: Float32Array } {
  const per = w.length / channels;
  const q = new Int8Array(w.length);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    let m = 0;
    for (let k = 0; k < per; k++) m = Math.max(m, Math.abs(w[c * per + k]));
    let s = m > 0 ? f32(m / 127) : f32(1 / 127);
    if (minScales && s < minScales[c]) s = f32(minScales[c]);
    scales[c] = s;
    for (let k = 0; k < per; k++) {
      const v = roundHalfEven(f32(f32(w[c * per + k]) / s));
      q[c * per + k] = Math.max(-127, Math.min(127, v));
    }
  }
  return { q, scales };
}

/**
 * The smallest weight scale of each output channel at which its int32 bias
 * `rne(b / (xScale * w_scale))` stays within `limit` (with onnxruntime's margin of 1.0001):
 * a channel whose weights are nearly 0 (a dead channel, weights ~1e-13) but whose bias is
 * not would otherwise need a bias beyond int32 and have it clamped, which silently changes
 * the channel's output. onnxruntime's `quantize_static` widens such a channel's weight
 * scale the same way (`_adjust_weight_scale_for_int32_bias`); here the bound is the
 * device's (int32 less the worst-case sum of products, see {@link worstAccumulator}).
 *
 * @example
 * ```ts
 * biasScaleFloor(new Float32Array([3]), 0.01, 2 ** 30)[0]; // 3 * 1.0001 / (2^30 * 0.01)
 * ```
 */
export function biasScaleFloor(b: ArrayLike<number> | undefined, xScale: number, limit: number): Float64Array {
  const out = new Float64Array(b?.length ?? 0);
  if (!b) return out;
  for (let c = 0; c < out.length; c++) out[c] = (1.0001 * Math.abs(b[c])) / (limit * xScale);
  return out;
}

/**
 * Quantizes weights with given per-output-channel scales (QDQ models): q = rne(w / s),
 * clamped to [-127, 127].
 *
 * @example
 * ```ts
 * quantizeWithScales(new Float32Array([0.5, -0.25]), new Float32Array([0.25])); // q: [2, -1]
 * ```
 */
export function quantizeWithScales(w: ArrayLike<number>, scales: Float32Array): { q: Int8Array; scales: Float32Array } {
  const per = w.length / scales.length;
  const q = new Int8Array(w.length);
  for (let c = 0; c < scales.length; c++) {
    for (let k = 0; k < per; k++) {
      q[c * per + k] = Math.max(-127, Math.min(127, roundHalfEven(f32(w[c * per + k]) / scales[c])));
    }
  }
  return { q, scales: Float32Array.from(scales) };
}

/**
 * int32 bias: rne(b[c] / float32(x_scale * w_scale[c])), saturated to int32.
 *
 * @example
 * ```ts
 * quantizeBias(new Float32Array([0.5]), 0.1, new Float32Array([0.05])); // Int32Array [100]
 * ```
 */
export function quantizeBias(b: ArrayLike<number> | undefined, xScale: number, wScales: Float32Array): Int32Array {
  const out = new Int32Array(wScales.length);
  if (!b) return out;
  for (let c = 0; c < out.length; c++) {
    const s = f32(xScale * wScales[c]);
    const v = roundHalfEven(b[c] / s);
    out[c] = Math.max(-2147483647, Math.min(2147483647, v));
  }
  return out;
}

/**
 * A 256-entry lookup table: `table[i] = q_y(f(dq_x(x)))` for x = i - 128 (int8 x) or
 * x = i (uint8 x); entries are int8 (or uint8 when `yDtype` is uint8). `f` maps the 256
 * dequantized values at once (float32).
 *
 * @example
 * ```ts
 * const sigmoid = (xs: Float32Array) => xs.map((v) => 1 / (1 + Math.exp(-v)));
 * const t = lookupTable(sigmoid, { scale: 0.05, zeroPoint: 0 }, { scale: 1 / 256, zeroPoint: -128 });
 * ```
 */
export function lookupTable(
  f: (xs: Float32Array) => Float32Array,
  x: QParams,
  y: QParams,
  xDtype: "int8" | "uint8" = "int8",
  yDtype: "int8" | "uint8" = "int8",
): Int8Array | Uint8Array {
  const out = yDtype === "uint8" ? new Uint8Array(256) : new Int8Array(256);
  const xs = Float32Array.from({ length: 256 }, (_, i) => dequantizeValue(xDtype === "uint8" ? i : i - 128, x));
  const ys = f(xs);
  for (let i = 0; i < 256; i++) out[i] = quantizeValue(ys[i], y, yDtype);
  return out;
}

/**
 * C lookup tables, one per channel (channel-major, C x 256): `table[c][i] =
 * q_y(f(dq_x(x))[c])`; `f` maps the 256 dequantized values to C x 256 outputs.
 *
 * @example
 * ```ts
 * const t = channelLookupTable((xs) => Float32Array.from([...xs, ...xs.map((v) => 2 * v)]), 2,
 *   { scale: 0.05, zeroPoint: 0 }, { scale: 0.1, zeroPoint: 0 });
 * ```
 */
export function channelLookupTable(
  f: (xs: Float32Array) => Float32Array,
  channels: number,
  x: QParams,
  y: QParams,
  xDtype: "int8" | "uint8" = "int8",
  yDtype: "int8" | "uint8" = "int8",
): Int8Array | Uint8Array {
  const out = yDtype === "uint8" ? new Uint8Array(256 * channels) : new Int8Array(256 * channels);
  const xs = Float32Array.from({ length: 256 }, (_, i) => dequantizeValue(xDtype === "uint8" ? i : i - 128, x));
  const ys = f(xs);
  for (let i = 0; i < out.length; i++) out[i] = quantizeValue(ys[i], y, yDtype);
  return out;
}

/**
 * Worst-case |accumulator| of a Conv/Gemm (what the loader checks): |bias| + K * 255 * 127.
 *
 * @example
 * ```ts
 * worstAccumulator(9 * 64, new Int32Array([1000])); // fits easily in int32
 * ```
 */
export function worstAccumulator(k: number, bias: Int32Array): number {
  let m = 0;
  for (const b of bias) m = Math.max(m, Math.abs(b));
  return m + k * 255 * 128;
}
