/**
 * The convolution family of the graph runner: GEMM (MatMul, Gemm), Conv (1x1 and im2col on
 * the WASM GEMM for float32 above a small size), ConvTranspose (W^T X + col2im, or the
 * fused kernel with its activation) and pooling. Element-wise, softmax, reduce and layout
 * loops are in numeric.ts.
 *
 * @example
 * ```ts
 * import { gemm } from "./numeric_nn.ts";
 * const a = new Float32Array([1, 2, 3, 4]), b = new Float32Array([1, 0, 0, 1]), c = new Float32Array(4);
 * gemm(a, 0, 2, 1, b, 0, 2, 1, c, 0, 2, 2, 2, false); // c = a b, row-major 2x2
 * ```
 * @module
 */
import { allocate, gemm as kGemm, gemmDot as kGemmDot, im2col as kIm2col, type WasmBuffer } from "../kernels/mod.ts";
import { type Activation, convTranspose as kConvTranspose, type ConvTransposeGeometry } from "../kernels/fused.ts";
import type { NumArray } from "./numeric.ts";

/**
 * Products `m * n * k` from which {@link gemm} runs on the WASM gemm kernel (float32
 * multiply, then add); smaller ones run the JavaScript loop (exact product, sum rounded to
 * the output's type at every step). @example `m * n * k >= GEMM_KERNEL_MIN`
 */
export const GEMM_KERNEL_MIN = 32768;

/**
 * Products `m * n * k` from which {@link gemm} with B read by columns (`bRowStride` 1, the
 * Gemm of a `transB` weight) runs its dot products on the WASM kernel (`gemmDot`: the same
 * f64 sums in the same order, same bits) instead of the JavaScript loop.
 * @example `m * n * k >= GEMM_DOT_KERNEL_MIN`
 */
export const GEMM_DOT_KERNEL_MIN = 4096;

/**
 * C[m,n] (+)= A[m,k] B[k,n] with element strides, so transposes need no copy.
 * `accumulate` false overwrites C. @example `gemm(a, 0, k, 1, b, 0, n, 1, c, 0, m, n, k, false)`
 */
export function gemm(
  a: NumArray,
  ao: number,
  ars: number,
  acs: number,
  b: NumArray,
  bo: number,
  brs: number,
  bcs: number,
  c: NumArray,
  co: number,
  m: number,
  n: number,
  k: number,
  accumulate: boolean,
): void {
  if (
    bcs === 1 && k > 0 && m * n * k >= GEMM_KERNEL_MIN && a instanceof Float32Array && b instanceof Float32Array &&
    c instanceof Float32Array
  ) {
    const aEnd = ao + (m - 1) * ars + (k - 1) * acs + 1, bEnd = bo + (k - 1) * brs + n;
    kGemm(a.subarray(ao, aEnd), b.subarray(bo, bEnd), c.subarray(co, co + m * n), m, n, k, {
      aRowStride: ars,
      aColStride: acs,
      bRowStride: brs,
    }, accumulate);
    return;
  }
  if (!accumulate) { for (let i = 0; i < m * n; i++) c[co + i] = 0; }
  if (bcs === 1) {
    // i-k-j order: streams rows of B and C
    for (let i = 0; i < m; i++) {
      const crow = co + i * n;
      for (let p = 0; p < k; p++) {
        const av = a[ao + i * ars + p * acs];
        if (av === 0) continue;
        const brow = bo + p * brs;
        for (let j = 0; j < n; j++) c[crow + j] += av * b[brow + j];
      }
    }
  } else if (
    brs === 1 && k > 0 && m * n * k >= GEMM_DOT_KERNEL_MIN && a instanceof Float32Array &&
    b instanceof Float32Array && c instanceof Float32Array
  ) {
    // the loop below on the kernel: f64 sums in order of p, C += f32 of each
    const aEnd = ao + (m - 1) * ars + (k - 1) * acs + 1, bEnd = bo + (n - 1) * bcs + k;
    kGemmDot(a.subarray(ao, aEnd), b.subarray(bo, bEnd), c.subarray(co, co + m * n), m, n, k, {
      aRowStride: ars,
      aColStride: acs,
      bColStride: bcs,
    }, true);
  } else {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ao + i * ars + p * acs] * b[bo + p * brs + j * bcs];
        c[co + i * n + j] += s;
      }
    }
  }
}

