/**
 * onnxruntime's own float functions, where they are not the correctly rounded ones and a
 * QDQ model's int8 output depends on the difference. A table (`Lut`) of a QDQ model must
 * give onnxruntime's int8 values: `Q(f(DQ(x)))` with onnxruntime's `f`. Its Sigmoid is
 * MLAS's logistic, a rational approximation `p(x) / q(x) + 0.5` on x clamped to [-18, 18],
 * the result clamped at 0 only (the FMA form of x86-64 AVX2 and ARM64): for x < -8 it is
 * off by up to ~3e-8 absolutely (the +0.5 cancels), which a tiny output scale (a detector's objectness, 3e-7
 * a step) turns into whole steps.
 *
 * @example
 * ```ts
 * import { ortSigmoid } from "./compiler/ort_float.ts";
 * ortSigmoid(new Float32Array([0, -10])); // Float32Array [0.5, ~4.54e-5]
 * ```
 * @module
 */

const f = Math.fround;
// MLAS logistic.cpp (MlasLogisticConstants), as float32
const LO = f(-18), HI = f(18);
const A9 = f(4.37031012579801e-11), A7 = f(1.15627324459942e-07), A5 = f(6.08574864600143e-05);
const A3 = f(8.51377133304701e-03), A1 = f(2.48287947061529e-01);
const B10 = f(6.10247389755681e-13), B8 = f(5.76102136993427e-09), B6 = f(6.29106785017040e-06);
const B4 = f(1.70198817374094e-03), B2 = f(1.16817656904453e-01), B0 = f(9.93151921023180e-01);

/** float32 fused multiply-add (the product of two float32 is exact in float64). */
const fma = (a: number, b: number, c: number) => f(a * b + c);

/**
 * onnxruntime's float32 Sigmoid (MLAS logistic, FMA form), element by element.
 *
 * @example
 * ```ts
 * import { ortSigmoid } from "./compiler/ort_float.ts";
 * ortSigmoid(new Float32Array([2])); // Float32Array [0.8807970...]
 * ```
 */
export function ortSigmoid(xs: Float32Array): Float32Array {
  const out = new Float32Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i];
    if (Number.isNaN(v)) {
      out[i] = NaN;
      continue;
    }
    const x = Math.min(HI, Math.max(LO, v)), x2 = f(x * x);
    let p = fma(A9, x2, A7);
    p = fma(p, x2, A5);
    p = fma(p, x2, A3);
    p = fma(p, x2, A1);
    p = f(p * x);
    let q = fma(B10, x2, B8);
    q = fma(q, x2, B6);
    q = fma(q, x2, B4);
    q = fma(q, x2, B2);
    q = fma(q, x2, B0);
    out[i] = Math.max(0, f(f(p / q) + 0.5)); // no upper clamp: onnxruntime gives 1.0000001 near x = 17.84
  }
  return out;
}
