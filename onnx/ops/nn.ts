/**
 * Neural-network ops: Softmax, LogSoftmax, MatMul, Gemm, Conv, MaxPool, AveragePool,
 * GlobalAveragePool, GlobalMaxPool, BatchNormalization, Resize.
 *
 * @example
 * ```ts
 * import { nnOps } from "./nn.ts";
 * const softmax = nnOps.Softmax;
 * ```
 * @module
 */
import { broadcastShape, broadcastTo, K_MIN, type NumArray, softmaxInner, softmaxOnKernel } from "../numeric.ts";
import { conv, gemm, GEMM_DOT_KERNEL_MIN, GEMM_KERNEL_MIN, pool, type Window } from "../numeric_nn.ts";
import { allocate, gemm as kGemm, gemmDot as kGemmDot, gemmStepwise, PackedMatrix } from "../../kernels/mod.ts";
import { chain as kChain } from "../../kernels/fused.ts";
import type { WasmBuffer } from "../../kernels/arena.ts";
import { sizeOf, type Tensor } from "../tensor.ts";
import {
  attrFloat,
  attrInt,
  attrInts,
  type Attrs,
  attrString,
  fresh,
  ints,
  need,
  normAxis,
  type OpContext,
  type OpImpl,
  shapeError,
  unsupported,
} from "./types.ts";
import type { NodeProto } from "../model.ts";
import type { KernelStage } from "./fused.ts";

const packedConstants = new WeakMap<Float32Array, PackedMatrix>();
const releasePacked = new FinalizationRegistry<PackedMatrix>((p) => p.free());

/**
 * The constant matrix `data` (`k` rows of `n`) packed for the gemm kernel in the kernels'
 * memory, made once and kept while `data` lives (a graph's weights: products with them then
 * copy and pack nothing on each run; same bits).
 * @example `kGemm(x, packedConstant(w, k, n), y, m, n, k, layout)`
 */
export function packedConstant(data: Float32Array, k: number, n: number): PackedMatrix {
  let p = packedConstants.get(data);
  if (!p || p.freed || p.k !== k || p.n !== n) {
    p = PackedMatrix.pack(data, k, n);
    packedConstants.set(data, p);
    releasePacked.register(data, p);
  }
  return p;
}

const residentConstants = new WeakMap<Float32Array, WasmBuffer>();
const releaseResident = new FinalizationRegistry<WasmBuffer>((b) => b.free());

/**
 * A copy of the constant `data` in the kernels' memory, made once and kept while `data`
 * lives (kernel calls on it then copy nothing in on each run).
 * @example `kGemmDot(x, residentConstant(w), y, m, n, k, layout)`
 */
function residentConstant(data: Float32Array): WasmBuffer {
  let r = residentConstants.get(data);
  if (!r || r.freed) {
    r = allocate(4 * data.length);
    r.f32().set(data);
    residentConstants.set(data, r);
    releaseResident.register(data, r);
  }
  return r;
}

/** Softmax's [outer, axis, inner] view of `x` (opset < 13: everything from `axis` on as one axis). */
function softmaxView(ctx: OpContext, x: Tensor, a: Attrs): [number, number, number] {
  const r = x.shape.length;
  if (ctx.opset < 13) {
    const ax = normAxis(ctx, attrInt(a, "axis", 1), r);
    return [sizeOf(x.shape.slice(0, ax)), sizeOf(x.shape.slice(ax)), 1];
  }
  const ax = normAxis(ctx, attrInt(a, "axis", -1), r);
  return [sizeOf(x.shape.slice(0, ax)), x.shape[ax], sizeOf(x.shape.slice(ax + 1))];
}

/** Softmax / LogSoftmax; a kernel stage (joins pipelines) where it runs on the kernels. */
function softmaxOp(log: boolean): KernelStage {
  return {
    joins: () => !log, // LogSoftmax has no kernel
    plan(ctx, ins, a) {
      const x = need(ctx, ins[0], 0);
      if (log || x.dtype !== "float32" || sizeOf(x.shape) < K_MIN) return undefined;
      const [outer, axis, inner] = softmaxView(ctx, x, a);
      return {
        shape: [...x.shape],
        exec: (s, d) => softmaxOnKernel(s, d, outer, axis, inner),
        softmax: inner === 1 ? { rows: outer, cols: axis } : undefined,
      };
    },
    run(ctx, ins, a) {
      const x = need(ctx, ins[0], 0);
      const out = ctx.alloc(x.dtype, x.shape);
      if (x.data.length === 0) return [out];
      const [outer, axis, inner] = softmaxView(ctx, x, a);
      softmaxInner(x.data as NumArray, out.data as NumArray, outer, axis, inner, log);
      return [out];
    },
  };
}

