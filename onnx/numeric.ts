/**
 * The numeric kernels of the graph runner: tight loops over typed arrays with no
 * allocation per element. Every op family calls into here. Float32 tensors above a small
 * size run on the WASM kernels (kernels/mod.ts): Add/Sub/Mul/Div with broadcasting, Exp
 * (+inf restored above 88.3), Sigmoid, Softmax on any axis, Transpose; other dtypes and small tensors
 * stay in TypeScript (a kernel call copies operands that are not in WASM memory). GEMM,
 * Conv, ConvTranspose and pooling are in numeric_nn.ts.
 *
 * @example
 * ```ts
 * import { softmaxInner } from "./numeric.ts";
 * const x = new Float32Array([1, 2, 3]); const y = new Float32Array(3);
 * softmaxInner(x, y, 1, 3, 1, false);
 * ```
 * @module
 */
import {
  binary as kBinary,
  exp as kExp,
  permute as kPermute,
  permuteForm,
  sigmoid as kSigmoid,
  softmax as kSoftmax,
  softmaxAxis as kSoftmaxAxis,
} from "../kernels/mod.ts";
import type { WasmBuffer } from "../kernels/arena.ts";
import type { TensorData } from "./tensor.ts";

const K_BINARY = ["add", "sub", "mul", "div"] as const;
/** Below this many elements the TS loop beats the kernel call (operand copies, checks). */
export const K_MIN = 256;

/** Any numeric typed array. @example `const a: NumArray = new Float32Array(1)` */
export type NumArray = Exclude<TensorData, string[] | BigInt64Array | BigUint64Array>;
/** A numeric or bigint typed array. @example `const a: AnyArray = new BigInt64Array(1)` */
export type AnyArray = NumArray | BigInt64Array | BigUint64Array;

/** Broadcast shape of two shapes (numpy rules), or null when incompatible. @example `broadcastShape([2, 1], [3]) // [2, 3]` */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length), out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1, db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else return null;
  }
  return out;
}

/** Row-major strides of `shape`, with 0 for broadcast dims against `outShape`. @example `broadcastStrides([3, 1], [3, 4]) // [1, 0]` */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const n = outShape.length, st = new Array<number>(n).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const o = n - shape.length + i;
    st[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : s;
    s *= shape[i];
  }
  return st;
}

const EXP_T64 = new Float64Array(256);
for (let j = 0; j < 256; j++) EXP_T64[j] = Math.pow(2, j / 256);
const EXP_P2 = new Float64Array(2200);
for (let i = 0; i < 2200; i++) EXP_P2[i] = Math.pow(2, i - 1100);
const EXP_MAGIC = 6755399441055744; // 1.5 * 2^52: adding and subtracting rounds to an integer
const EXP_INV = 256 / Math.LN2, EXP_L = Math.LN2 / 256;

/**
 * exp(v) by table (2^(j/256) and 2^n) and a cubic polynomial: relative error < 1e-12,
 * about 2x faster than Math.exp in V8. NaN gives NaN, overflow Infinity, underflow 0.
 * @example `expF(1) // 2.718281828459045`
 */
export function expF(v: number): number {
  if (v > 710) v = 710;
  else if (v < -746) v = -746;
  const kf = (v * EXP_INV + EXP_MAGIC) - EXP_MAGIC;
  const r = v - kf * EXP_L;
  const k = kf | 0;
  return EXP_T64[k & 255] * EXP_P2[(k >> 8) + 1100] * (1 + r * (1 + r * (0.5 + r * 0.16666666666666666)));
}

/** Binary float op codes for {@link binaryF}. @example `BinOp.Add` */
export const BinOp = { Add: 0, Sub: 1, Mul: 2, Div: 3, Pow: 4, Max: 5, Min: 6, Mod: 7, FMod: 8 } as const;

