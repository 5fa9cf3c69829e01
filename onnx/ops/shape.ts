/**
 * Shape and data-movement ops: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat,
 * Split, Slice, Gather, Shape, Size, Constant, ConstantOfShape, Expand, Tile.
 *
 * @example
 * ```ts
 * import { shapeOps } from "./shape.ts";
 * const reshape = shapeOps.Reshape;
 * ```
 * @module
 */
import { broadcastShape, broadcastTo, transpose, transposeOnKernel } from "../numeric.ts";
import { permute as kPermute, WasmBuffer } from "../../kernels/mod.ts";
import type { KernelStage } from "./fused.ts";
import { allocData, dtypeOf, sizeOf, type Tensor } from "../tensor.ts";
import { attrInt, attrInts, fresh, ints, need, normAxis, type OpImpl, shapeError, unsupported, view } from "./types.ts";
import type { TensorProto } from "../model.ts";

type Arr = { [i: number]: unknown; length: number; set?: unknown };

function copyRange(dst: Arr, di: number, src: Arr, si: number, n: number): void {
  if (ArrayBuffer.isView(src) && ArrayBuffer.isView(dst)) {
    (dst as Uint8Array).set((src as Uint8Array).subarray(si, si + n), di);
  } else for (let k = 0; k < n; k++) dst[di + k] = src[si + k];
}

const reshape: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    const want = ctx.opset < 5 ? (attrInts(a, "shape") ?? []) : ints(need(ctx, ins[1], 1));
    const allowZero = attrInt(a, "allowzero", 0) === 1;
    const shape = want.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
    const neg = shape.indexOf(-1);
    if (neg >= 0) {
      const rest = shape.reduce((p, d, i) => (i === neg ? p : p * d), 1);
      shape[neg] = rest === 0 ? 0 : sizeOf(x.shape) / rest;
    }
    if (sizeOf(shape) !== x.data.length || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      shapeError(ctx, `cannot reshape [${x.shape}] to [${want}]`);
    }
    return [view(x, shape)];
  },
};

const flatten: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    let axis = attrInt(a, "axis", 1);
    if (axis < 0) axis += x.shape.length;
    const outer = sizeOf(x.shape.slice(0, axis));
    return [view(x, [outer, sizeOf(x.shape.slice(axis))])];
  },
};

function axesOf(
  ctx: Parameters<OpImpl["run"]>[0],
  ins: (Tensor | undefined)[],
  a: Parameters<OpImpl["run"]>[2],
  fromOpset: number,
): number[] | undefined {
  return ctx.opset >= fromOpset ? (ins[1] ? ints(ins[1]) : undefined) : attrInts(a, "axes");
}

const squeeze: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    const axes = axesOf(ctx, ins, a, 13)?.map((ax) => normAxis(ctx, ax, x.shape.length));
    const shape = x.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
    if (axes?.some((ax) => x.shape[ax] !== 1)) shapeError(ctx, `cannot squeeze a dimension that is not 1`);
    return [view(x, shape)];
  },
};

const unsqueeze: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    const axes = axesOf(ctx, ins, a, 13) ?? [];
    const r = x.shape.length + axes.length;
    const norm = axes.map((ax) => normAxis(ctx, ax, r)).sort((p, q) => p - q);
    const shape = [...x.shape];
    for (const ax of norm) shape.splice(ax, 0, 1);
    return [view(x, shape)];
  },
};

/**
 * A view op (the same data under another shape: Reshape, Flatten, Squeeze, Unsqueeze) as a
 * kernel stage: within a pipeline, the value stays in the kernels' memory between the stages
 * around it instead of being copied out and back in. The shape is the op's own; the data is
 * moved only where the pipeline starts or ends at it (a copy of the same floats).
 */