/**
 * The sliding window of a convolution or pooling over the spatial axes (any rank): the
 * output's spatial sizes, the window's, and per axis its stride, dilation and the pads
 * (begins, then ends). @example `const w: Window = { outSp: [2], kSp: [3], strides: [1], pads: [0, 0], dilations: [1] }`
 */
export interface Window {
  outSp: number[];
  kSp: number[];
  strides: number[];
  pads: number[];
  dilations: number[];
}

/** Parameters of an N-D (N = 1, 2 or 3 via 2-D/3-D loops) convolution in NCHW layout. @example `const p: ConvParams = {...}` */
export interface ConvParams extends Window {
  n: number;
  c: number;
  m: number;
  group: number;
  inSp: number[];
}

/**
 * Direct convolution, NCHW, any spatial rank (flattened odometer), groups, pads,
 * strides, dilations. 1x1 kernels with no pad/stride take a GEMM fast path.
 * @example `conv(x, w, bias, y, params)`
 */
export function conv(x: NumArray, w: NumArray, bias: NumArray | null, y: NumArray, p: ConvParams): void {
  const r = p.inSp.length, cg = p.c / p.group, mg = p.m / p.group;
  let inSize = 1, outSize = 1, kSize = 1;
  for (let i = 0; i < r; i++) {
    inSize *= p.inSp[i];
    outSize *= p.outSp[i];
    kSize *= p.kSp[i];
  }
  const oneByOne = kSize === 1 && p.strides.every((s) => s === 1) && p.pads.every((q) => q === 0);
  for (let b = 0; b < p.n; b++) {
    for (let g = 0; g < p.group; g++) {
      const xo = (b * p.c + g * cg) * inSize, yo = (b * p.m + g * mg) * outSize, wo = g * mg * cg * kSize;
      if (oneByOne) {
        gemm(w, wo, cg, 1, x, xo, inSize, 1, y, yo, mg, outSize, cg, false);
      } else {
        convGroup(x, xo, w, wo, y, yo, cg, mg, kSize, inSize, outSize, p);
      }
      if (bias) {
        for (let oc = 0; oc < mg; oc++) {
          const bv = bias[g * mg + oc], base = yo + oc * outSize;
          for (let i = 0; i < outSize; i++) y[base + i] += bv;
        }
      }
    }
  }
}

function convGroup(
  x: NumArray,
  xo: number,
  w: NumArray,
  wo: number,
  y: NumArray,
  yo: number,
  cg: number,
  mg: number,
  kSize: number,
  inSize: number,
  outSize: number,
  p: ConvParams,
): void {
  const r = p.inSp.length;
  // precompute, per output position and kernel offset, the input offset or -1 (padding)
  const offs = new Int32Array(outSize * kSize);
  const oi = new Array<number>(r).fill(0), ki = new Array<number>(r).fill(0);
  for (let o = 0; o < outSize; o++) {
    ki.fill(0);
    for (let kk = 0; kk < kSize; kk++) {
      let off = 0, ok = true;
      for (let d = 0; d < r; d++) {
        const pos = oi[d] * p.strides[d] - p.pads[d] + ki[d] * p.dilations[d];
        if (pos < 0 || pos >= p.inSp[d]) {
          ok = false;
          break;
        }
        off = off * p.inSp[d] + pos;
      }
      offs[o * kSize + kk] = ok ? off : -1;
      for (let d = r - 1; d >= 0; d--) {
        if (++ki[d] < p.kSp[d]) break;
        ki[d] = 0;
      }
    }
    for (let d = r - 1; d >= 0; d--) {
      if (++oi[d] < p.outSp[d]) break;
      oi[d] = 0;
    }
  }
  if (
    x instanceof Float32Array && w instanceof Float32Array && y instanceof Float32Array &&
    mg * cg * kSize * outSize >= 32768
  ) {
    return convGroupGemm(x, xo, w, wo, y, yo, cg, mg, kSize, inSize, outSize, offs);
  }
  for (let oc = 0; oc < mg; oc++) {
    const ybase = yo + oc * outSize;
    for (let o = 0; o < outSize; o++) y[ybase + o] = 0;
    for (let ic = 0; ic < cg; ic++) {
      const xbase = xo + ic * inSize, wbase = wo + (oc * cg + ic) * kSize;
      for (let o = 0; o < outSize; o++) {
        let s = 0;
        const ob = o * kSize;
        for (let kk = 0; kk < kSize; kk++) {
          const off = offs[ob + kk];
          if (off >= 0) s += x[xbase + off] * w[wbase + kk];
        }
        y[ybase + o] += s;
      }
    }
  }
}

