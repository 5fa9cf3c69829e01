/**
 * The lowerings: one function per ONNX op with a device form, mapping a node (NCHW, ONNX
 * semantics) onto device program ops (NHWC int8, docs/model-format.md). Element-wise
 * functions of one tensor (`compiler/activations.ts`) become `Lut`/`ChannelLut` tables
 * before this table is consulted (`lowerTable`).
 *
 * @example
 * ```ts
 * import { LOWERINGS } from "./compiler/lowerings.ts";
 * LOWERINGS.Conv(lc, node, lc.inp(node.inputs[0]), lc.shapeOf(node.inputs[0]));
 * ```
 * @module
 */
import { CompileError, type Node, numel } from "./graph.ts";
import { CHANNEL_OPS, channelTable, TABLE_ACTIVATIONS, unaryTable } from "./activations.ts";
import { DEV_AXES, deviceShape, inOnnxOrder, padOf, scalar } from "./device_rules.ts";
import type { LowerContext } from "./lower_context.ts";
import { resolvePads } from "./shapes.ts";
import { channelLookupTable, lookupTable, quantizeValue } from "./quantize.ts";

/** A lowering: node `n` whose first input is device tensor `x` of ONNX shape `xs`. @example `const f: Lowering = LOWERINGS.Relu` */
export type Lowering = (lc: LowerContext, n: Node, x: number, xs: number[]) => void;

/**
 * An element-wise function of one tensor as a table: `Lut` (one table) or `ChannelLut`
 * (a constant along the device's channel axis); false when the node is neither.
 *
 * @example
 * ```ts
 * if (!lowerTable(lc, node)) LOWERINGS[node.op](lc, node, x, xs);
 * ```
 */
export function lowerTable(lc: LowerContext, n: Node): boolean {
  const g = lc.g;
  const fn = TABLE_ACTIVATIONS.has(n.op) || CHANNEL_OPS.has(n.op) ? unaryTable(g, n) : undefined;
  const ct = !fn ? channelTable(g, n) : undefined;
  if (!fn && !ct) return false;
  const xa = lc.inp(n.inputs.find((i) => i !== "" && !g.consts.has(i))!);
  const q = lc.qp(n.outputs[0]);
  if (fn) lc.emit(n, "Lut", [xa], n.outputs[0], q, { table: lc.data(lookupTable(fn, lc.quantOf(xa), q)) });
  else {
    const table = channelLookupTable(ct!.f, ct!.C, lc.quantOf(xa), q);
    lc.emit(n, "ChannelLut", [xa], n.outputs[0], q, { table: lc.data(table) });
  }
  return true;
}

function lowerConv(lc: LowerContext, n: Node, x: number, xs: number[]): void {
  const w = lc.g.consts.get(n.inputs[1])!;
  const [M, cg, kh, kw] = w.dims;
  const ohwi = new Float32Array(w.data.length);
  for (let m = 0; m < M; m++) {
    for (let c = 0; c < cg; c++) {
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          ohwi[((m * kh + i) * kw + j) * cg + c] = w.data[((m * cg + c) * kh + i) * kw + j];
        }
      }
    }
  }
  const strides = (n.attrs.strides as number[]) ?? [1, 1];
  const dilations = (n.attrs.dilations as number[]) ?? [1, 1];
  const pads = resolvePads(n, xs.slice(2), [kh, kw], strides, dilations);
  const f = lc.fuseAct(n);
  const wts = lc.weightsOp(n, x, ohwi, M, n.inputs[2] ? lc.g.consts.get(n.inputs[2])!.data : undefined);
  const attrs: Record<string, unknown> = {
    kernel: [kh, kw],
    strides,
    dilations,
    pads,
    group: (n.attrs.group as number) ?? 1,
    ...wts,
  };
  if (f.clamp) attrs.clamp = f.clamp;
  lc.emit(n, "Conv", [x], f.out, f.q, attrs);
}

function lowerGemm(lc: LowerContext, n: Node, x: number, _xs: number[]): void {
  const w = lc.g.consts.get(n.inputs[1])!;
  const transB = n.op === "Gemm" && n.attrs.transB === 1;
  const [K, N] = transB ? [w.dims[1], w.dims[0]] : w.dims;
  const alpha = n.op === "Gemm" ? ((n.attrs.alpha as number) ?? 1) : 1;
  const beta = n.op === "Gemm" ? ((n.attrs.beta as number) ?? 1) : 1;
  const wt = new Float32Array(N * K);
  for (let c = 0; c < N; c++) {
    for (let k = 0; k < K; k++) wt[c * K + k] = alpha * (transB ? w.data[c * K + k] : w.data[k * N + c]);
  }
  let bias: Float32Array | undefined;
  if (n.op === "Gemm" && n.inputs[2]) {
    const c = lc.g.consts.get(n.inputs[2])!;
    if (numel(c.dims) !== N && numel(c.dims) !== 1) {
      throw new CompileError(`node ${n.name} (Gemm): bias shape ${JSON.stringify(c.dims)} is not [${N}]`);
    }
    bias = Float32Array.from({ length: N }, (_, i) => beta * c.data[numel(c.dims) === 1 ? 0 : i]);
  }
  const f = lc.fuseAct(n);
  const attrs: Record<string, unknown> = lc.weightsOp(n, x, wt, N, bias);
  if (f.clamp) attrs.clamp = f.clamp;
  lc.emit(n, "Gemm", [x], f.out, f.q, attrs);
}