/** Batched products (multiply-accumulates in all) from which MatMul calls the kernel. */
const STEPWISE_MIN = 2048;

/**
 * MatMul; a kernel stage (joins pipelines) where `B` is a constant float32 matrix: then
 * every batch of `A` (float32, rank >= 2) is a block of rows of one gemm on the kernels,
 * with `B` packed once in the kernels' memory ({@link packedConstant}), when each batch's
 * product is big enough that {@link gemm} takes the kernel too (so the sums are the same).
 */
const matmul: KernelStage = {
  joins(_a, node, constants) {
    const b = constants.get(node.inputs[1]);
    return !!b && b.dtype === "float32" && b.shape.length === 2;
  },
  plan(ctx, ins) {
    const a = need(ctx, ins[0], 0), b = need(ctx, ins[1], 1);
    if (a.dtype !== "float32" || !(b.data instanceof Float32Array) || b.shape.length !== 2 || a.shape.length < 2) {
      return undefined;
    }
    const m = a.shape[a.shape.length - 2], k = a.shape[a.shape.length - 1], [k2, n] = b.shape;
    if (k2 !== k || k === 0 || m * n * k < GEMM_KERNEL_MIN) return undefined;
    const rows = sizeOf(a.shape.slice(0, -1)), bd = packedConstant(b.data, k, n);
    return {
      shape: [...a.shape.slice(0, -1), n],
      exec: (src, dst) => {
        kGemm(src, bd, dst, rows, n, k, { aRowStride: k, aColStride: 1, bRowStride: n });
      },
    };
  },
  run(ctx, ins) {
    const a = need(ctx, ins[0], 0), b = need(ctx, ins[1], 1);
    const as = a.shape.length === 1 ? [1, a.shape[0]] : a.shape, bs = b.shape.length === 1 ? [b.shape[0], 1] : b.shape;
    const m = as[as.length - 2], k = as[as.length - 1], n = bs[bs.length - 1];
    if (bs[bs.length - 2] !== k) shapeError(ctx, `shapes [${a.shape}] and [${b.shape}] do not multiply`);
    const batch = broadcastShape(as.slice(0, -2), bs.slice(0, -2));
    if (!batch) shapeError(ctx, `batch dims of [${a.shape}] and [${b.shape}] do not broadcast`);
    const shape = [...batch];
    if (a.shape.length !== 1) shape.push(m);
    if (b.shape.length !== 1) shape.push(n);
    const out = ctx.alloc(a.dtype, shape);
    const nb = sizeOf(batch);
    // batch offsets via broadcasting an index tensor
    const ai = new Int32Array(nb), bi = new Int32Array(nb);
    const aIdx = Int32Array.from({ length: sizeOf(as.slice(0, -2)) }, (_, i) => i);
    const bIdx = Int32Array.from({ length: sizeOf(bs.slice(0, -2)) }, (_, i) => i);
    broadcastTo(ai, batch, aIdx, as.slice(0, -2));
    broadcastTo(bi, batch, bIdx, bs.slice(0, -2));
    const ad = a.data as NumArray, bd = b.data as NumArray, od = out.data as NumArray;
    if (
      m * n * k < GEMM_KERNEL_MIN && nb * m * n * k >= STEPWISE_MIN && ad instanceof Float32Array &&
      bd instanceof Float32Array && od instanceof Float32Array
    ) {
      // small products (attention heads): all batches in one kernel call, the JS loop's sums
      const offsets = new Uint32Array(2 * nb);
      for (let q = 0; q < nb; q++) {
        offsets[2 * q] = ai[q] * m * k;
        offsets[2 * q + 1] = bi[q] * k * n;
      }
      gemmStepwise(ad, bd, od, m, n, k, { aRowStride: k, aColStride: 1, bRowStride: n }, offsets);
      return [out];
    }
    for (let q = 0; q < nb; q++) gemm(ad, ai[q] * m * k, k, 1, bd, bi[q] * k * n, n, 1, od, q * m * n, m, n, k, false);
    return [out];
  },
};