/** Spatial geometry of a 2-D transposed convolution: the spatial part of {@link ConvParams}. @example `const s: Spatial2d = { inSp: [2, 2], outSp: [4, 4], kSp: [2, 2], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0] }` */
export type Spatial2d = Pick<ConvParams, "inSp" | "outSp" | "kSp" | "strides" | "dilations" | "pads">;

/**
 * 2-D transposed convolution (NCHW, groups, strides, dilations, pads): for each input
 * channel, output channel and kernel tap, the valid input rows and columns are computed
 * once and the inner loop runs over a contiguous input row (`y` is zero-filled first).
 * Float32 tensors take the WASM kernel: per group, `W^T X` gives every (output channel,
 * tap) row at once, then the rows are added into place (col2im), or, when stride =
 * kernel, each output is written once from registers (same sums, same order).
 * @example `convTranspose2d(x, w, null, y, 1, 1, 1, 1, { inSp: [2, 2], outSp: [4, 4], kSp: [2, 2], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0] })`
 */
export function convTranspose2d(
  x: NumArray,
  w: NumArray,
  bias: NumArray | null,
  y: NumArray,
  n: number,
  c: number,
  m: number,
  group: number,
  s: Spatial2d,
): void {
  const [ih, iw] = s.inSp, [oh, ow] = s.outSp, [kh, kw] = s.kSp, [sh, sw] = s.strides, [dh, dw] = s.dilations;
  const pt = s.pads[0], pl = s.pads[1];
  const cg = c / group, mg = m / group, inSize = ih * iw, outSize = oh * ow, kSize = kh * kw;
  // valid input ranges per kernel tap: pos = i * stride + k * dil - pad in [0, out)
  const lo = (k: number, st: number, d: number, p: number) => Math.max(0, Math.ceil((p - k * d) / st));
  const hi = (k: number, st: number, d: number, p: number, o: number, inn: number) =>
    Math.min(inn, Math.floor((o - 1 + p - k * d) / st) + 1);
  if (y instanceof Float32Array && convTransposeOnKernel(x, w, c, m, group, kSize, inSize)) {
    return convTranspose2dKernel(x as Float32Array, w as Float32Array, bias, y as Float32Array, n, c, m, group, s);
  }
  y.fill(0);
  const vectorRow = sw === 1;
  const pairRow = kw === 2 && sw === 2 && dw === 1 && pl === 0 && s.pads[3] === 0 && ow === 2 * iw;
  for (let bi = 0; bi < n; bi++) {
    for (let g = 0; g < group; g++) {
      for (let oc = 0; oc < mg; oc++) {
        const yb = (bi * m + g * mg + oc) * outSize;
        let ic = 0;
        if (pairRow) {
          // two input channels per pass: half the read-modify-writes of the output plane
          for (; ic + 1 < cg; ic += 2) {
            const xa = (bi * c + g * cg + ic) * inSize, xc = xa + inSize;
            const wa = ((g * cg + ic) * mg + oc) * kSize, wc = wa + mg * kSize;
            for (let a = 0; a < kh; a++) {
              const r0 = lo(a, sh, dh, pt), r1 = hi(a, sh, dh, pt, oh, ih);
              const a0 = w[wa + a * 2], a1 = w[wa + a * 2 + 1], c0 = w[wc + a * 2], c1 = w[wc + a * 2 + 1];
              for (let i = r0; i < r1; i++) {
                const ra = xa + i * iw, rc = xc + i * iw, yr = yb + (i * sh + a * dh - pt) * ow;
                for (let j = 0; j < iw; j++) {
                  const u = x[ra + j], v = x[rc + j], o = yr + 2 * j;
                  y[o] += a0 * u + c0 * v;
                  y[o + 1] += a1 * u + c1 * v;
                }
              }
            }
          }
        }
        for (; ic < cg; ic++) {
          const xb = (bi * c + g * cg + ic) * inSize, wb = ((g * cg + ic) * mg + oc) * kSize;
          for (let a = 0; a < kh; a++) {
            const r0 = lo(a, sh, dh, pt), r1 = hi(a, sh, dh, pt, oh, ih);
            if (pairRow) {
              // kernel width 2, stride 2, no column padding: both taps in one pass over the row
              const w0 = w[wb + a * 2], w1 = w[wb + a * 2 + 1];
              for (let i = r0; i < r1; i++) {
                const xr = xb + i * iw, yr = yb + (i * sh + a * dh - pt) * ow;
                for (let j = 0; j < iw; j++) {
                  const xv = x[xr + j], o = yr + 2 * j;
                  y[o] += w0 * xv;
                  y[o + 1] += w1 * xv;
                }
              }
              continue;
            }
            for (let e = 0; e < kw; e++) {
              const wv = w[wb + a * kw + e];
              if (wv === 0) continue;
              const c0 = lo(e, sw, dw, pl), c1 = hi(e, sw, dw, pl, ow, iw);
              if (c1 <= c0) continue;
              for (let i = r0; i < r1; i++) {
                const xr = xb + i * iw, yr = yb + (i * sh + a * dh - pt) * ow + e * dw - pl;
                if (vectorRow) { for (let j = c0; j < c1; j++) y[yr + j] += wv * x[xr + j]; }
                else for (let j = c0; j < c1; j++) y[yr + j * sw] += wv * x[xr + j];
              }
            }
          }
        }
        if (bias) {
          const bv = bias[g * mg + oc];
          if (bv !== 0) { for (let i = 0; i < outSize; i++) y[yb + i] += bv; }
        }
      }
    }
  }
}