function viewStage(op: OpImpl): KernelStage {
  return {
    ...op,
    // the shape inputs (Reshape's shape, Squeeze's and Unsqueeze's axes) are constants
    joins: (_a, node, constants) => node.inputs.slice(1).every((n) => !n || constants.has(n)),
    plan(ctx, ins, a) {
      const x = need(ctx, ins[0], 0);
      if (x.dtype !== "float32") return undefined;
      // the op looks at the data's length only: a stand-in of the right length
      const stand = { length: sizeOf(x.shape) } as unknown as Float32Array;
      const [y] = op.run(ctx, [{ ...x, data: stand }, ...ins.slice(1)], a);
      return {
        shape: [...y.shape],
        inPlace: true,
        exec: (src, dst) => {
          if (src !== dst) {
            (dst instanceof WasmBuffer ? dst.f32() : dst).set(src instanceof WasmBuffer ? src.f32() : src);
          }
        },
      };
    },
  };
}

/** Transpose; a kernel stage (joins pipelines) where it runs on the kernels. */
const transposeOp: KernelStage = {
  plan(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    const perm = attrInts(a, "perm") ?? x.shape.map((_, i) => x.shape.length - 1 - i);
    if (x.dtype !== "float32" || !transposeOnKernel(x.shape, perm)) return undefined;
    const shape = [...x.shape];
    return { shape: perm.map((p) => shape[p]), exec: (s, d) => kPermute(s, shape, perm, d), permute: { shape, perm } };
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    const perm = attrInts(a, "perm") ?? x.shape.map((_, i) => x.shape.length - 1 - i);
    const out = ctx.alloc(x.dtype, perm.map((p) => x.shape[p]));
    transpose(x.data as Arr as Float32Array, x.shape, perm, out.data as Float32Array);
    return [out];
  },
};

const concat: OpImpl = {
  run(ctx, ins, a) {
    const xs = ins.filter((t): t is Tensor => !!t);
    const r = xs[0].shape.length, axis = normAxis(ctx, attrInt(a, "axis", 0), r);
    const shape = [...xs[0].shape];
    shape[axis] = 0;
    for (const x of xs) {
      if (x.shape.length !== r || x.shape.some((d, i) => i !== axis && d !== xs[0].shape[i])) {
        shapeError(ctx, `inputs [${x.shape}] and [${xs[0].shape}] do not concatenate on axis ${axis}`);
      }
      shape[axis] += x.shape[axis];
    }
    const out = ctx.alloc(xs[0].dtype, shape);
    const outer = sizeOf(shape.slice(0, axis)), inner = sizeOf(shape.slice(axis + 1)), row = shape[axis] * inner;
    let off = 0;
    for (const x of xs) {
      const chunk = x.shape[axis] * inner;
      for (let p = 0; p < outer; p++) copyRange(out.data as Arr, p * row + off, x.data as Arr, p * chunk, chunk);
      off += chunk;
    }
    return [out];
  },
};

const split: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    const axis = normAxis(ctx, attrInt(a, "axis", 0), x.shape.length);
    let sizes = ctx.opset >= 13 ? (ins[1] ? ints(ins[1]) : undefined) : attrInts(a, "split");
    const nOut = ctx.node.outputs.length, dim = x.shape[axis];
    if (!sizes || sizes.length === 0) {
      const parts = attrInt(a, "num_outputs", nOut);
      const each = Math.ceil(dim / parts);
      sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, dim - i * each)));
    }
    if (sizes.reduce((p, q) => p + q, 0) !== dim) shapeError(ctx, `split sizes [${sizes}] do not sum to ${dim}`);
    const outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis + 1));
    let start = 0;
    return sizes.map((s) => {
      const shape = [...x.shape];
      shape[axis] = s;
      const out = ctx.alloc(x.dtype, shape);
      for (let p = 0; p < outer; p++) {
        copyRange(out.data as Arr, p * s * inner, x.data as Arr, (p * dim + start) * inner, s * inner);
      }
      start += s;
      return out;
    });
  },
};

