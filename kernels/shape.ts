/**
 * Validation of the kernels' arguments: shapes (rank 1..4, treated as 4-D NHWC with leading
 * 1s), paddings (`[begin, end]` per axis), scales, zero points. Errors name the function,
 * the argument, what was expected and what was given.
 *
 * @module
 */

/** Padding per axis: `[begin, end]` element counts, as numpy's `np.pad` takes them. */
export type Padding = readonly (readonly [number, number])[];

/** Quantized element type. */
export type QuantDtype = "int8" | "uint8";

/** A shape made 4-D (`[n, h, w, c]`) with its padding made 4 x 2. */
export interface Geometry {
  shape: [number, number, number, number];
  pad: [number, number, number, number, number, number, number, number];
  /** Elements of the unpadded tensor. */
  count: number;
  /** Elements of the padded tensor. */
  paddedCount: number;
}

function isDim(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= 0x7fff_ffff;
}

/**
 * Validates a shape of rank 1..4 and returns it as 4-D with leading 1s.
 *
 * @example
 * ```ts
 * import { shape4 } from "./shape.ts";
 * console.log(shape4("pad", "shape", [3, 4])); // [1, 1, 3, 4]
 * ```
 */
export function shape4(fn: string, arg: string, shape: readonly number[]): [number, number, number, number] {
  if (!Array.isArray(shape)) {
    throw new TypeError(`${fn}: ${arg} must be an array of 1 to 4 dimensions, got ${typeof shape}`);
  }
  if (shape.length < 1 || shape.length > 4) {
    throw new RangeError(`${fn}: ${arg} must have rank 1 to 4, got rank ${shape.length} ([${shape.join(", ")}])`);
  }
  for (const d of shape) {
    if (!isDim(d)) {
      throw new RangeError(`${fn}: ${arg} must hold non-negative integers, got [${shape.join(", ")}]`);
    }
  }
  const s = [1, 1, 1, 1];
  for (let i = 0; i < shape.length; i++) s[4 - shape.length + i] = shape[i];
  return s as [number, number, number, number];
}

/**
 * Validates `padding` against a shape's rank; returns the 8 begin/end values for 4-D.
 *
 * @example
 * ```ts
 * import { pad8 } from "./shape.ts";
 * console.log(pad8("pad", 2, [[0, 1], [2, 3]])); // [0, 0, 0, 0, 0, 1, 2, 3]
 * ```
 */
export function pad8(
  fn: string,
  rank: number,
  padding: Padding,
): [number, number, number, number, number, number, number, number] {
  if (!Array.isArray(padding)) {
    throw new TypeError(`${fn}: padding must be an array of [begin, end] pairs, got ${typeof padding}`);
  }
  if (padding.length !== rank) {
    throw new RangeError(`${fn}: padding must have one [begin, end] pair per axis (${rank}), got ${padding.length}`);
  }
  const out = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let i = 0; i < rank; i++) {
    const p = padding[i];
    if (!Array.isArray(p) || p.length !== 2 || !isDim(p[0]) || !isDim(p[1])) {
      throw new RangeError(
        `${fn}: padding[${i}] must be [begin, end] with non-negative integers, got ${JSON.stringify(p)}`,
      );
    }
    out[2 * (4 - rank + i)] = p[0];
    out[2 * (4 - rank + i) + 1] = p[1];
  }
  return out as Geometry["pad"];
}

/**
 * The geometry of an unpadded `shape` padded by `padding`.
 *
 * @example
 * ```ts
 * import { geometry } from "./shape.ts";
 * console.log(geometry("pad", [1, 2, 2, 3], [[0, 0], [0, 0], [0, 0], [0, 1]]).paddedCount); // 16
 * ```
 */
export function geometry(fn: string, shape: readonly number[], padding: Padding): Geometry {
  const s = shape4(fn, "shape", shape);
  const pad = pad8(fn, shape.length, padding);
  const count = s[0] * s[1] * s[2] * s[3];
  const paddedCount = (s[0] + pad[0] + pad[1]) * (s[1] + pad[2] + pad[3]) * (s[2] + pad[4] + pad[5]) *
    (s[3] + pad[6] + pad[7]);
  if (paddedCount > 0xffff_ffff) throw new RangeError(`${fn}: the padded tensor is too large (${paddedCount})`);
  return { shape: s, pad, count, paddedCount };
}

/**
 * The geometry from a *padded* shape and its padding (for depad): the unpadded shape is
 * `paddedShape - begin - end` per axis, which must not be negative.
 *
 * @example
 * ```ts
 * import { geometryFromPadded } from "./shape.ts";
 * console.log(geometryFromPadded("depad", [1, 1, 1, 1048], [[0, 0], [0, 0], [0, 0], [0, 24]]).shape);
 * // [1, 1, 1, 1024]
 * ```
 */
export function geometryFromPadded(fn: string, paddedShape: readonly number[], padding: Padding): Geometry {
  const ps = shape4(fn, "paddedShape", paddedShape);
  const pad = pad8(fn, paddedShape.length, padding);
  const s = [0, 0, 0, 0] as [number, number, number, number];
  for (let i = 0; i < 4; i++) {
    s[i] = ps[i] - pad[2 * i] - pad[2 * i + 1];
    if (s[i] < 0) {
      const axis = i - (4 - paddedShape.length);
      throw new RangeError(
        `${fn}: padding[${axis}] ([${pad[2 * i]}, ${pad[2 * i + 1]}]) exceeds paddedShape[${axis}] (${ps[i]})`,
      );
    }
  }
  return { shape: s, pad, count: s[0] * s[1] * s[2] * s[3], paddedCount: ps[0] * ps[1] * ps[2] * ps[3] };
}

/**
 * Validates a quantization scale: a finite number > 0.
 *
 * @example
 * ```ts
 * import { checkScale } from "./shape.ts";
 * checkScale("quantize", 0.5);
 * ```
 */
export function checkScale(fn: string, scale: number): void {
  if (typeof scale !== "number") throw new TypeError(`${fn}: scale must be a number, got ${typeof scale}`);
  // The kernels compute in float32: the scale must stay finite and > 0 there too.
  const f = Math.fround(scale);
  if (!(f > 0) || !Number.isFinite(f)) {
    throw new RangeError(`${fn}: scale must be a finite number > 0 in float32, got ${scale}`);
  }
}

/**
 * Validates a zero point for a quantized type: an integer in its range.
 *
 * @example
 * ```ts
 * import { checkZeroPoint } from "./shape.ts";
 * checkZeroPoint("quantize", -128, "int8");
 * ```
 */
export function checkZeroPoint(fn: string, zeroPoint: number, dtype: QuantDtype): void {
  if (typeof zeroPoint !== "number") {
    throw new TypeError(`${fn}: zeroPoint must be a number, got ${typeof zeroPoint}`);
  }
  const [lo, hi] = dtype === "int8" ? [-128, 127] : [0, 255];
  if (!Number.isInteger(zeroPoint) || zeroPoint < lo || zeroPoint > hi) {
    throw new RangeError(`${fn}: zeroPoint must be an integer in [${lo}, ${hi}] for ${dtype}, got ${zeroPoint}`);
  }
}