const wasmScratch: (WasmBuffer | undefined)[] = [];

/** Float32 scratch block `slot` of the kernels' memory with room for `n` floats (kept for reuse). */
function scratchF32(slot: number, n: number): WasmBuffer {
  let b = wasmScratch[slot];
  if (!b || b.byteLength < 4 * n) {
    b?.free();
    b = wasmScratch[slot] = allocate(Math.max(4 * n, 65536));
  }
  return b;
}

/**
 * Whether {@link convTranspose2d} takes the WASM kernel for these operands (float32 and big
 * enough that the call pays; smaller ones keep the TypeScript loop and its sums' order).
 * @example `convTransposeOnKernel(x, w, 24, 24, 1, 4, 12800)`
 */
export function convTransposeOnKernel(
  x: NumArray,
  w: NumArray,
  c: number,
  m: number,
  group: number,
  kSize: number,
  inSize: number,
): boolean {
  return x instanceof Float32Array && w instanceof Float32Array &&
    (c / group) * (m / group) * kSize * inSize >= 4096;
}

/**
 * The kernel path of {@link convTranspose2d} with a fused activation after the bias
 * (kernels/fused.ts: tiles when stride = kernel, else GEMM + col2im, all in WASM). The
 * caller checks {@link convTransposeOnKernel}; `y` need not be zeroed.
 * @example `convTranspose2dKernel(x, w, b, y, 1, 24, 24, 1, s, { kind: "relu" })`
 */
export function convTranspose2dKernel(
  x: Float32Array | WasmBuffer,
  w: Float32Array,
  bias: NumArray | null,
  y: Float32Array | WasmBuffer,
  n: number,
  c: number,
  m: number,
  group: number,
  s: Spatial2d,
  act: Activation = { kind: "none" },
): void {
  const b = bias === null ? null : bias instanceof Float32Array ? bias : Float32Array.from(bias as ArrayLike<number>);
  kConvTranspose(x, w, b, y, kernelGeometry({ n, c, m, group, ...s }), act);
}

/**
 * A 2-D {@link ConvParams} as the kernels' ConvTranspose geometry (begin pads only).
 * @example `kernelGeometry({ n: 1, c: 1, m: 1, group: 1, inSp: [1, 1], outSp: [2, 2], kSp: [2, 2], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0] })`
 */
export function kernelGeometry(p: ConvParams): ConvTransposeGeometry {
  return {
    n: p.n,
    c: p.c,
    m: p.m,
    group: p.group,
    inSp: [p.inSp[0], p.inSp[1]],
    outSp: [p.outSp[0], p.outSp[1]],
    kSp: [p.kSp[0], p.kSp[1]],
    strides: [p.strides[0], p.strides[1]],
    dil: [p.dilations[0], p.dilations[1]],
    pads: [p.pads[0], p.pads[1]],
  };
}