const slice: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), r = x.shape.length;
    let starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined;
    if (ctx.opset < 10) {
      starts = attrInts(a, "starts") ?? [];
      ends = attrInts(a, "ends") ?? [];
      axes = attrInts(a, "axes");
    } else {
      starts = ints(need(ctx, ins[1], 1));
      ends = ints(need(ctx, ins[2], 2));
      axes = ins[3] ? ints(ins[3]) : undefined;
      steps = ins[4] ? ints(ins[4]) : undefined;
    }
    const st = new Array<number>(r).fill(0), en = [...x.shape], sp = new Array<number>(r).fill(1);
    (axes ?? starts.map((_, i) => i)).forEach((ax0, i) => {
      const ax = normAxis(ctx, ax0, r), dim = x.shape[ax], step = steps?.[i] ?? 1;
      if (step === 0) shapeError(ctx, "step 0");
      let s = starts[i], e = ends[i];
      if (s < 0) s += dim;
      if (e < 0) e += dim;
      if (step > 0) {
        s = Math.max(0, Math.min(s, dim));
        e = Math.max(0, Math.min(e, dim));
      } else {
        s = Math.max(-1, Math.min(s, dim - 1));
        e = Math.max(-1, Math.min(e, dim - 1));
      }
      st[ax] = s;
      en[ax] = e;
      sp[ax] = step;
    });
    const shape = st.map((s, i) => Math.max(0, Math.ceil((en[i] - s) / sp[i])));
    const out = ctx.alloc(x.dtype, shape);
    const n = out.data.length;
    if (n === 0) return [out];
    const strides = new Array<number>(r);
    let acc = 1;
    for (let i = r - 1; i >= 0; i--) {
      strides[i] = acc;
      acc *= x.shape[i];
    }
    const idx = new Array<number>(r).fill(0);
    const src = x.data as Arr, dst = out.data as Arr;
    let base = 0;
    for (let i = 0; i < r; i++) base += st[i] * strides[i];
    const inner = r ? shape[r - 1] : 1, is = r ? sp[r - 1] * strides[r - 1] : 1;
    let off = base;
    for (let q = 0; q < n; q += inner) {
      // a contiguous run (step 1 along the last axis) is one block copy
      if (is === 1) copyRange(dst, q, src, off, inner);
      else for (let k = 0; k < inner; k++) dst[q + k] = src[off + k * is];
      for (let d = r - 2; d >= 0; d--) {
        off += sp[d] * strides[d];
        if (++idx[d] < shape[d]) break;
        off -= sp[d] * strides[d] * shape[d];
        idx[d] = 0;
      }
    }
    return [out];
  },
};

const gather: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), ind = need(ctx, ins[1], 1);
    const axis = normAxis(ctx, attrInt(a, "axis", 0), x.shape.length), dim = x.shape[axis];
    const idx = ints(ind);
    const shape = [...x.shape.slice(0, axis), ...ind.shape, ...x.shape.slice(axis + 1)];
    const out = ctx.alloc(x.dtype, shape);
    const outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis + 1));
    for (let p = 0; p < outer; p++) {
      for (let j = 0; j < idx.length; j++) {
        let k = idx[j];
        if (k < 0) k += dim;
        if (k < 0 || k >= dim) shapeError(ctx, `index ${idx[j]} out of range for dimension ${dim}`);
        copyRange(out.data as Arr, (p * idx.length + j) * inner, x.data as Arr, (p * dim + k) * inner, inner);
      }
    }
    return [out];
  },
};

const shapeOp: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), r = x.shape.length;
    let s = attrInt(a, "start", 0), e = attrInt(a, "end", r);
    if (s < 0) s += r;
    if (e < 0) e += r;
    s = Math.max(0, Math.min(r, s));
    e = Math.max(0, Math.min(r, e));
    const dims = x.shape.slice(s, Math.max(s, e));
    const out = fresh("int64", [dims.length]);
    dims.forEach((d, i) => ((out.data as BigInt64Array)[i] = BigInt(d)));
    return [out];
  },
};

const size: OpImpl = {
  run(ctx, ins) {
    const x = need(ctx, ins[0], 0), out = fresh("int64", []);
    (out.data as BigInt64Array)[0] = BigInt(x.data.length);
    return [out];
  },
};