function lowerRelu(lc: LowerContext, n: Node, x: number, _xs: number[]): void {
  lc.emit(n, "Relu", [x], n.outputs[0], lc.quantOf(x));
}

function lowerClip(lc: LowerContext, n: Node, x: number, _xs: number[]): void {
  // q(clip(dq(c))) on one grid is min(max(c, q(lo)), q(hi)) (q is monotone, q(dq(c)) = c)
  const q = lc.quantOf(x);
  const lo = scalar(lc.g.consts.get(n.inputs[1])) ?? (n.attrs.min as number | undefined) ?? -Infinity;
  const hi = scalar(lc.g.consts.get(n.inputs[2])) ?? (n.attrs.max as number | undefined) ?? Infinity;
  const qlo = lo === -Infinity ? -128 : quantizeValue(lo, q), qhi = hi === Infinity ? 127 : quantizeValue(hi, q);
  lc.emit(n, "Clip", [x], n.outputs[0], q, { lo: Math.min(qlo, qhi), hi: qhi });
}

function lowerAdd(lc: LowerContext, n: Node, _x: number, xs: number[]): void {
  const r = Math.max(xs.length, lc.shapeOf(n.inputs[1]).length);
  const ins = n.inputs.map((t) => {
    const s = lc.shapeOf(t);
    const idx = lc.inp(t);
    if (s.length === r) return idx;
    // right-align ranks: reshape the lower-rank operand (its memory order is kept)
    const full = [...new Array(r - s.length).fill(1), ...s];
    const q = lc.quantOf(idx);
    const rs = lc.b.addTensor({
      name: `${n.name}_${t}_bcast`,
      shape: deviceShape(full),
      scale: q.scale,
      zero_point: q.zeroPoint,
    });
    if (!inOnnxOrder(s) || !inOnnxOrder(full)) {
      throw new CompileError(`node ${n.name} (${n.op}): unsupported broadcast of ${JSON.stringify(s)}`);
    }
    lc.b.addOp({ op: "Reshape", name: `${n.name}_bcast`, inputs: [idx], outputs: [rs] });
    return rs;
  });
  lc.emit(n, n.op, ins, n.outputs[0], lc.qp(n.outputs[0]));
}

function lowerMaxPool(lc: LowerContext, n: Node, x: number, xs: number[]): void {
  const kernel = n.attrs.kernel_shape as number[];
  const strides = (n.attrs.strides as number[]) ?? [1, 1];
  const dilations = (n.attrs.dilations as number[]) ?? [1, 1];
  const pads = resolvePads(n, xs.slice(2), kernel, strides, dilations);
  const ceil = (n.attrs.ceil_mode as number) ?? 0;
  if (n.op === "MaxPool") {
    lc.emit(n, "MaxPool", [x], n.outputs[0], lc.quantOf(x), { kernel, strides, pads, dilations, ceil_mode: ceil });
  } else {
    lc.emit(n, "AveragePool", [x], n.outputs[0], lc.qp(n.outputs[0]), {
      kernel,
      strides,
      pads,
      ceil_mode: ceil,
      count_include_pad: (n.attrs.count_include_pad as number) ?? 0,
    });
  }
}

function lowerGlobalAveragePool(lc: LowerContext, n: Node, x: number, _xs: number[]): void {
  lc.emit(n, "GlobalAveragePool", [x], n.outputs[0], lc.qp(n.outputs[0]));
}

function lowerGlobalMaxPool(lc: LowerContext, n: Node, x: number, xs: number[]): void {
  lc.emit(n, "MaxPool", [x], n.outputs[0], lc.quantOf(x), {
    kernel: [xs[2], xs[3]],
    strides: [1, 1],
    pads: [0, 0, 0, 0],
  });
}

