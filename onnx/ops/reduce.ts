/**
 * Reductions: ReduceMax/Min/Sum/Mean/Prod/SumSquare/L1/L2/LogSum/LogSumExp, ArgMax,
 * ArgMin, TopK.
 *
 * @example
 * ```ts
 * import { reduceOps } from "./reduce.ts";
 * const rmax = reduceOps.ReduceMax;
 * ```
 * @module
 */
import { type NumArray, RedOp, reduceInner, transpose } from "../numeric.ts";
import { sizeOf, type Tensor } from "../tensor.ts";
import { attrInt, attrInts, fresh, ints, need, normAxis, type OpImpl, shapeError } from "./types.ts";

function reduceOp(op: number, axesInputFrom: number): OpImpl {
  return {
    run(ctx, ins, a) {
      const x = need(ctx, ins[0], 0), r = x.shape.length;
      const keep = attrInt(a, "keepdims", 1) === 1;
      let axes = ctx.opset >= axesInputFrom
        ? (ins[1] && ins[1].data.length ? ints(ins[1]) : undefined)
        : attrInts(a, "axes");
      if (!axes || axes.length === 0) {
        if (attrInt(a, "noop_with_empty_axes", 0)) {
          const out = ctx.alloc(x.dtype, [...x.shape]);
          (out.data as NumArray).set(x.data as NumArray);
          return [out];
        }
        axes = x.shape.map((_, i) => i);
      }
      const red = [...new Set(axes.map((ax) => normAxis(ctx, ax, r)))].sort((p, q) => p - q);
      const kept = x.shape.map((_, i) => i).filter((i) => !red.includes(i));
      const outShape = keep ? x.shape.map((d, i) => (red.includes(i) ? 1 : d)) : kept.map((i) => x.shape[i]);
      const out = ctx.alloc(x.dtype, outShape);
      const redSize = sizeOf(red.map((i) => x.shape[i]));
      let src = x.data as NumArray;
      const contiguous = red.every((ax, j) => ax === r - red.length + j);
      if (!contiguous) {
        const perm = [...kept, ...red];
        const t = new Float64Array(x.data.length);
        transpose(src, x.shape, perm, t);
        src = t;
      }
      if (redSize === 0) {
        const fill = op === RedOp.Max
          ? -Infinity
          : op === RedOp.Min
          ? Infinity
          : op === RedOp.Prod
          ? 1
          : op === RedOp.LogSum || op === RedOp.LogSumExp
          ? -Infinity
          : 0;
        (out.data as NumArray).fill(fill);
        return [out];
      }
      reduceInner(op, src, out.data as NumArray, sizeOf(kept.map((i) => x.shape[i])), redSize, 1);
      return [out];
    },
  };
}

function argOp(max: boolean): OpImpl {
  return {
    run(ctx, ins, a) {
      const x = need(ctx, ins[0], 0), r = x.shape.length;
      const axis = normAxis(ctx, attrInt(a, "axis", 0), r);
      const keep = attrInt(a, "keepdims", 1) === 1, last = attrInt(a, "select_last_index", 0) === 1;
      const outShape = keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
      const out = ctx.alloc("int64", outShape);
      const outer = sizeOf(x.shape.slice(0, axis)), dim = x.shape[axis], inner = sizeOf(x.shape.slice(axis + 1));
      const xd = x.data as NumArray, od = out.data as BigInt64Array;
      for (let p = 0; p < outer; p++) {
        for (let q = 0; q < inner; q++) {
          const b = p * dim * inner + q;
          let best = xd[b], bi = 0;
          for (let k = 1; k < dim; k++) {
            const v = xd[b + k * inner];
            if (max ? (v > best || (last && v === best)) : (v < best || (last && v === best))) {
              best = v;
              bi = k;
            }
          }
          od[p * inner + q] = BigInt(bi);
        }
      }
      return [out];
    },
  };
}

const topK: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), r = x.shape.length;
    const k = ctx.opset >= 10 ? ints(need(ctx, ins[1], 1))[0] : attrInt(a, "k", 1);
    const axis = normAxis(ctx, attrInt(a, "axis", -1), r);
    const largest = attrInt(a, "largest", 1) === 1;
    const dim = x.shape[axis];
    if (k < 0 || k > dim) shapeError(ctx, `k=${k} out of range for dimension ${dim}`);
    const shape = [...x.shape];
    shape[axis] = k;
    const vals = ctx.alloc(x.dtype, shape), idx = fresh("int64", shape);
    const outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis + 1));
    const xd = x.data as NumArray, vd = vals.data as NumArray, id = idx.data as BigInt64Array;
    const order = new Array<number>(dim);
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        const b = p * dim * inner + q;
        for (let i = 0; i < dim; i++) order[i] = i;
        order.sort((i, j) => {
          const vi = xd[b + i * inner], vj = xd[b + j * inner];
          return vi === vj ? i - j : largest ? (vj > vi ? 1 : -1) : (vi > vj ? 1 : -1);
        });
        for (let i = 0; i < k; i++) {
          const o = (p * k + i) * inner + q;
          vd[o] = xd[b + order[i] * inner];
          id[o] = BigInt(order[i]);
        }
      }
    }
    return [vals, idx] as Tensor[];
  },
};

/** Reduction op table. @example `reduceOps.ReduceSum` */
export const reduceOps: Record<string, OpImpl> = {
  ReduceSum: reduceOp(RedOp.Sum, 13),
  ReduceMean: reduceOp(RedOp.Mean, 18),
  ReduceMax: reduceOp(RedOp.Max, 18),
  ReduceMin: reduceOp(RedOp.Min, 18),
  ReduceProd: reduceOp(RedOp.Prod, 18),
  ReduceSumSquare: reduceOp(RedOp.SumSquare, 18),
  ReduceL1: reduceOp(RedOp.L1, 18),
  ReduceL2: reduceOp(RedOp.L2, 18),
  ReduceLogSum: reduceOp(RedOp.LogSum, 18),
  ReduceLogSumExp: reduceOp(RedOp.LogSumExp, 18),
  ArgMax: argOp(true),
  ArgMin: argOp(false),
  TopK: topK,
};