const gemmOp: OpImpl = {
  run(ctx, ins, at) {
    const a = need(ctx, ins[0], 0), b = need(ctx, ins[1], 1), c = ins[2];
    const ta = attrInt(at, "transA", 0), tb = attrInt(at, "transB", 0);
    const alpha = attrFloat(at, "alpha", 1), beta = attrFloat(at, "beta", 1);
    const [m, k] = ta ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const [k2, n] = tb ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
    if (k !== k2) shapeError(ctx, `shapes [${a.shape}] and [${b.shape}] do not multiply`);
    const out = ctx.alloc(a.dtype, [m, n]);
    const od = out.data as NumArray;
    if (
      tb && m * n * k >= GEMM_DOT_KERNEL_MIN && a.data instanceof Float32Array && b.data instanceof Float32Array &&
      od instanceof Float32Array && ctx.isConstant?.(ctx.node.inputs[1])
    ) {
      // a constant B^T (a PyTorch Linear's weight) stays in the kernels' memory across runs;
      // the products are gemm()'s for it (f64 dot products, same bits)
      kGemmDot(a.data, residentConstant(b.data), od, m, n, k, {
        aRowStride: ta ? 1 : k,
        aColStride: ta ? m : 1,
        bColStride: k,
      });
    } else {
      gemm(
        a.data as NumArray,
        0,
        ta ? 1 : k,
        ta ? m : 1,
        b.data as NumArray,
        0,
        tb ? 1 : n,
        tb ? k : 1,
        od,
        0,
        m,
        n,
        k,
        false,
      );
    }
    if (alpha !== 1) { for (let i = 0; i < od.length; i++) od[i] *= alpha; }
    if (c && beta !== 0) {
      const cb = new Float64Array(m * n);
      broadcastTo(cb, [m, n], c.data as NumArray, c.shape);
      for (let i = 0; i < od.length; i++) od[i] += beta * cb[i];
    }
    return [out];
  },
};

function windowOf(ctx: OpContext, a: Attrs, inSp: number[], kSp: number[], ceil: boolean): Window {
  const r = inSp.length;
  const strides = attrInts(a, "strides") ?? new Array(r).fill(1);
  const dilations = attrInts(a, "dilations") ?? new Array(r).fill(1);
  let pads = attrInts(a, "pads") ?? new Array(2 * r).fill(0);
  const autoPad = attrString(a, "auto_pad", "NOTSET");
  const outSp = new Array<number>(r);
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    pads = new Array(2 * r).fill(0);
    for (let d = 0; d < r; d++) {
      outSp[d] = Math.ceil(inSp[d] / strides[d]);
      const total = Math.max(0, (outSp[d] - 1) * strides[d] + (kSp[d] - 1) * dilations[d] + 1 - inSp[d]);
      const small = Math.floor(total / 2);
      pads[d] = autoPad === "SAME_UPPER" ? small : total - small;
      pads[r + d] = total - pads[d];
    }
  } else {
    if (autoPad === "VALID") pads = new Array(2 * r).fill(0);
    for (let d = 0; d < r; d++) {
      const span = inSp[d] + pads[d] + pads[r + d] - dilations[d] * (kSp[d] - 1) - 1;
      let o = (ceil ? Math.ceil(span / strides[d]) : Math.floor(span / strides[d])) + 1;
      if (ceil && (o - 1) * strides[d] >= inSp[d] + pads[d]) o--;
      outSp[d] = o;
      if (o < 0) shapeError(ctx, `window larger than the padded input`);
    }
  }
  return { kSp, strides, pads, dilations, outSp };
}

/**
 * Conv; a kernel stage (joins pipelines) where it is one gemm on the kernels: batch 1, one
 * group, a 1x1 window, strides 1, no padding, float32, and a product big enough for the
 * kernel in {@link conv} (`m * pixels * c >= GEMM_KERNEL_MIN`). The bias is then added as
 * {@link conv} adds it (one float32 add per element, after the sum) by the chain kernel.
 */