/** The tensor of a Constant/ConstantOfShape value attribute. @example `protoToTensor(attr.t!)` */
export function protoToTensor(t: TensorProto): Tensor {
  const dtype = dtypeOf(t.dataType);
  if (!dtype || !t.data) throw new RangeError(`tensor '${t.name}': data type ${t.dataType} is not supported`);
  return { data: t.data, shape: [...t.dims], dtype };
}

const constant: OpImpl = {
  check(a, node) {
    if (a.sparse_value) unsupported(node, "attribute sparse_value");
    if (a.value && !dtypeOf(a.value.t?.dataType ?? 0)) {
      unsupported(node, `constant of data type ${a.value.t?.dataType}`);
    }
    if (a.value_strings) unsupported(node, "attribute value_strings");
  },
  run(ctx, _ins, a) {
    if (a.value?.t) return [protoToTensor(a.value.t)];
    if (a.value_float) return [{ data: new Float32Array([a.value_float.f ?? 0]), shape: [], dtype: "float32" }];
    if (a.value_floats) {
      return [{
        data: Float32Array.from(a.value_floats.floats ?? []),
        shape: [a.value_floats.floats?.length ?? 0],
        dtype: "float32",
      }];
    }
    if (a.value_int) return [{ data: BigInt64Array.from([BigInt(a.value_int.i ?? 0)]), shape: [], dtype: "int64" }];
    if (a.value_ints) {
      const v = a.value_ints.ints ?? [];
      return [{ data: BigInt64Array.from(v, (x) => BigInt(x)), shape: [v.length], dtype: "int64" }];
    }
    shapeError(ctx, "Constant has no value");
  },
};

const constantOfShape: OpImpl = {
  run(ctx, ins, a) {
    const shape = ins[0] ? ints(ins[0]) : [];
    const v = a.value?.t
      ? protoToTensor(a.value.t)
      : { data: new Float32Array([0]), shape: [1], dtype: "float32" as const };
    const out = ctx.alloc(v.dtype, shape);
    if (out.data.length) (out.data as Float32Array).fill(v.data[0] as number);
    return [out];
  },
};

const expand: OpImpl = {
  run(ctx, ins) {
    const x = need(ctx, ins[0], 0), want = ints(need(ctx, ins[1], 1));
    const shape = broadcastShape(x.shape, want);
    if (!shape) shapeError(ctx, `cannot expand [${x.shape}] to [${want}]`);
    const out = ctx.alloc(x.dtype, shape);
    broadcastTo(out.data as Arr, shape, x.data as Arr, x.shape);
    return [out];
  },
};

const tile: OpImpl = {
  run(ctx, ins) {
    const x = need(ctx, ins[0], 0), reps = ints(need(ctx, ins[1], 1));
    const shape = x.shape.map((d, i) => d * reps[i]);
    const out = ctx.alloc(x.dtype, shape);
    const r = shape.length, n = out.data.length;
    const idx = new Array<number>(r).fill(0), xs = new Array<number>(r);
    let s = 1;
    for (let i = r - 1; i >= 0; i--) {
      xs[i] = s;
      s *= x.shape[i];
    }
    const src = x.data as Arr, dst = out.data as Arr;
    for (let q = 0; q < n; q++) {
      let off = 0;
      for (let d = 0; d < r; d++) off += (idx[d] % x.shape[d]) * xs[d];
      dst[q] = src[off];
      for (let d = r - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return [out];
  },
};

/** Shape op table. @example `shapeOps.Concat` */
export const shapeOps: Record<string, OpImpl> = {
  Reshape: viewStage(reshape),
  Flatten: viewStage(flatten),
  Squeeze: viewStage(squeeze),
  Unsqueeze: viewStage(unsqueeze),
  Transpose: transposeOp,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  Shape: shapeOp,
  Size: size,
  Constant: constant,
  ConstantOfShape: constantOfShape,
  Expand: expand,
  Tile: tile,
};

export { allocData };
