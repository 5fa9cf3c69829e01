/**
 * Float ties of the per-op check: a Conv/Gemm output element whose exact value (from the
 * reference's int8 inputs, dequantized as onnxruntime does) lies within float32 summation
 * error of a .5 rounding boundary. onnxruntime's QDQ reference computes the convolution in
 * float32 (its own summation order) and rounds; the device accumulates exactly in int32 and
 * rounds `rne(f32(acc) * m)`. At such an element either rounding is right, and onnxruntime's
 * own optimization levels disagree there (docs/zoo.md). The bound is the textbook one for
 * any summation order: `|error| <= (K + 1) * 2^-24 * sum |terms|` (K products and a bias),
 * plus the rounding of the division by the output scale.
 *
 * @example
 * ```ts
 * import { isFloatTie } from "./tests/zoo/ties.ts";
 * isFloatTie(prog, op, xTensor, xValues, yTensor, 17); // true: a tie, not an error
 * ```
 * @module
 */
import type { RefProgram, RefTensor } from "../fixtures/reference.ts";

const f32 = Math.fround;
const U = 2 ** -24;

function bytes(p: RefProgram, ref: { offset: number; length: number }): DataView {
  return new DataView(p.data.buffer, p.data.byteOffset + ref.offset, ref.length);
}

/** The K (dequantized input, dequantized weight) pairs and the bias behind one output element of a Conv or Gemm. */
function terms(
  p: RefProgram,
  // deno-lint-ignore no-explicit-any
  op: any,
  x: RefTensor,
  xq: Int32Array,
  y: RefTensor,
  at: number,
): { xs: number[]; ws: number[]; bias: number } | undefined {
  if (op.op !== "Conv" && op.op !== "Gemm") return undefined;
  const [, H, W, C] = x.shape;
  const Cout = y.shape[3];
  const co = at % Cout;
  const w = bytes(p, op.weights), ws = bytes(p, op.w_scale);
  const wScale = ws.getFloat32(4 * co, true);
  const dqx = (i: number) => f32((xq[i] - x.zero_point) * x.scale);
  const dqw = (i: number) => f32(w.getInt8(i) * wScale);
  const b = op.bias ? bytes(p, op.bias).getInt32(4 * co, true) : 0;
  const bias = f32(b * f32(x.scale * wScale));
  const out = { xs: [] as number[], ws: [] as number[], bias };
  if (op.op === "Gemm") {
    const px = Math.floor(at / Cout);
    for (let k = 0; k < C; k++) {
      out.xs.push(dqx(px * C + k));
      out.ws.push(dqw(co * C + k));
    }
    return out;
  }
  const [, OH, OW] = y.shape;
  const ow = Math.floor(at / Cout) % OW, oh = Math.floor(at / (Cout * OW)) % OH, n = Math.floor(at / (Cout * OW * OH));
  const [kh, kw] = op.kernel;
  const [sh, sw] = op.strides ?? [1, 1];
  const [dh, dw] = op.dilations ?? [1, 1];
  const [pt, pl] = op.pads ?? [0, 0, 0, 0];
  const group = op.group ?? 1, cinG = C / group, g = Math.floor(co / (Cout / group));
  for (let i = 0; i < kh; i++) {
    const ih = oh * sh - pt + i * dh;
    if (ih < 0 || ih >= H) continue;
    for (let j = 0; j < kw; j++) {
      const iw = ow * sw - pl + j * dw;
      if (iw < 0 || iw >= W) continue;
      for (let ci = 0; ci < cinG; ci++) {
        out.xs.push(dqx(((n * H + ih) * W + iw) * C + g * cinG + ci));
        out.ws.push(dqw(((co * kh + i) * kw + j) * cinG + ci));
      }
    }
  }
  return out;
}

/**
 * Is output element `at` (device NHWC order) of this Conv/Gemm a float tie: its exact
 * value over the output scale within float32 summation error of a .5 boundary?
 *
 * @example
 * ```ts
 * if (diff === 1 && isFloatTie(prog, op, xT, xq, yT, i)) ties++;
 * ```
 */
export function isFloatTie(
  p: RefProgram,
  // deno-lint-ignore no-explicit-any
  op: any,
  x: RefTensor,
  xq: Int32Array,
  y: RefTensor,
  at: number,
): boolean {
  const t = terms(p, op, x, xq, y, at);
  if (!t) return false;
  let exact = t.bias, abs = Math.abs(t.bias);
  for (let k = 0; k < t.xs.length; k++) {
    const v = t.xs[k] * t.ws[k];
    exact += v;
    abs += Math.abs(v);
  }
  const v = exact / y.scale;
  const bound = ((t.xs.length + 2) * U * abs) / y.scale + 2 * U * Math.abs(v);
  return Math.abs(v - Math.floor(v) - 0.5) <= bound;
}