function binRow(
  op: number,
  o: NumArray,
  oi: number,
  n: number,
  a: NumArray,
  ai: number,
  as: number,
  b: NumArray,
  bi: number,
  bs: number,
): void {
  switch (op) {
    case 0:
      for (let k = 0; k < n; k++) o[oi + k] = a[ai + k * as] + b[bi + k * bs];
      break;
    case 1:
      for (let k = 0; k < n; k++) o[oi + k] = a[ai + k * as] - b[bi + k * bs];
      break;
    case 2:
      for (let k = 0; k < n; k++) o[oi + k] = a[ai + k * as] * b[bi + k * bs];
      break;
    case 3:
      for (let k = 0; k < n; k++) o[oi + k] = a[ai + k * as] / b[bi + k * bs];
      break;
    case 4:
      for (let k = 0; k < n; k++) o[oi + k] = Math.pow(a[ai + k * as], b[bi + k * bs]);
      break;
    case 5:
      for (let k = 0; k < n; k++) {
        const x = a[ai + k * as], y = b[bi + k * bs];
        o[oi + k] = x !== x || y !== y ? NaN : x > y ? x : y;
      }
      break;
    case 6:
      for (let k = 0; k < n; k++) {
        const x = a[ai + k * as], y = b[bi + k * bs];
        o[oi + k] = x !== x || y !== y ? NaN : x < y ? x : y;
      }
      break;
    case 7:
      for (let k = 0; k < n; k++) {
        const x = a[ai + k * as], y = b[bi + k * bs];
        const r = x % y;
        o[oi + k] = r !== 0 && (r < 0) !== (y < 0) ? r + y : r;
      }
      break;
    case 8:
      for (let k = 0; k < n; k++) o[oi + k] = a[ai + k * as] % b[bi + k * bs];
      break;
  }
}

/**
 * Broadcast binary op over number arrays: out[i] = a[..] OP b[..]. Integer outputs
 * truncate through the typed array (Div on ints is done by the caller).
 * @example `binaryF(BinOp.Add, out, [2,3], a, [2,3], b, [3])`
 */
export function binaryF(
  op: number,
  out: NumArray,
  outShape: readonly number[],
  a: NumArray,
  aShape: readonly number[],
  b: NumArray,
  bShape: readonly number[],
): void {
  const n = out.length;
  if (n === 0) return;
  if (
    op <= 3 && n >= K_MIN && out instanceof Float32Array && a instanceof Float32Array && b instanceof Float32Array &&
    outShape.length <= 6 && aShape.length <= 6 && bShape.length <= 6
  ) {
    kBinary(K_BINARY[op], a, aShape, b, bShape, out);
    return;
  }
  if (a.length === n && b.length === n) return binRow(op, out, 0, n, a, 0, 1, b, 0, 1);
  if (b.length === 1 && a.length === n) return binRow(op, out, 0, n, a, 0, 1, b, 0, 0);
  if (a.length === 1 && b.length === n) return binRow(op, out, 0, n, a, 0, 0, b, 0, 1);
  forEachRow(outShape, aShape, bShape, (oi, len, ai, as, bi, bs) => binRow(op, out, oi, len, a, ai, as, b, bi, bs));
}