const convOp: KernelStage = {
  joins(a, node, constants) {
    const w = constants.get(node.inputs[1]), b = node.inputs[2];
    const ones = (v: number[] | undefined, one: number) => !v || v.every((d) => d === one);
    return !!w && w.shape.slice(2).every((d) => d === 1) && (!b || constants.has(b)) &&
      attrInt(a, "group", 1) === 1 && ones(attrInts(a, "strides"), 1) && ones(attrInts(a, "pads"), 0) &&
      ones(attrInts(a, "kernel_shape"), 1) && ["NOTSET", "VALID"].includes(attrString(a, "auto_pad", "NOTSET"));
  },
  plan(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), w = need(ctx, ins[1], 1), b = ins[2];
    const [n, c, ...inSp] = x.shape;
    const [m, cg, ...kSp0] = w.shape;
    const kSp = attrInts(a, "kernel_shape") ?? kSp0;
    if (
      x.dtype !== "float32" || !(w.data instanceof Float32Array) || (b && !(b.data instanceof Float32Array)) ||
      n !== 1 || attrInt(a, "group", 1) !== 1 || cg !== c || kSp.length !== inSp.length || kSp.some((d) => d !== 1) ||
      kSp0.some((d) => d !== 1) || (b && b.data.length !== m)
    ) {
      return undefined;
    }
    const win = windowOf(ctx, a, inSp, kSp, false);
    const pixels = sizeOf(inSp);
    if (
      win.strides.some((d) => d !== 1) || win.pads.some((d) => d !== 0) || sizeOf(win.outSp) !== pixels ||
      c === 0 || m * pixels * c < GEMM_KERNEL_MIN
    ) {
      return undefined;
    }
    const wd = w.data, bias = b ? b.data as Float32Array : undefined;
    const finish = (dst: Float32Array | WasmBuffer) => {
      if (bias) kChain(dst, dst, pixels, m, [{ op: "add", b: { kind: "channel", values: bias } }]);
    };
    return {
      shape: [1, m, ...win.outSp],
      exec: (src, dst) => {
        kGemm(wd, src, dst, m, pixels, c, { aRowStride: c, aColStride: 1, bRowStride: pixels });
        finish(dst);
      },
      conv1x1: { w: wd, m, c, finish },
    };
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), w = need(ctx, ins[1], 1), b = ins[2];
    const [n, c, ...inSp] = x.shape;
    const [m, cg, ...kSp0] = w.shape;
    const group = attrInt(a, "group", 1);
    const kSp = attrInts(a, "kernel_shape") ?? kSp0;
    if (cg * group !== c) shapeError(ctx, `input has ${c} channels, weights expect ${cg} x ${group} groups`);
    const win = windowOf(ctx, a, inSp, kSp, false);
    const out = ctx.alloc(x.dtype, [n, m, ...win.outSp]);
    conv(x.data as NumArray, w.data as NumArray, b ? b.data as NumArray : null, out.data as NumArray, {
      n,
      c,
      m,
      group,
      inSp,
      ...win,
    });
    return [out];
  },
};

function poolOp(max: boolean): OpImpl {
  return {
    check(a, node) {
      if (node.outputs.length > 1 && node.outputs[1]) unsupported(node, "the Indices output");
      if (a.storage_order && a.storage_order.i) unsupported(node, "attribute storage_order");
    },
    run(ctx, ins, a) {
      const x = need(ctx, ins[0], 0);
      const [n, c, ...inSp] = x.shape;
      const kSp = attrInts(a, "kernel_shape") ?? [];
      const win = windowOf(ctx, a, inSp, kSp, attrInt(a, "ceil_mode", 0) === 1);
      const out = ctx.alloc(x.dtype, [n, c, ...win.outSp]);
      pool(x.data as NumArray, out.data as NumArray, {
        nc: n * c,
        inSp,
        ...win,
        countIncludePad: attrInt(a, "count_include_pad", 0) === 1,
      }, max);
      return [out];
    },
  };
}

function globalPool(max: boolean): OpImpl {
  return {
    run(ctx, ins) {
      const x = need(ctx, ins[0], 0);
      const [n, c, ...sp] = x.shape;
      const out = ctx.alloc(x.dtype, [n, c, ...sp.map(() => 1)]);
      const size = sizeOf(sp), xd = x.data as NumArray, od = out.data as NumArray;
      for (let q = 0; q < n * c; q++) {
        let acc = max ? -Infinity : 0;
        for (let i = 0; i < size; i++) {
          const v = xd[q * size + i];
          if (max) { if (v > acc) acc = v; }
          else acc += v;
        }
        od[q] = max ? acc : acc / size;
      }
      return [out];
    },
  };
}

