/**
 * Float32 numeric kernels for the ONNX graph runner: element-wise add / sub / mul / div with
 * numpy/ONNX broadcasting (exact IEEE float32, the same results as onnxruntime), exp,
 * sigmoid and softmax along the last axis (Cephes expf: within 2 ulp; see
 * kernels/src/numeric.rs for the exact ranges).
 *
 * Operands are Float32Arrays or {@link WasmBuffer}s; `exp`, `sigmoid` and `softmax` may run
 * in place (`dst` the same array as `src`), and a binary op may write over an operand that
 * has the output's shape.
 *
 * @module
 */
import { allocate, WasmBuffer } from "./arena.ts";
import { callKernel, checkCount, checkOperand, checkU32s } from "./call.ts";
import { kernelExports } from "./wasm.ts";

/** Element-wise binary operations. */
export type BinaryOp = "add" | "sub" | "mul" | "div";

const OP_CODES: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3 };
const MAX_RANK = 6;

function count(x: Float32Array | WasmBuffer): number {
  return x instanceof WasmBuffer ? x.byteLength >>> 2 : x.length;
}

function checkShape(fn: string, arg: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new TypeError(`${fn}: ${arg} must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (shape.length > MAX_RANK) {
    throw new RangeError(`${fn}: ${arg} has rank ${shape.length}; at most ${MAX_RANK} is supported`);
  }
}

/**
 * The broadcast shape of two shapes (numpy / ONNX multidirectional broadcasting).
 *
 * @throws {RangeError} when the shapes do not broadcast.
 * @example
 * ```ts
 * import { broadcastShape } from "./numeric.ts";
 * console.log(broadcastShape([2, 1, 3], [4, 1])); // [2, 4, 3]
 * ```
 */
export function broadcastShape(aShape: readonly number[], bShape: readonly number[]): number[] {
  const rank = Math.max(aShape.length, bShape.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const a = aShape[aShape.length - rank + i] ?? 1, b = bShape[bShape.length - rank + i] ?? 1;
    if (a !== b && a !== 1 && b !== 1) {
      throw new RangeError(
        `broadcast: shapes [${aShape.join(", ")}] and [${
          bShape.join(", ")
        }] do not broadcast (axis ${i}: ${a} vs ${b})`,
      );
    }
    out.push(a === 1 ? b : a);
  }
  return out;
}

function strides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const s = new Array(rank).fill(0);
  let step = 1;
  for (let i = rank - 1; i >= 0; i--) {
    const d = shape[shape.length - rank + i] ?? 1;
    s[i] = d === 1 ? 0 : step;
    step *= d;
  }
  return s;
}

/**
 * `out = a OP b` element-wise with broadcasting; `out` has the broadcast shape. Float32.
 *
 * @example
 * ```ts
 * import { binary } from "./numeric.ts";
 * const out = binary("add", new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], new Float32Array([10, 20, 30]), [3],
 *   new Float32Array(6));
 * console.log(out); // Float32Array [11, 22, 33, 14, 25, 36]
 * ```
 */
export function binary<D extends Float32Array | WasmBuffer>(
  op: BinaryOp,
  a: Float32Array | WasmBuffer,
  aShape: readonly number[],
  b: Float32Array | WasmBuffer,
  bShape: readonly number[],
  out: D,
): D {
  const fn = op;
  if (!(op in OP_CODES)) throw new TypeError(`binary: op must be add, sub, mul or div, got ${JSON.stringify(op)}`);
  checkOperand(fn, "a", a, [Float32Array]);
  checkOperand(fn, "b", b, [Float32Array]);
  checkOperand(fn, "out", out, [Float32Array]);
  checkShape(fn, "aShape", aShape);
  checkShape(fn, "bShape", bShape);
  const shape = broadcastShape(aShape, bShape);
  const na = aShape.reduce((x, y) => x * y, 1), nb = bShape.reduce((x, y) => x * y, 1);
  const n = shape.reduce((x, y) => x * y, 1);
  checkCount(fn, "a", a, na, 4);
  checkCount(fn, "b", b, nb, 4);
  checkCount(fn, "out", out, n, 4);
  if (n === 0) return out;
  const params = [shape.length, ...pad6(shape), ...pad6(strides(aShape, shape)), ...pad6(strides(bShape, shape))];
  // An operand of the output's shape may be overwritten in place (each element is read
  // before it is written); other operands must not overlap the output.
  // (an operand with as many elements as the output has the output's layout).
  const inPlace = [na === n, nb === n];
  callKernel(
    fn,
    [{ name: "a", value: a, bytes: 4 * na, inPlace: inPlace[0] }, {
      name: "b",
      value: b,
      bytes: 4 * nb,
      inPlace: inPlace[1],
    }],
    [{ name: "out", value: out, bytes: 4 * n }],
    params,
    ([pa, pb], [po], pp) => kernelExports().binary_f32(OP_CODES[op], pa, pb, po, pp),
  );
  return out;
}

function pad6(v: readonly number[]): number[] {
  return [...v, ...new Array(MAX_RANK - v.length).fill(0)];
}

/**
 * `out = a + b` with broadcasting. See {@link binary}.
 *
 * @example
 * ```ts
 * import { add } from "./numeric.ts";
 * console.log(add(new Float32Array([1, 2]), [2], new Float32Array([0.5]), [], new Float32Array(2))); // [1.5, 2.5]
 * ```
 */
export function add<D extends Float32Array | WasmBuffer>(
  a: Float32Array | WasmBuffer,
  aShape: readonly number[],
  b: Float32Array | WasmBuffer,
  bShape: readonly number[],
  out: D,
): D {
  return binary("add", a, aShape, b, bShape, out);
}

/**
 * `out = a - b` with broadcasting. See {@link binary}.
 *
 * @example
 * ```ts
 * import { sub } from "./numeric.ts";
 * console.log(sub(new Float32Array([1, 2]), [2], new Float32Array([1]), [1], new Float32Array(2))); // [0, 1]
 * ```
 */
export function sub<D extends Float32Array | WasmBuffer>(
  a: Float32Array | WasmBuffer,
  aShape: readonly number[],
  b: Float32Array | WasmBuffer,
  bShape: readonly number[],
  out: D,
): D {
  return binary("sub", a, aShape, b, bShape, out);
}

/**
 * `out = a * b` with broadcasting. See {@link binary}.
 *
 * @example
 * ```ts
 * import { mul } from "./numeric.ts";
 * console.log(mul(new Float32Array([1, 2]), [2], new Float32Array([3]), [1], new Float32Array(2))); // [3, 6]
 * ```
 */
export function mul<D extends Float32Array | WasmBuffer>(
  a: Float32Array | WasmBuffer,
  aShape: readonly number[],
  b: Float32Array | WasmBuffer,
  bShape: readonly number[],
  out: D,
): D {
  return binary("mul", a, aShape, b, bShape, out);
}

/**
 * `out = a / b` with broadcasting (float32 division). See {@link binary}.
 *
 * @example
 * ```ts
 * import { div } from "./numeric.ts";
 * console.log(div(new Float32Array([1, 2]), [2], new Float32Array([4]), [1], new Float32Array(2))); // [0.25, 0.5]
 * ```
 */
export function div<D extends Float32Array | WasmBuffer>(
  a: Float32Array | WasmBuffer,
  aShape: readonly number[],
  b: Float32Array | WasmBuffer,
  bShape: readonly number[],
  out: D,
): D {
  return binary("div", a, aShape, b, bShape, out);
}

function unary<D extends Float32Array | WasmBuffer>(
  fn: string,
  src: Float32Array | WasmBuffer,
  dst: D,
  kernel: (s: number, d: number, n: number) => void,
): D {
  checkOperand(fn, "src", src, [Float32Array]);
  checkOperand(fn, "dst", dst, [Float32Array]);
  const n = count(src);
  checkCount(fn, "dst", dst, n, 4);
  if (n === 0) return dst;
  callKernel(
    fn,
    [{ name: "src", value: src, bytes: 4 * n, inPlace: true }],
    [{ name: "dst", value: dst, bytes: 4 * n }],
    undefined,
    (
      [s],
      [d],
    ) => kernel(s, d, n),
  );
  return dst;
}

/**
 * `dst = exp(src)` element-wise (float32, within 2 ulp; may be in place).
 *
 * @example
 * ```ts
 * import { exp } from "./numeric.ts";
 * console.log(exp(new Float32Array([0, 1]), new Float32Array(2))); // [1, 2.7182817...]
 * ```
 */
export function exp<D extends Float32Array | WasmBuffer>(src: Float32Array | WasmBuffer, dst: D): D {
  return unary("exp", src, dst, (s, d, n) => kernelExports().exp_f32(s, d, n));
}

/**
 * `dst = 1 / (1 + exp(-src))` element-wise (float32; may be in place).
 *
 * @example
 * ```ts
 * import { sigmoid } from "./numeric.ts";
 * console.log(sigmoid(new Float32Array([0]), new Float32Array(1))); // [0.5]
 * ```
 */
export function sigmoid<D extends Float32Array | WasmBuffer>(src: Float32Array | WasmBuffer, dst: D): D {
  return unary("sigmoid", src, dst, (s, d, n) => kernelExports().sigmoid_f32(s, d, n));
}

/**
 * Softmax along the last axis of `shape`: `exp(x - max) / sum(exp(x - max))` per row
 * (float32; may be in place).
 *
 * @example
 * ```ts
 * import { softmax } from "./numeric.ts";
 * console.log(softmax(new Float32Array([0, 0, 1, 1]), [2, 2], new Float32Array(4))); // [0.5, 0.5, 0.5, 0.5]
 * ```
 */
export function softmax<D extends Float32Array | WasmBuffer>(
  src: Float32Array | WasmBuffer,
  shape: readonly number[],
  dst: D,
): D {
  const fn = "softmax";
  checkShape(fn, "shape", shape);
  if (shape.length === 0) throw new RangeError(`softmax: shape must have at least one axis`);
  const cols = shape[shape.length - 1];
  const n = shape.reduce((x, y) => x * y, 1);
  checkOperand(fn, "src", src, [Float32Array]);
  checkCount(fn, "src", src, n, 4);
  return unary(fn, src, dst, (s, d) => kernelExports().softmax_f32(s, d, cols === 0 ? 0 : n / cols, cols));
}

/**
 * Softmax along any axis of `shape` (float32; may be in place): every line along `axis` is
 * normalised, without a transpose (the kernel's lanes run over the axes after `axis`).
 * `softmaxAxis(src, shape, shape.length - 1, dst)` equals {@link softmax}.
 *
 * @throws {RangeError} when `axis` is not an axis of `shape` (negative counts from the end).
 * @example
 * ```ts
 * import { softmaxAxis } from "./numeric.ts";
 * console.log(softmaxAxis(new Float32Array([0, 1, 0, 1]), [2, 2], 0, new Float32Array(4))); // [0.5, 0.5, 0.5, 0.5]
 * ```
 */
export function softmaxAxis<D extends Float32Array | WasmBuffer>(
  src: Float32Array | WasmBuffer,
  shape: readonly number[],
  axis: number,
  dst: D,
): D {
  const fn = "softmaxAxis";
  checkShape(fn, "shape", shape);
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new RangeError(`softmaxAxis: axis ${axis} is out of range for rank ${rank}`);
  }
  const ax = axis < 0 ? axis + rank : axis;
  const outer = shape.slice(0, ax).reduce((x, y) => x * y, 1), len = shape[ax];
  const inner = shape.slice(ax + 1).reduce((x, y) => x * y, 1);
  checkOperand(fn, "src", src, [Float32Array]);
  checkCount(fn, "src", src, outer * len * inner, 4);
  return unary(fn, src, dst, (s, d) => {
    if (inner === 1) kernelExports().softmax_f32(s, d, outer, len);
    else kernelExports().softmax_axis_f32(s, d, outer, len, inner);
  });
}

/**
 * A constant `b` of {@link gemm} (`k` rows of `n` columns) laid out once in the kernels'
 * memory the way gemm copies it per call (strips of 8 columns, each `k` x 8, then the last
 * `n % 8` columns), so that products with it copy and pack nothing: the same products
 * and sums in the same order, so the same bits as gemm with the matrix itself. Free it
 * with `free()`.
 *
 * @example
 * ```ts
 * import { gemm, PackedMatrix } from "./numeric.ts";
 * const b = PackedMatrix.pack(new Float32Array([3, 4, 5, 6]), 2, 2);
 * const c = gemm(new Float32Array([1, 2]), b, new Float32Array(2), 1, 2, 2,
 *   { aRowStride: 2, aColStride: 1, bRowStride: 2 });
 * console.log(c); // Float32Array [13, 16]
 * b.free();
 * ```
 */
export class PackedMatrix {
  private constructor(
    /** The packed floats (`k * n`). */
    readonly buffer: WasmBuffer,
    /** Rows. */
    readonly k: number,
    /** Columns. */
    readonly n: number,
  ) {}

  /**
   * Packs `b` (`k` rows of `n` columns, rows `bRowStride` floats apart) into a new block
   * of the kernels' memory.
   *
   * @throws {RangeError} when `b` is too small for the layout.
   * @example `const p = PackedMatrix.pack(weights, 120, 6625)`
   */
  static pack(b: Float32Array | WasmBuffer, k: number, n: number, bRowStride = n): PackedMatrix {
    const fn = "PackedMatrix.pack";
    checkOperand(fn, "b", b, [Float32Array]);
    checkU32s(fn, { k, n, bRowStride });
    if (bRowStride < n && k > 1) throw new RangeError(`${fn}: bRowStride ${bRowStride} is less than n ${n}`);
    const need = k === 0 || n === 0 ? 0 : (k - 1) * bRowStride + n;
    if (count(b) < need) throw new RangeError(`${fn}: b must have at least ${need} elements, got ${count(b)}`);
    const out = allocate(4 * k * n);
    if (need > 0) {
      callKernel(
        fn,
        [{ name: "b", value: b, bytes: 4 * count(b) }],
        [{ name: "packed", value: out, bytes: 4 * k * n }],
        [bRowStride, k, n],
        ([pb], [pd], pp) => kernelExports().gemm_pack_b_f32(pb, pd, pp),
      );
    }
    return new PackedMatrix(out, k, n);
  }

  /** Whether {@link PackedMatrix.free} was called. @example `p.freed` */
  get freed(): boolean {
    return this.buffer.freed;
  }

  /** Releases the block. @example `p.free()` */
  free(): void {
    if (!this.buffer.freed) this.buffer.free();
  }
}

/**
 * The patches (im2col) of a convolution for {@link gemm}: `col[(ic * kSize + kk) * wd + j]`
 * is `x[ic * inSize + off]` for `off = offs[(o0 + j) * kSize + kk]`, or +0 where `off` is
 * negative (padding), for `ic < channels`, `kk < kSize`, `j < wd`. The values are copied as
 * they are. `offs` holds, per output position and kernel tap, the input offset or -1.
 *
 * @throws {RangeError} when an operand is too small or an offset is out of range.
 * @example
 * ```ts
 * import { im2col } from "./numeric.ts";
 * // one channel of 3 values, a kernel of 2 taps, padding 1 on the left: 3 outputs
 * const col = im2col(new Float32Array([1, 2, 3]), 3, 1, new Int32Array([-1, 0, 0, 1, 1, 2]), 2, 0, 3,
 *   new Float32Array(6));
 * console.log(col); // Float32Array [0, 1, 2, 1, 2, 3]
 * ```
 */
export function im2col<D extends Float32Array | WasmBuffer>(
  x: Float32Array | WasmBuffer,
  inSize: number,
  channels: number,
  offs: Int32Array,
  kSize: number,
  o0: number,
  wd: number,
  col: D,
): D {
  const fn = "im2col";
  checkOperand(fn, "x", x, [Float32Array]);
  checkOperand(fn, "col", col, [Float32Array]);
  checkU32s(fn, { inSize, channels, kSize, o0, wd });
  if (count(x) < channels * inSize) throw new RangeError(`${fn}: x must have at least ${channels * inSize} elements`);
  if (count(col) < channels * kSize * wd) {
    throw new RangeError(`${fn}: col must have at least ${channels * kSize * wd} elements`);
  }
  const taps = offs.subarray(o0 * kSize, (o0 + wd) * kSize);
  if (taps.length !== wd * kSize) throw new RangeError(`${fn}: offs must have at least ${(o0 + wd) * kSize} values`);
  for (const off of taps) {
    if (off >= inSize) throw new RangeError(`${fn}: offset ${off} is past the ${inSize} values of a channel`);
  }
  const ob = new Uint8Array(offs.buffer, offs.byteOffset, offs.byteLength);
  callKernel(
    fn,
    [{ name: "x", value: x, bytes: 4 * count(x) }, { name: "offs", value: ob, bytes: ob.byteLength }],
    [{ name: "col", value: col, bytes: 4 * count(col) }],
    [inSize, channels, kSize, o0, wd],
    ([px, po], [pc], pp) => kernelExports().im2col_f32(px, po, pc, pp),
  );
  return col;
}

/**
 * Layout of the `a` and `b` operands of {@link gemm}: element strides.
 *
 * @example
 * ```ts
 * import type { GemmLayout } from "./numeric.ts";
 * const rowMajor: GemmLayout = { aRowStride: 8, aColStride: 1, bRowStride: 16 }; // a [m, 8], b [8, 16]
 * ```
 */
export interface GemmLayout {
  /** Stride between rows of A (element (i, p) is at `i * aRowStride + p * aColStride`). */
  aRowStride: number;
  /** Stride between columns of A (1 for row-major A, `m` for a transposed one). */
  aColStride: number;
  /** Stride between rows of B (rows are contiguous). */
  bRowStride: number;
}

/**
 * `c[m, n] = a[m, k] b[k, n]` (or `+=` with `accumulate`) in float32; `c` is row-major,
 * `a` is addressed by strides (a transposed `a` needs no copy), `b` has contiguous rows.
 * Products are added in order of `k`. `c` must not overlap `a` or `b`.
 *
 * @throws {RangeError} when an operand is too small for the layout.
 * @example
 * ```ts
 * import { gemm } from "./numeric.ts";
 * const c = gemm(new Float32Array([1, 2]), new Float32Array([3, 4, 5, 6]), new Float32Array(2), 1, 2, 2,
 *   { aRowStride: 2, aColStride: 1, bRowStride: 2 });
 * console.log(c); // Float32Array [13, 16]
 * ```
 */
export function gemm<D extends Float32Array | WasmBuffer>(
  a: Float32Array | WasmBuffer,
  b: Float32Array | WasmBuffer | PackedMatrix,
  c: D,
  m: number,
  n: number,
  k: number,
  layout: GemmLayout,
  accumulate = false,
): D {
  const fn = "gemm";
  checkOperand(fn, "a", a, [Float32Array]);
  const packed = b instanceof PackedMatrix ? b : undefined;
  if (packed) {
    if (packed.freed) throw new TypeError("gemm: b is a PackedMatrix that was freed");
    if (packed.k !== k || packed.n !== n) {
      throw new RangeError(`gemm: b is a packed ${packed.k} x ${packed.n} matrix, the product needs ${k} x ${n}`);
    }
  } else checkOperand(fn, "b", b, [Float32Array]);
  checkOperand(fn, "c", c, [Float32Array]);
  const { aRowStride: ars, aColStride: acs, bRowStride: brs } = layout;
  checkU32s(fn, { m, n, k, aRowStride: ars, aColStride: acs, bRowStride: brs });
  checkCount(fn, "c", c, m * n, 4);
  if (m === 0 || n === 0) return c;
  const aNeed = k === 0 ? 0 : (m - 1) * ars + (k - 1) * acs + 1, bNeed = k === 0 ? 0 : (k - 1) * brs + n;
  if (count(a) < aNeed) throw new RangeError(`gemm: a must have at least ${aNeed} elements, got ${count(a)}`);
  const bOp = packed ? packed.buffer : b as Float32Array | WasmBuffer;
  if (!packed && count(bOp) < bNeed) {
    throw new RangeError(`gemm: b must have at least ${bNeed} elements, got ${count(bOp)}`);
  }
  if (!packed && brs < n && k > 1) throw new RangeError(`gemm: bRowStride ${brs} is less than n ${n}`);
  return callProduct(
    fn,
    a,
    bOp,
    c,
    m * n,
    accumulate,
    [ars, acs, packed ? 0 : brs, m, n, k, accumulate ? 1 : 0],
    packed ? kernelExports().gemm_packed_f32 : kernelExports().gemm_f32,
  );
}

/**
 * Calls a product kernel `kernel(a, b, c, params)` on `c` of `cCount` floats: an
 * accumulating `c` outside the kernels' memory is staged in a block of it (the kernel reads
 * it too) and copied back. Returns `c`.
 */
function callProduct<D extends Float32Array | WasmBuffer>(
  fn: string,
  a: Float32Array | WasmBuffer,
  b: Float32Array | WasmBuffer,
  c: D,
  cCount: number,
  accumulate: boolean,
  params: number[],
  kernel: (a: number, b: number, c: number, params: number) => void,
): D {
  const inMemory = c instanceof WasmBuffer || (c as Float32Array).buffer === kernelExports().memory.buffer;
  const staged = accumulate && !inMemory ? allocate(4 * cCount) : undefined;
  try {
    if (staged) staged.f32().set(c as Float32Array);
    callKernel(
      fn,
      [{ name: "a", value: a, bytes: 4 * count(a) }, { name: "b", value: b, bytes: 4 * count(b) }],
      [{ name: "c", value: staged ?? c, bytes: 4 * cCount }],
      params,
      ([pa, pb], [pc], pp) => kernel(pa, pb, pc, pp),
    );
    if (staged) (c as Float32Array).set(staged.f32());
  } finally {
    staged?.free();
  }
  return c;
}

/**
 * `c[m, n] = a[m, k] b[k, n]` (or `+=` with `accumulate`) with the graph runner's dot-product
 * semantics (its Gemm with `transB`): per element, the products (each exact in f64) added in
 * f64 in order of `k`, none skipped, and the sum rounded to float32 once (added to `c` in f64
 * first with `accumulate`): what `s += a * b` then `c += s` compute on `Float32Array`s in
 * JavaScript. `b` is given by columns: element `(p, j)` at `j * bColStride + p` (a `[n, k]`
 * matrix used transposed). `a` is addressed by strides; `c` is row-major and must not
 * overlap `a` or `b`.
 *
 * @throws {RangeError} when an operand is too small for the layout.
 * @example
 * ```ts
 * import { gemmDot } from "./numeric.ts";
 * // [1, 2] x [[3, 4], [5, 6]], b given as its columns [3, 5] and [4, 6]
 * const c = gemmDot(new Float32Array([1, 2]), new Float32Array([3, 5, 4, 6]), new Float32Array(2), 1, 2, 2, {
 *   aRowStride: 2,
 *   aColStride: 1,
 *   bColStride: 2,
 * });
 * console.log(c); // Float32Array [13, 16]
 * ```
 */
export function gemmDot<D extends Float32Array | WasmBuffer>(
  a: Float32Array | WasmBuffer,
  b: Float32Array | WasmBuffer,
  c: D,
  m: number,
  n: number,
  k: number,
  layout: { aRowStride: number; aColStride: number; bColStride: number },
  accumulate = false,
): D {
  const fn = "gemmDot";
  checkOperand(fn, "a", a, [Float32Array]);
  checkOperand(fn, "b", b, [Float32Array]);
  checkOperand(fn, "c", c, [Float32Array]);
  const { aRowStride: ars, aColStride: acs, bColStride: bcs } = layout;
  checkU32s(fn, { m, n, k, aRowStride: ars, aColStride: acs, bColStride: bcs });
  checkCount(fn, "c", c, m * n, 4);
  if (m === 0 || n === 0) return c;
  const aNeed = k === 0 ? 0 : (m - 1) * ars + (k - 1) * acs + 1, bNeed = k === 0 ? 0 : (n - 1) * bcs + k;
  if (count(a) < aNeed) throw new RangeError(`${fn}: a must have at least ${aNeed} elements, got ${count(a)}`);
  if (count(b) < bNeed) throw new RangeError(`${fn}: b must have at least ${bNeed} elements, got ${count(b)}`);
  if (bcs < k && n > 1) throw new RangeError(`${fn}: bColStride ${bcs} is less than k ${k}`);
  return callProduct(
    fn,
    a,
    b,
    c,
    m * n,
    accumulate,
    [ars, acs, bcs, m, n, k, accumulate ? 1 : 0],
    kernelExports().gemm_dot_f32,
  );
}

/**
 * Batched `c[q] = a[q] b[q]` (`batches` products of `[m, k] x [k, n]`, `c` row-major with
 * the batches one after the other) with the graph runner's small-product semantics: per
 * element, products in order of `k`, each product exact (f64) added to the float32 element
 * and the sum rounded to float32 before the next one (what `c[j] += a * b[j]` computes on
 * `Float32Array`s in JavaScript), and a product whose `a` element is 0 skipped.
 * `offsets` holds, per batch, the element offset of its `a` and of its `b` (broadcast
 * batches may share one). `c` must not overlap `a` or `b`.
 *
 * @throws {RangeError} when an operand is too small for the layout and offsets.
 * @example
 * ```ts
 * import { gemmStepwise } from "./numeric.ts";
 * const a = new Float32Array([1, 2]), b = new Float32Array([3, 4, 5, 6, 7, 8, 9, 10]);
 * // two batches sharing a: [1, 2] x [[3, 4], [5, 6]] and [1, 2] x [[7, 8], [9, 10]]
 * const c = gemmStepwise(a, b, new Float32Array(4), 1, 2, 2, { aRowStride: 2, aColStride: 1, bRowStride: 2 }, [0, 0, 0, 4]);
 * console.log(c); // Float32Array [13, 16, 25, 28]
 * ```
 */
export function gemmStepwise<D extends Float32Array | WasmBuffer>(
  a: Float32Array | WasmBuffer,
  b: Float32Array | WasmBuffer,
  c: D,
  m: number,
  n: number,
  k: number,
  layout: GemmLayout,
  offsets: readonly number[] | Uint32Array,
): D {
  const fn = "gemmStepwise";
  checkOperand(fn, "a", a, [Float32Array]);
  checkOperand(fn, "b", b, [Float32Array]);
  checkOperand(fn, "c", c, [Float32Array]);
  const { aRowStride: ars, aColStride: acs, bRowStride: brs } = layout;
  const batches = offsets.length >>> 1;
  checkU32s(fn, { m, n, k, aRowStride: ars, aColStride: acs, bRowStride: brs });
  if (offsets.length % 2) throw new RangeError(`${fn}: offsets must hold two numbers per batch, got ${offsets.length}`);
  checkCount(fn, "c", c, batches * m * n, 4);
  if (m === 0 || n === 0 || batches === 0) return c;
  const aNeed = k === 0 ? 0 : (m - 1) * ars + (k - 1) * acs + 1, bNeed = k === 0 ? 0 : (k - 1) * brs + n;
  if (brs < n && k > 1) throw new RangeError(`${fn}: bRowStride ${brs} is less than n ${n}`);
  for (let q = 0; q < batches; q++) {
    const ao = offsets[2 * q], bo = offsets[2 * q + 1];
    if (!Number.isSafeInteger(ao) || ao < 0 || !Number.isSafeInteger(bo) || bo < 0) {
      throw new RangeError(`${fn}: batch ${q} has offsets ${ao}, ${bo}; they must be non-negative integers`);
    }
    if (count(a) < ao + aNeed) {
      throw new RangeError(`${fn}: a is too small for batch ${q} (needs ${ao + aNeed} elements)`);
    }
    if (count(b) < bo + bNeed) {
      throw new RangeError(`${fn}: b is too small for batch ${q} (needs ${bo + bNeed} elements)`);
    }
  }
  if (k === 0) {
    (c instanceof WasmBuffer ? c.f32() : c).fill(0);
    return c;
  }
  callKernel(
    fn,
    [{ name: "a", value: a, bytes: 4 * count(a) }, { name: "b", value: b, bytes: 4 * count(b) }],
    [{ name: "c", value: c, bytes: 4 * batches * m * n }],
    [ars, acs, brs, m, n, k, batches, ...offsets],
    ([pa, pb], [pc], pp) => kernelExports().gemm_stepwise_f32(pa, pb, pc, pp),
  );
  return c;
}
