/**
 * Any permutation of the axes of a float32 tensor (ONNX Transpose) on the WASM kernels
 * (kernels/src/permute.rs): tiles with 4x4 SIMD blocks when the input's last axis moves,
 * row copies when it stays last. Values are copied as bits.
 *
 * @module
 */
import { WasmBuffer } from "./arena.ts";
import { callKernel, checkCount, checkOperand, isU32 } from "./call.ts";
import { kernelExports } from "./wasm.ts";

/** Most axes {@link permute} takes after dropping axes of size 1 and merging neighbours. */
export const PERMUTE_MAX_RANK = 6;

/**
 * The output shape and the input's element stride per output axis of `perm` over `shape`,
 * with axes of size 1 dropped and output axes merged where they stay adjacent in the
 * input (the form the kernel takes).
 *
 * @example
 * ```ts
 * import { permuteForm } from "./permute.ts";
 * console.log(permuteForm([1, 6, 4, 16], [0, 3, 2, 1])); // { shape: [16, 4, 6], strides: [1, 16, 64] }
 * ```
 */
export function permuteForm(shape: readonly number[], perm: readonly number[]): { shape: number[]; strides: number[] } {
  const inStr: number[] = new Array(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    inStr[d] = s;
    s *= shape[d];
  }
  const outShape: number[] = [], strides: number[] = [];
  for (const p of perm) {
    const n = shape[p];
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides[last] === inStr[p] * n) {
      outShape[last] *= n;
      strides[last] = inStr[p];
    } else {
      outShape.push(n);
      strides.push(inStr[p]);
    }
  }
  if (outShape.length === 0) return { shape: [1], strides: [1] };
  return { shape: outShape, strides };
}

/**
 * `dst = transpose(src, perm)` for a float32 tensor of `shape` (numpy's `transpose`: output
 * axis `i` is input axis `perm[i]`). `dst` has the permuted shape; no overlap with `src`.
 *
 * @throws {RangeError} when `perm` is not a permutation of the axes, or more than
 *   {@link PERMUTE_MAX_RANK} axes remain after dropping sizes 1 and merging.
 * @example
 * ```ts
 * import { permute } from "./permute.ts";
 * console.log(permute(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0], new Float32Array(6)));
 * // Float32Array [1, 4, 2, 5, 3, 6]
 * ```
 */
export function permute<D extends Float32Array | WasmBuffer>(
  src: Float32Array | WasmBuffer,
  shape: readonly number[],
  perm: readonly number[],
  dst: D,
): D {
  const fn = "permute";
  const r = shape.length;
  if (
    perm.length !== r || new Set(perm).size !== r || perm.some((p) => !Number.isInteger(p) || p < 0 || p >= r) ||
    shape.some((d) => !Number.isSafeInteger(d) || d < 0)
  ) {
    throw new RangeError(`permute: perm [${perm}] is not a permutation of the axes of shape [${shape}]`);
  }
  const n = shape.reduce((a, b) => a * b, 1);
  checkOperand(fn, "src", src, [Float32Array]);
  checkOperand(fn, "dst", dst, [Float32Array]);
  checkCount(fn, "src", src, n, 4);
  checkCount(fn, "dst", dst, n, 4);
  if (n === 0) return dst;
  const form = permuteForm(shape, perm);
  const k = form.shape.length;
  if (k > PERMUTE_MAX_RANK) {
    throw new RangeError(`permute: ${k} axes after merging; at most ${PERMUTE_MAX_RANK} are supported`);
  }
  const params = new Array(1 + 2 * PERMUTE_MAX_RANK).fill(0);
  params[0] = k;
  form.shape.forEach((d, i) => (params[1 + i] = d));
  form.strides.forEach((s, i) => (params[1 + k + i] = s));
  callKernel(
    fn,
    [{ name: "src", value: src, bytes: 4 * n }],
    [{ name: "dst", value: dst, bytes: 4 * n }],
    params,
    ([s], [d], p) => kernelExports().permute_x32(s, d, p),
  );
  return dst;
}

/**
 * A 1x1 convolution of a permuted input, read through the permutation (no transposed
 * copy; kernels/src/permute.rs): `dst[o, q] = sum over ch of w[o * c + ch] * src[base(q) + ch]`
 * for `o < m` and every pixel `q` of `pixels` (row-major: the output's order), `base(q)` the
 * dot product of the pixel's index with `strides`. The channels of a pixel are contiguous
 * in `src`. The sums are the gemm kernel's (from +0, float32 multiply then add, in order of
 * the channels): the bits of the permutation followed by the 1x1 Conv on the kernels.
 *
 * @throws {RangeError} on sizes that do not fit.
 * @example
 * ```ts
 * import { conv1x1Permuted } from "./permute.ts";
 * // x [3 pixels, 2 channels], w [1, 2]: y[q] = 1 * x[q, 0] + 10 * x[q, 1]
 * const y = conv1x1Permuted(new Float32Array([1, 2, 3, 4, 5, 6]), new Float32Array([1, 10]), new Float32Array(3), 1, 2, [3], [2]);
 * console.log(y); // Float32Array [21, 43, 65]
 * ```
 */
export function conv1x1Permuted<D extends Float32Array | WasmBuffer>(
  src: Float32Array | WasmBuffer,
  w: Float32Array,
  dst: D,
  m: number,
  c: number,
  pixels: readonly number[],
  strides: readonly number[],
): D {
  const fn = "conv1x1Permuted";
  const rank = pixels.length;
  if (
    rank === 0 || rank > PERMUTE_MAX_RANK || strides.length !== rank ||
    ![m, c, ...pixels, ...strides].every(isU32)
  ) {
    throw new RangeError(`${fn}: pixels [${pixels}] and strides [${strides}] must be 1 to 6 u32 each`);
  }
  checkOperand(fn, "src", src, [Float32Array]);
  checkOperand(fn, "w", w, [Float32Array]);
  checkOperand(fn, "dst", dst, [Float32Array]);
  const n = pixels.reduce((a, b) => a * b, 1);
  checkCount(fn, "w", w, m * c, 4);
  checkCount(fn, "dst", dst, m * n, 4);
  if (m * n === 0) return dst;
  const need = pixels.reduce((a, d, i) => a + (d - 1) * strides[i], 0) + c;
  const have = src instanceof WasmBuffer ? src.byteLength >>> 2 : src.length;
  if (have < need) throw new RangeError(`${fn}: src must have at least ${need} elements, got ${have}`);
  const params = new Array(3 + 2 * PERMUTE_MAX_RANK).fill(0);
  [params[0], params[1], params[2]] = [m, c, rank];
  pixels.forEach((d, i) => (params[3 + i] = d));
  strides.forEach((s, i) => (params[3 + rank + i] = s));
  callKernel(
    fn,
    [{ name: "src", value: src, bytes: 4 * have }, { name: "w", value: w, bytes: 4 * m * c }],
    [{ name: "dst", value: dst, bytes: 4 * m * n }],
    params,
    ([s, pw], [d], p) => kernelExports().conv1x1_permuted_f32(s, pw, d, p),
  );
  return dst;
}