function lowerConcat(lc: LowerContext, n: Node, _x: number, xs: number[]): void {
  const r = xs.length;
  const a0 = (n.attrs.axis as number) ?? 0;
  const axis = DEV_AXES[r][a0 < 0 ? a0 + r : a0];
  const ins = n.inputs.map(lc.inp);
  const q0 = lc.quantOf(ins[0]);
  const same = ins.every((i) => lc.b.tensors[i].scale === q0.scale && lc.b.tensors[i].zero_point === q0.zeroPoint);
  lc.emit(n, "Concat", ins, n.outputs[0], same && !lc.g.quant.has(n.outputs[0]) ? q0 : lc.qp(n.outputs[0]), { axis });
}

function lowerResize(lc: LowerContext, n: Node, x: number, xs: number[]): void {
  const out = lc.shapeOf(n.outputs[0]);
  lc.emit(n, "Resize", [x], n.outputs[0], lc.quantOf(x), { scales: [out[2] / xs[2], out[3] / xs[3]] });
}

function lowerReshape(lc: LowerContext, n: Node, x: number, xs: number[]): void {
  lc.reshape(n, x, xs, n.outputs[0]);
}

function lowerTranspose(lc: LowerContext, n: Node, x: number, _xs: number[]): void {
  const p = (n.attrs.perm as number[]) ?? [3, 2, 1, 0];
  const qa = [0, 2, 3, 1], ra = [0, 3, 1, 2];
  lc.emit(n, "Transpose", [x], n.outputs[0], lc.quantOf(x), { perm: qa.map((_, i) => ra[p[qa[i]]]) });
}

function lowerPad(lc: LowerContext, n: Node, x: number, _xs: number[]): void {
  const p = padOf(lc.g, n) as { pads: number[]; mode: number; value: number };
  const q = lc.quantOf(x);
  lc.emit(n, "Pad", [x], n.outputs[0], q, {
    pads: [p.pads[2], p.pads[3], p.pads[6], p.pads[7]],
    mode: p.mode,
    value: quantizeValue(p.value, q),
  });
}

function lowerSlice(lc: LowerContext, n: Node, x: number, xs: number[]): void {
  const r = xs.length;
  const get = (k: number) => (n.inputs[k] ? Array.from(lc.g.consts.get(n.inputs[k])!.data) : undefined);
  const starts = get(1) ?? (n.attrs.starts as number[]);
  const ends = get(2) ?? (n.attrs.ends as number[]);
  const axes = get(3) ?? (n.attrs.axes as number[]) ?? starts.map((_, i) => i);
  const steps = get(4) ?? starts.map(() => 1);
  const ds = [0, 0, 0, 0], de = [...deviceShape(xs)], dst = [1, 1, 1, 1];
  axes.forEach((a0, k) => {
    const a = DEV_AXES[r][a0 < 0 ? a0 + r : a0];
    ds[a] = Math.max(-2147483648, Math.min(2147483647, starts[k]));
    de[a] = Math.max(-2147483648, Math.min(2147483647, ends[k]));
    dst[a] = steps[k];
  });
  lc.emit(n, "Slice", [x], n.outputs[0], lc.quantOf(x), { starts: ds, ends: de, steps: dst });
}

function lowerSplit(lc: LowerContext, n: Node, x: number, xs: number[]): void {
  const r = xs.length;
  const a0 = (n.attrs.axis as number) ?? 0;
  const axis = a0 < 0 ? a0 + r : a0;
  const sizes = n.outputs.map((o) => lc.shapeOf(o)[axis]);
  const q = lc.quantOf(x);
  const ys = n.outputs.map((o) => {
    const y = lc.tensor(o, lc.shapeOf(o), q);
    lc.dev.set(o, y);
    return y;
  });
  lc.b.addOp({ op: "Split", name: n.name, inputs: [x], outputs: ys, axis: DEV_AXES[r][axis], sizes });
}

/** The lowering of each ONNX op with a device form (docs/compiler.md lists them). @example `LOWERINGS.Conv` */
export const LOWERINGS: Record<string, Lowering> = {
  Conv: lowerConv,
  Gemm: lowerGemm,
  MatMul: lowerGemm,
  Relu: lowerRelu,
  Clip: lowerClip,
  Add: lowerAdd,
  Mul: lowerAdd,
  MaxPool: lowerMaxPool,
  AveragePool: lowerMaxPool,
  GlobalAveragePool: lowerGlobalAveragePool,
  GlobalMaxPool: lowerGlobalMaxPool,
  Concat: lowerConcat,
  Resize: lowerResize,
  Upsample: lowerResize,
  Reshape: lowerReshape,
  Flatten: lowerReshape,
  Squeeze: lowerReshape,
  Unsqueeze: lowerReshape,
  Transpose: lowerTranspose,
  Pad: lowerPad,
  Slice: lowerSlice,
  Split: lowerSplit,
};