const batchNorm: OpImpl = {
  check(a, node) {
    if (attrInt(a, "training_mode", 0)) unsupported(node, "training_mode");
    if (node.outputs.filter((o) => o).length > 1) unsupported(node, "training outputs");
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    const [sc, bi, mean, vr] = [1, 2, 3, 4].map((i) => need(ctx, ins[i], i).data as NumArray);
    const eps = attrFloat(a, "epsilon", 1e-5);
    const out = ctx.alloc(x.dtype, x.shape);
    const n = x.shape[0], c = x.shape[1] ?? 1, size = sizeOf(x.shape.slice(2));
    const xd = x.data as NumArray, od = out.data as NumArray;
    const f32 = x.dtype === "float32" ? Math.fround : (v: number) => v;
    const { k, off } = batchNormCoefficients(sc, bi, mean, vr, eps, x.dtype === "float32", c);
    for (let b = 0; b < n; b++) {
      for (let ch = 0; ch < c; ch++) {
        const base = (b * c + ch) * size, kc = k[ch], oc = off[ch];
        for (let i = 0; i < size; i++) od[base + i] = f32(xd[base + i] * kc) + oc;
      }
    }
    return [out];
  },
};

/**
 * The per-channel `y = x * k + off` of BatchNormalization (inference), in onnxruntime's
 * steps: `k = scale * (1 / sqrt(var + eps))`, `off = bias - mean * k`, each operation
 * rounded to float32 when `f32` (a float32 input), for `c` channels.
 * @example `const { k, off } = batchNormCoefficients([2], [1], [0], [1], 0, true, 1); // k [2], off [1]`
 */
export function batchNormCoefficients(
  sc: ArrayLike<number>,
  bi: ArrayLike<number>,
  mean: ArrayLike<number>,
  vr: ArrayLike<number>,
  eps: number,
  f32: boolean,
  c: number,
): { k: Float64Array; off: Float64Array } {
  const r = f32 ? Math.fround : (v: number) => v;
  const k = new Float64Array(c), off = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    k[ch] = r(r(1 / r(Math.sqrt(r(vr[ch] + eps)))) * sc[ch]);
    off[ch] = r(bi[ch] - r(mean[ch] * k[ch]));
  }
  return { k, off };
}

const RESIZE_COORD = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nearest"];

/** Upsample (opsets 7-9, deprecated): Resize with asymmetric coordinates and floor (nearest), scales as attribute (7) or input (9). */
const upsample: OpImpl = {
  check(a, node) {
    const mode = attrString(a, "mode", "nearest");
    if (mode !== "nearest" && mode !== "linear") unsupported(node, `mode '${mode}'`);
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    const scales = ins[1] ?? fresh("float32", [x.shape.length]);
    if (!ins[1]) (scales.data as Float32Array).set(a.scales?.floats ?? []);
    const str = (name: string, v: string) => ({ name, type: 3, s: new TextEncoder().encode(v) });
    const attrs = {
      mode: str("mode", attrString(a, "mode", "nearest")),
      coordinate_transformation_mode: str("coordinate_transformation_mode", "asymmetric"),
      nearest_mode: str("nearest_mode", "floor"),
    };
    return resize.run({ ...ctx, opset: 11 }, [x, undefined, scales], attrs);
  },
};