/**
 * Convolution of one group as GEMM on the kernels: the group's input copied into the
 * kernels' memory, im2col of a block of output positions there (kernels `im2col`;
 * `offs[o * kSize + kk]` is the input offset or -1 for padding),
 * `W[mg, cg * kSize] x col`, then the block's rows are copied into `y`.
 */
function convGroupGemm(
  x: Float32Array,
  xo: number,
  w: Float32Array,
  wo: number,
  y: Float32Array,
  yo: number,
  cg: number,
  mg: number,
  kSize: number,
  inSize: number,
  outSize: number,
  offs: Int32Array,
): void {
  const kRows = cg * kSize;
  const N = Math.min(outSize, Math.max(8, Math.floor((1 << 20) / kRows) & ~7));
  const colB = scratchF32(1, kRows * N), outB = scratchF32(2, mg * N), xB = scratchF32(3, cg * inSize);
  xB.f32().set(x.subarray(xo, xo + cg * inSize)); // the group's input, in the kernels' memory once
  const a = w.subarray(wo, wo + mg * kRows);
  for (let o0 = 0; o0 < outSize; o0 += N) {
    const wd = Math.min(N, outSize - o0);
    kIm2col(xB, inSize, cg, offs, kSize, o0, wd, colB);
    const col = colB.f32();
    kGemm(a, col.subarray(0, kRows * wd), outB.f32().subarray(0, mg * wd), mg, wd, kRows, {
      aRowStride: kRows,
      aColStride: 1,
      bRowStride: wd,
    });
    const t = outB.f32(); // re-taken: the call may have grown the memory
    for (let oc = 0; oc < mg; oc++) y.set(t.subarray(oc * wd, oc * wd + wd), yo + oc * outSize + o0);
  }
}

/** Max/Average pooling parameters (NCHW, any spatial rank). @example `const p: PoolParams = {...}` */
export interface PoolParams extends Window {
  nc: number;
  inSp: number[];
  countIncludePad: boolean;
}

/** Max (`max` true) or average pooling. @example `pool(x, y, p, true)` */
export function pool(x: NumArray, y: NumArray, p: PoolParams, max: boolean): void {
  const r = p.inSp.length;
  let inSize = 1, outSize = 1, kSize = 1;
  for (let i = 0; i < r; i++) {
    inSize *= p.inSp[i];
    outSize *= p.outSp[i];
    kSize *= p.kSp[i];
  }
  const offs = new Int32Array(outSize * kSize), padCount = new Int32Array(outSize);
  const oi = new Array<number>(r).fill(0), ki = new Array<number>(r).fill(0);
  for (let o = 0; o < outSize; o++) {
    ki.fill(0);
    let inPadded = 0;
    for (let kk = 0; kk < kSize; kk++) {
      let off = 0, ok = true, inPad = true;
      for (let d = 0; d < r; d++) {
        const pos = oi[d] * p.strides[d] - p.pads[d] + ki[d] * p.dilations[d];
        if (pos >= p.inSp[d] + p.pads[r + d]) inPad = false;
        if (pos < 0 || pos >= p.inSp[d]) {
          ok = false;
          if (pos < -p.pads[d]) inPad = false;
        }
        off = off * p.inSp[d] + pos;
      }
      offs[o * kSize + kk] = ok ? off : -1;
      if (ok || inPad) inPadded++;
      for (let d = r - 1; d >= 0; d--) {
        if (++ki[d] < p.kSp[d]) break;
        ki[d] = 0;
      }
    }
    padCount[o] = inPadded;
    for (let d = r - 1; d >= 0; d--) {
      if (++oi[d] < p.outSp[d]) break;
      oi[d] = 0;
    }
  }
  for (let c = 0; c < p.nc; c++) {
    const xb = c * inSize, yb = c * outSize;
    for (let o = 0; o < outSize; o++) {
      let acc = max ? -Infinity : 0, cnt = 0;
      for (let kk = 0; kk < kSize; kk++) {
        const off = offs[o * kSize + kk];
        if (off < 0) continue;
        const v = x[xb + off];
        if (max) { if (v > acc) acc = v; }
        else acc += v;
        cnt++;
      }
      y[yb + o] = max ? acc : acc / (p.countIncludePad ? padCount[o] : cnt);
    }
  }
}