/** Iterates the rows (last dim) of a broadcast of two shapes. @example `forEachRow([2,3],[2,3],[3], (oi,n,ai,as,bi,bs) => {})` */
export function forEachRow(
  outShape: readonly number[],
  aShape: readonly number[],
  bShape: readonly number[],
  row: (oi: number, n: number, ai: number, as: number, bi: number, bs: number) => void,
): void {
  const r = outShape.length;
  if (r === 0) return row(0, 1, 0, 0, 0, 0);
  const sa = broadcastStrides(aShape, outShape), sb = broadcastStrides(bShape, outShape);
  const inner = outShape[r - 1], rows = inner === 0 ? 0 : sizeOfShape(outShape) / inner;
  const idx = new Array<number>(r).fill(0);
  let ai = 0, bi = 0;
  for (let q = 0; q < rows; q++) {
    row(q * inner, inner, ai, sa[r - 1], bi, sb[r - 1]);
    for (let d = r - 2; d >= 0; d--) {
      idx[d]++;
      ai += sa[d];
      bi += sb[d];
      if (idx[d] < outShape[d]) break;
      ai -= sa[d] * outShape[d];
      bi -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/** Broadcast of a generic element function (bigint, bool, mixed). @example `binaryAny(out, s, a, as, b, bs, (x, y) => x === y ? 1 : 0)` */
export function binaryAny<A, B, O>(
  out: { [i: number]: O; length: number },
  outShape: readonly number[],
  a: { [i: number]: A },
  aShape: readonly number[],
  b: { [i: number]: B },
  bShape: readonly number[],
  f: (x: A, y: B) => O,
): void {
  forEachRow(outShape, aShape, bShape, (oi, n, ai, as, bi, bs) => {
    for (let k = 0; k < n; k++) out[oi + k] = f(a[ai + k * as], b[bi + k * bs]);
  });
}

/** Gathers `src` broadcast to `outShape` into `out` (Expand, Where helpers). @example `broadcastTo(out, [2,3], src, [3])` */
export function broadcastTo<T>(
  out: { [i: number]: T },
  outShape: readonly number[],
  src: { [i: number]: T },
  srcShape: readonly number[],
): void {
  forEachRow(outShape, srcShape, srcShape, (oi, n, ai, as) => {
    for (let k = 0; k < n; k++) out[oi + k] = src[ai + k * as];
  });
}

/** Unary float op codes for {@link unaryF}. @example `UnOp.Exp` */
export const UnOp = {
  Neg: 0,
  Abs: 1,
  Sqrt: 2,
  Exp: 3,
  Log: 4,
  Sigmoid: 5,
  Tanh: 6,
  Relu: 7,
  Floor: 8,
  Ceil: 9,
  Reciprocal: 10,
  Sin: 11,
  Cos: 12,
  Round: 13,
  Sign: 14,
  Erf: 15,
  Softplus: 16,
  Softsign: 17,
} as const;

/** out[i] = op(x[i]) over number arrays. @example `unaryF(UnOp.Exp, x, y)` */
export function unaryF(op: number, x: NumArray, o: NumArray): void {
  const n = x.length;
  if ((op === 3 || op === 5) && n >= K_MIN && x instanceof Float32Array && o instanceof Float32Array && x !== o) {
    if (op === 5) {
      kSigmoid(x, o);
      return;
    }
    kExp(x, o);
    // the kernel saturates near float32 max above 88.38; ONNX wants +inf there
    for (let i = 0; i < n; i++) if (x[i] > 88.3) o[i] = Math.exp(x[i]);
    return;
  }
  switch (op) {
    case 0:
      for (let i = 0; i < n; i++) o[i] = -x[i];
      break;
    case 1:
      for (let i = 0; i < n; i++) o[i] = Math.abs(x[i]);
      break;
    case 2:
      for (let i = 0; i < n; i++) o[i] = Math.sqrt(x[i]);
      break;
    case 3:
      for (let i = 0; i < n; i++) o[i] = expF(x[i]);
      break;
    case 4:
      for (let i = 0; i < n; i++) o[i] = Math.log(x[i]);
      break;
    case 5:
      for (let i = 0; i < n; i++) o[i] = 1 / (1 + expF(-x[i]));
      break;
    case 6:
      for (let i = 0; i < n; i++) o[i] = Math.tanh(x[i]);
      break;
    case 7:
      for (let i = 0; i < n; i++) {
        const v = x[i];
        o[i] = v > 0 ? v : 0;
      }
      break;
    case 8:
      for (let i = 0; i < n; i++) o[i] = Math.floor(x[i]);
      break;
    case 9:
      for (let i = 0; i < n; i++) o[i] = Math.ceil(x[i]);
      break;
    case 10:
      for (let i = 0; i < n; i++) o[i] = 1 / x[i];
      break;
    case 11:
      for (let i = 0; i < n; i++) o[i] = Math.sin(x[i]);
      break;
    case 12:
      for (let i = 0; i < n; i++) o[i] = Math.cos(x[i]);
      break;
    case 13:
      for (let i = 0; i < n; i++) o[i] = roundHalfEven(x[i]);
      break;
    case 14:
      for (let i = 0; i < n; i++) o[i] = Math.sign(x[i]);
      break;
    case 15:
      for (let i = 0; i < n; i++) o[i] = erf(x[i]);
      break;
    case 16:
      for (let i = 0; i < n; i++) {
        const v = x[i];
        o[i] = v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v));
      }
      break;
    case 17:
      for (let i = 0; i < n; i++) o[i] = x[i] / (1 + Math.abs(x[i]));
      break;
  }
}

/** Round half to even (ONNX Round, QuantizeLinear). @example `roundHalfEven(2.5) === 2` */
export function roundHalfEven(v: number): number {
  // Math.round rounds ties up: a tie is exactly r - v = 0.5, and the odd r then goes down
  // (`&` keeps the parity of any integer below 2^53; no double above has a fraction). The
  // same results as `Math.abs(v % 1) === 0.5 && r % 2 !== 0`, without the slow `%`.
  const r = Math.round(v);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** Error function (Abramowitz-Stegun 7.1.26 refined; |err| < 2e-7). @example `erf(0) === 0` */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1, a = Math.abs(x);
  // series for small, continued fraction-like approximation for large
  if (a < 2) {
    let sum = a, term = a;
    const a2 = a * a;
    for (let n = 1; n < 60; n++) {
      term *= -a2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return s * (2 / Math.sqrt(Math.PI)) * sum;
  }
  const t = 1 / (1 + 0.5 * a);
  const y = 1 - t * Math.exp(
        -a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
                      t *
                        (-0.18628806 +
                          t *
                            (0.27886807 +
                              t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
      );
  return s * y;
}

/** out = clamp(x, lo, hi). @example `clampF(x, y, 0, 6)` */
export function clampF(x: NumArray, o: NumArray, lo: number, hi: number): void {
  for (let i = 0, n = x.length; i < n; i++) {
    let v = x[i];
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    o[i] = v;
  }
}

/**
 * The kernel form of {@link softmaxInner} (float32, not log, at least K_MIN elements, `x`
 * not `o`): the last-axis kernel when `inner` is 1, else the strided one.
 * @example `softmaxOnKernel(x, y, 1, 1000, 1)`
 */
export function softmaxOnKernel(
  x: Float32Array | WasmBuffer,
  o: Float32Array | WasmBuffer,
  outer: number,
  axis: number,
  inner: number,
): void {
  if (inner === 1) kSoftmax(x, [outer, axis], o);
  else kSoftmaxAxis(x, [outer, axis, inner], 1, o);
}

/**
 * Softmax (or log-softmax) over the middle axis of a [outer, axis, inner] view.
 * @example `softmaxInner(x, y, 1, 1000, 1, false)`
 */
export function softmaxInner(x: NumArray, o: NumArray, outer: number, axis: number, inner: number, log: boolean): void {
  if (
    !log && outer * axis * inner >= K_MIN && x instanceof Float32Array && o instanceof Float32Array && x !== o
  ) {
    softmaxOnKernel(x, o, outer, axis, inner);
    return;
  }
  if (inner === 1) {
    for (let p = 0; p < outer; p++) {
      const b = p * axis;
      let mx = -Infinity;
      for (let k = 0; k < axis; k++) {
        const v = x[b + k];
        if (v > mx) mx = v;
      }
      let sum = 0;
      if (log) {
        for (let k = 0; k < axis; k++) sum += expF(x[b + k] - mx);
        const ls = Math.log(sum) + mx;
        for (let k = 0; k < axis; k++) o[b + k] = x[b + k] - ls;
      } else {
        for (let k = 0; k < axis; k++) {
          const e = expF(x[b + k] - mx);
          o[b + k] = e;
          sum += e;
        }
        const inv = 1 / sum;
        for (let k = 0; k < axis; k++) o[b + k] *= inv;
      }
    }
    return;
  }
  // inner > 1: contiguous rows of length `inner`, in column blocks that stay in cache
  const B = 512, mx = new Float64Array(Math.min(inner, B)), sum = new Float64Array(Math.min(inner, B));
  for (let p = 0; p < outer; p++) {
    const base = p * axis * inner;
    for (let q0 = 0; q0 < inner; q0 += B) {
      const w = Math.min(B, inner - q0), b0 = base + q0;
      mx.fill(-Infinity);
      sum.fill(0);
      for (let k = 0; k < axis; k++) {
        const r = b0 + k * inner;
        for (let q = 0; q < w; q++) {
          const v = x[r + q];
          if (v > mx[q]) mx[q] = v;
        }
      }
      for (let k = 0; k < axis; k++) {
        const r = b0 + k * inner;
        if (log) { for (let q = 0; q < w; q++) sum[q] += expF(x[r + q] - mx[q]); }
        else {for (let q = 0; q < w; q++) {
            const e = expF(x[r + q] - mx[q]);
            o[r + q] = e;
            sum[q] += e;
          }}
      }
      if (log) { for (let q = 0; q < w; q++) sum[q] = Math.log(sum[q]) + mx[q]; }
      else for (let q = 0; q < w; q++) sum[q] = 1 / sum[q];
      for (let k = 0; k < axis; k++) {
        const r = b0 + k * inner;
        if (log) { for (let q = 0; q < w; q++) o[r + q] = x[r + q] - sum[q]; }
        else for (let q = 0; q < w; q++) o[r + q] *= sum[q];
      }
    }
  }
}

/**
 * Whether a float32 {@link transpose} of `shape` by `perm` runs on the WASM kernel: a valid
 * permutation of at least K_MIN elements that the kernel takes (at most 6 axes after
 * merging). @example `transposeOnKernel([1, 21504, 4, 16], [0, 3, 2, 1]) // true`
 */
export function transposeOnKernel(shape: readonly number[], perm: readonly number[]): boolean {
  let n = 1;
  for (const d of shape) n *= d;
  return n >= K_MIN && perm.length === shape.length && new Set(perm).size === perm.length &&
    perm.every((p) => Number.isInteger(p) && p >= 0 && p < shape.length) && permuteForm(shape, perm).shape.length <= 6;
}

/** Generic transpose: out = permute(x, perm). @example `transpose(x, [2,3], [1,0], y)` */
export function transpose<T>(
  x: { [i: number]: T; length: number },
  shape: readonly number[],
  perm: readonly number[],
  o: { [i: number]: T },
): void {
  const r = shape.length;
  if (x instanceof Float32Array && o instanceof Float32Array && x !== o && transposeOnKernel(shape, perm)) {
    kPermute(x, shape, perm, o);
    return;
  }
  const inStr = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) {
    inStr[i] = s;
    s *= shape[i];
  }
  const outShape = perm.map((p) => shape[p]), st = perm.map((p) => inStr[p]);
  const n = x.length;
  if (n === 0) return;
  if (r === 0) {
    o[0] = x[0];
    return;
  }
  const j = perm.indexOf(r - 1);
  if (j < r - 1 && outShape[j] >= 16 && outShape[r - 1] >= 16 && st[r - 1] >= 16) {
    return transposeTiled(x, o, outShape, st, j);
  }
  const idx = new Array<number>(r).fill(0);
  const inner = outShape[r - 1], is = st[r - 1];
  let src = 0;
  const rowCopy = is === 1 && inner >= 16 && ArrayBuffer.isView(x) && ArrayBuffer.isView(o);
  for (let q = 0; q < n; q += inner) {
    if (rowCopy) (o as unknown as Float32Array).set((x as unknown as Float32Array).subarray(src, src + inner), q);
    else for (let k = 0; k < inner; k++) o[q + k] = x[src + k * is];
    for (let d = r - 2; d >= 0; d--) {
      src += st[d];
      if (++idx[d] < outShape[d]) break;
      src -= st[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/**
 * {@link transpose} when the input's last axis becomes output axis `j` (not the last) and
 * the output's last axis is strided in the input: tiles of 32 x 32 over those two axes, so
 * that both the strided reads and the strided writes stay within a few cache lines.
 */
function transposeTiled<T>(
  x: { [i: number]: T },
  o: { [i: number]: T },
  outShape: readonly number[],
  st: readonly number[],
  j: number,
): void {
  const r = outShape.length, T = 32;
  const oStr = new Array<number>(r);
  for (let d = r - 1, s = 1; d >= 0; d--) {
    oStr[d] = s;
    s *= outShape[d];
  }
  const A = outShape[j], B = outShape[r - 1], isB = st[r - 1], oA = oStr[j];
  const others = outShape.map((_, d) => d).filter((d) => d !== j && d !== r - 1);
  const idx = new Array<number>(others.length).fill(0);
  let outer = 1;
  for (const d of others) outer *= outShape[d];
  for (let q = 0; q < outer; q++) {
    let xb = 0, ob = 0;
    others.forEach((d, k) => {
      xb += idx[k] * st[d];
      ob += idx[k] * oStr[d];
    });
    for (let a0 = 0; a0 < A; a0 += T) {
      const a1 = Math.min(A, a0 + T);
      for (let b0 = 0; b0 < B; b0 += T) {
        const b1 = Math.min(B, b0 + T);
        for (let a = a0; a < a1; a++) {
          const xa = xb + a, oa = ob + a * oA;
          for (let b = b0; b < b1; b++) o[oa + b] = x[xa + b * isB];
        }
      }
    }
    for (let k = others.length - 1; k >= 0; k--) {
      if (++idx[k] < outShape[others[k]]) break;
      idx[k] = 0;
    }
  }
}

/** Reduction codes for {@link reduceAxes}. @example `RedOp.Sum` */
export const RedOp = {
  Sum: 0,
  Mean: 1,
  Max: 2,
  Min: 3,
  Prod: 4,
  SumSquare: 5,
  L1: 6,
  L2: 7,
  LogSum: 8,
  LogSumExp: 9,
} as const;

/**
 * Reduces `x` over a [outer, red, inner] view (axes must be contiguous after a transpose
 * by the caller). @example `reduceInner(RedOp.Sum, x, y, 2, 3, 4)`
 */
export function reduceInner(op: number, x: NumArray, o: NumArray, outer: number, red: number, inner: number): void {
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      const b = p * red * inner + q;
      let acc: number;
      switch (op) {
        case 2:
          acc = -Infinity;
          for (let k = 0; k < red; k++) {
            const v = x[b + k * inner];
            if (v > acc || v !== v) acc = v;
          }
          break;
        case 3:
          acc = Infinity;
          for (let k = 0; k < red; k++) {
            const v = x[b + k * inner];
            if (v < acc || v !== v) acc = v;
          }
          break;
        case 4:
          acc = 1;
          for (let k = 0; k < red; k++) acc *= x[b + k * inner];
          break;
        case 5:
        case 7:
          acc = 0;
          for (let k = 0; k < red; k++) {
            const v = x[b + k * inner];
            acc += v * v;
          }
          if (op === 7) acc = Math.sqrt(acc);
          break;
        case 6:
          acc = 0;
          for (let k = 0; k < red; k++) acc += Math.abs(x[b + k * inner]);
          break;
        case 9: {
          let mx = -Infinity;
          for (let k = 0; k < red; k++) mx = Math.max(mx, x[b + k * inner]);
          acc = 0;
          if (mx === -Infinity) {
            acc = -Infinity;
            break;
          }
          for (let k = 0; k < red; k++) acc += Math.exp(x[b + k * inner] - mx);
          acc = Math.log(acc) + mx;
          break;
        }
        default:
          acc = 0;
          for (let k = 0; k < red; k++) acc += x[b + k * inner];
          if (op === 1) acc /= red;
          else if (op === 8) acc = Math.log(acc);
      }
      o[p * inner + q] = acc;
    }
  }
}

/** Product of a shape. @example `sizeOfShape([2,3]) === 6` */
export function sizeOfShape(s: readonly number[]): number {
  let n = 1;
  for (const d of s) n *= d;
  return n;
}