const resize: OpImpl = {
  check(a, node: NodeProto) {
    const mode = attrString(a, "mode", "nearest");
    if (mode !== "nearest" && mode !== "linear") unsupported(node, `mode '${mode}'`);
    const ct = attrString(a, "coordinate_transformation_mode", "half_pixel");
    if (!RESIZE_COORD.includes(ct)) unsupported(node, `coordinate_transformation_mode '${ct}'`);
    if (attrInt(a, "antialias", 0)) unsupported(node, "antialias");
    if (attrString(a, "keep_aspect_ratio_policy", "stretch") !== "stretch") {
      unsupported(node, "keep_aspect_ratio_policy");
    }
    if (a.axes) unsupported(node, "attribute axes");
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), r = x.shape.length;
    let scales: number[] | undefined, sizes: number[] | undefined;
    if (ctx.opset < 11) scales = Array.from(need(ctx, ins[1], 1).data as NumArray);
    else {
      if (ins[2] && ins[2].data.length) scales = Array.from(ins[2].data as NumArray);
      if (ins[3] && ins[3].data.length) sizes = ints(ins[3]);
    }
    if (!scales && !sizes) shapeError(ctx, "needs scales or sizes");
    const outShape = sizes ?? x.shape.map((d, i) => Math.floor(d * scales![i]));
    if (!scales) scales = outShape.map((o, i) => o / x.shape[i]);
    if (outShape.length !== r) shapeError(ctx, `scales/sizes have ${outShape.length} entries for rank ${r}`);
    const mode = attrString(a, "mode", "nearest");
    const ct = ctx.opset < 11 ? "asymmetric" : attrString(a, "coordinate_transformation_mode", "half_pixel");
    const nm = ctx.opset < 11 ? "round_prefer_floor" : attrString(a, "nearest_mode", "round_prefer_floor");
    let cur: Tensor = x;
    for (let d = 0; d < r; d++) {
      if (outShape[d] === cur.shape[d] && scales[d] === 1) continue;
      const shape = [...cur.shape];
      shape[d] = outShape[d];
      const next = ctx.alloc(x.dtype, shape);
      resizeAxis(
        cur.data as NumArray,
        next.data as NumArray,
        sizeOf(cur.shape.slice(0, d)),
        cur.shape[d],
        outShape[d],
        sizeOf(cur.shape.slice(d + 1)),
        scales[d],
        mode,
        ct,
        nm,
      );
      cur = next;
    }
    if (cur === x) {
      const out = ctx.alloc(x.dtype, [...x.shape]);
      (out.data as NumArray).set(x.data as NumArray);
      cur = out;
    }
    return [cur];
  },
};

function resizeAxis(
  x: NumArray,
  y: NumArray,
  outer: number,
  inLen: number,
  outLen: number,
  inner: number,
  scale: number,
  mode: string,
  ct: string,
  nm: string,
): void {
  const i0 = new Int32Array(outLen), i1 = new Int32Array(outLen), w = new Float64Array(outLen);
  for (let o = 0; o < outLen; o++) {
    let xo: number;
    switch (ct) {
      case "pytorch_half_pixel":
        xo = inLen * scale > 1 ? (o + 0.5) / scale - 0.5 : 0;
        break;
      case "align_corners": {
        const rl = inLen * scale;
        xo = rl === 1 ? 0 : (o * (inLen - 1)) / (rl - 1);
        break;
      }
      case "asymmetric":
        xo = o / scale;
        break;
      case "tf_half_pixel_for_nearest":
        xo = (o + 0.5) / scale;
        break;
      default:
        xo = (o + 0.5) / scale - 0.5;
    }
    if (mode === "nearest") {
      let k: number;
      const f = Math.floor(xo), frac = xo - f;
      switch (nm) {
        case "floor":
          k = f;
          break;
        case "ceil":
          k = Math.ceil(xo);
          break;
        case "round_prefer_ceil":
          k = frac === 0.5 ? f + 1 : Math.round(xo);
          break;
        default:
          k = frac === 0.5 ? f : Math.round(xo);
      }
      i0[o] = i1[o] = Math.max(0, Math.min(inLen - 1, k));
      w[o] = 0;
    } else {
      const c = Math.max(0, Math.min(inLen - 1, xo)), f = Math.floor(c);
      i0[o] = f;
      i1[o] = Math.min(f + 1, inLen - 1);
      w[o] = c - f;
    }
  }
  for (let p = 0; p < outer; p++) {
    for (let o = 0; o < outLen; o++) {
      const a = (p * inLen + i0[o]) * inner, b = (p * inLen + i1[o]) * inner, dst = (p * outLen + o) * inner, wt = w[o];
      if (wt === 0) { for (let q = 0; q < inner; q++) y[dst + q] = x[a + q]; }
      else for (let q = 0; q < inner; q++) y[dst + q] = x[a + q] * (1 - wt) + x[b + q] * wt;
    }
  }
}

/** NN op table. @example `nnOps.Conv` */
export const nnOps: Record<string, OpImpl> = {
  Softmax: softmaxOp(false),
  LogSoftmax: softmaxOp(true),
  MatMul: matmul,
  Gemm: gemmOp,
  Conv: convOp,
  MaxPool: poolOp(true),
  AveragePool: poolOp(false),
  GlobalAveragePool: globalPool(false),
  GlobalMaxPool: globalPool(true),
  BatchNormalization: batchNorm,
  Resize: resize,
  Upsample: upsample,
};
