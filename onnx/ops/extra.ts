/**
 * Further ops found in real pre/postambles: Pad, ConvTranspose, CastLike, Range,
 * GatherElements, Dropout (inference), Gelu, LayerNormalization, Hardmax, CumSum,
 * IsInf, Trilu, inverse/hyperbolic trigonometry.
 *
 * @example
 * ```ts
 * import { extraOps } from "./extra.ts";
 * const pad = extraOps.Pad;
 * ```
 * @module
 */
import { erf, type NumArray } from "../numeric.ts";
import { type ConvParams, convTranspose2d } from "../numeric_nn.ts";
import { sizeOf, type Tensor } from "../tensor.ts";
import { castInto } from "./elementwise.ts";
import {
  attrFloat,
  attrInt,
  attrInts,
  type Attrs,
  attrString,
  ints,
  isBig,
  need,
  normAxis,
  type OpContext,
  type OpImpl,
  shapeError,
  unsupported,
} from "./types.ts";

type Arr = { [i: number]: unknown; length: number };

const pad: OpImpl = {
  check(a, node) {
    const mode = attrString(a, "mode", "constant");
    if (!["constant", "reflect", "edge", "wrap"].includes(mode)) unsupported(node, `mode '${mode}'`);
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), r = x.shape.length;
    let pads: number[], cval = 0 as number | bigint, axes: number[] | undefined;
    if (ctx.opset < 11) {
      pads = attrInts(a, "pads") ?? attrInts(a, "paddings") ?? [];
      cval = attrFloat(a, "value", 0);
    } else {
      pads = ints(need(ctx, ins[1], 1));
      if (ins[2] && ins[2].data.length) cval = ins[2].data[0] as number | bigint;
      if (ins[3]) axes = ints(ins[3]).map((ax) => normAxis(ctx, ax, r));
    }
    const full = new Array<number>(2 * r).fill(0);
    const ax = axes ?? x.shape.map((_, i) => i);
    ax.forEach((d, i) => {
      full[d] = pads[i];
      full[r + d] = pads[ax.length + i];
    });
    const shape = x.shape.map((d, i) => d + full[i] + full[r + i]);
    if (shape.some((d) => d < 0)) shapeError(ctx, `pads [${pads}] remove more than the input`);
    const out = ctx.alloc(x.dtype, shape);
    const mode = attrString(a, "mode", "constant");
    const n = out.data.length, idx = new Array<number>(r).fill(0), xs = new Array<number>(r);
    let s = 1;
    for (let i = r - 1; i >= 0; i--) {
      xs[i] = s;
      s *= x.shape[i];
    }
    const src = x.data as Arr, dst = out.data as Arr;
    const fill = isBig(x.dtype) ? BigInt(cval) : Number(cval);
    for (let q = 0; q < n; q++) {
      let off = 0, inside = true;
      for (let d = 0; d < r; d++) {
        let p = idx[d] - full[d];
        const dim = x.shape[d];
        if (p < 0 || p >= dim) {
          if (mode === "constant" || dim === 0) {
            inside = false;
            break;
          }
          if (mode === "edge") p = p < 0 ? 0 : dim - 1;
          else if (mode === "wrap") p = ((p % dim) + dim) % dim;
          else { // reflect
            const period = 2 * (dim - 1) || 1;
            p = ((p % period) + period) % period;
            if (p >= dim) p = period - p;
          }
        }
        off += p * xs[d];
      }
      dst[q] = inside ? src[off] : fill;
      for (let d = r - 1; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
    return [out];
  },
};

/**
 * The output geometry of a ConvTranspose (attributes `group`, `kernel_shape`, `strides`,
 * `dilations`, `pads` or `auto_pad: VALID`, `output_padding`).
 * @example `const g = convTransposeGeometry(ctx, x, w, attrs); ctx.alloc("float32", [g.n, g.m, ...g.outSp])`
 */
export function convTransposeGeometry(ctx: OpContext, x: Tensor, w: Tensor, a: Attrs): ConvParams {
  const [n, c, ...inSp] = x.shape;
  const group = attrInt(a, "group", 1);
  const [wc, mg, ...kSp0] = w.shape;
  if (wc !== c) shapeError(ctx, `weights have ${wc} input channels, input has ${c}`);
  const r = inSp.length, kSp = attrInts(a, "kernel_shape") ?? kSp0;
  const strides = attrInts(a, "strides") ?? new Array(r).fill(1);
  const dilations = attrInts(a, "dilations") ?? new Array(r).fill(1);
  const pads = attrString(a, "auto_pad", "NOTSET") === "VALID"
    ? new Array(2 * r).fill(0)
    : (attrInts(a, "pads") ?? new Array(2 * r).fill(0));
  const opad = attrInts(a, "output_padding") ?? new Array(r).fill(0);
  const outSp = inSp.map((d, i) =>
    strides[i] * (d - 1) + opad[i] + ((kSp[i] - 1) * dilations[i] + 1) - pads[i] - pads[r + i]
  );
  return { n, c, m: mg * group, group, inSp, outSp, kSp, strides, dilations, pads };
}

const convTranspose: OpImpl = {
  check(a, node) {
    if (a.output_shape) unsupported(node, "attribute output_shape");
    const ap = attrString(a, "auto_pad", "NOTSET");
    if (ap !== "NOTSET" && ap !== "VALID") unsupported(node, `auto_pad '${ap}'`);
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), w = need(ctx, ins[1], 1), b = ins[2];
    const { n, c, m, group, inSp, outSp, kSp, strides, dilations, pads } = convTransposeGeometry(ctx, x, w, a);
    const r = inSp.length, cg = c / group, mg = m / group;
    const out = ctx.alloc(x.dtype, [n, m, ...outSp]);
    const y = out.data as NumArray, xd = x.data as NumArray, wd = w.data as NumArray;
    const inSize = sizeOf(inSp), outSize = sizeOf(outSp), kSize = sizeOf(kSp);
    if (r === 2 || r === 1) {
      const sp = r === 2 ? { inSp, outSp, kSp, strides, dilations, pads } : {
        inSp: [1, inSp[0]],
        outSp: [1, outSp[0]],
        kSp: [1, kSp[0]],
        strides: [1, strides[0]],
        dilations: [1, dilations[0]],
        pads: [0, pads[0], 0, pads[1]],
      };
      convTranspose2d(xd, wd, b ? b.data as NumArray : null, y, n, c, m, group, sp);
      return [out];
    }
    y.fill(0);
    // scatter offsets: for each input position and kernel offset, the output offset or -1
    const offs = new Int32Array(inSize * kSize);
    const ii = new Array<number>(r).fill(0), ki = new Array<number>(r).fill(0);
    for (let p = 0; p < inSize; p++) {
      ki.fill(0);
      for (let kk = 0; kk < kSize; kk++) {
        let off = 0, ok = true;
        for (let d = 0; d < r; d++) {
          const pos = ii[d] * strides[d] + ki[d] * dilations[d] - pads[d];
          if (pos < 0 || pos >= outSp[d]) {
            ok = false;
            break;
          }
          off = off * outSp[d] + pos;
        }
        offs[p * kSize + kk] = ok ? off : -1;
        for (let d = r - 1; d >= 0; d--) {
          if (++ki[d] < kSp[d]) break;
          ki[d] = 0;
        }
      }
      for (let d = r - 1; d >= 0; d--) {
        if (++ii[d] < inSp[d]) break;
        ii[d] = 0;
      }
    }
    for (let bi = 0; bi < n; bi++) {
      for (let g = 0; g < group; g++) {
        for (let ic = 0; ic < cg; ic++) {
          const xb = (bi * c + g * cg + ic) * inSize;
          for (let oc = 0; oc < mg; oc++) {
            const yb = (bi * m + g * mg + oc) * outSize, wb = ((g * cg + ic) * mg + oc) * kSize;
            for (let p = 0; p < inSize; p++) {
              const xv = xd[xb + p];
              if (xv === 0) continue;
              const ob = p * kSize;
              for (let kk = 0; kk < kSize; kk++) {
                const o = offs[ob + kk];
                if (o >= 0) y[yb + o] += xv * wd[wb + kk];
              }
            }
          }
        }
        if (b) {
          const bd = b.data as NumArray;
          for (let oc = 0; oc < mg; oc++) {
            const yb = (bi * m + g * mg + oc) * outSize, bv = bd[g * mg + oc];
            for (let i = 0; i < outSize; i++) y[yb + i] += bv;
          }
        }
      }
    }
    return [out];
  },
};

const castLike: OpImpl = {
  run(ctx, ins) {
    const x = need(ctx, ins[0], 0), like = need(ctx, ins[1], 1);
    const out = ctx.alloc(like.dtype, x.shape);
    castInto(x, out);
    return [out];
  },
};

const range: OpImpl = {
  run(ctx, ins) {
    const s = need(ctx, ins[0], 0), l = need(ctx, ins[1], 1), d = need(ctx, ins[2], 2);
    const start = Number(s.data[0]), limit = Number(l.data[0]), delta = Number(d.data[0]);
    const n = Math.max(Math.ceil((limit - start) / delta), 0);
    const out = ctx.alloc(s.dtype, [n]);
    const o = out.data as unknown as (number | bigint)[];
    for (let i = 0; i < n; i++) o[i] = isBig(s.dtype) ? BigInt(start + i * delta) : start + i * delta;
    return [out];
  },
};

const gatherElements: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), ind = need(ctx, ins[1], 1), r = x.shape.length;
    const axis = normAxis(ctx, attrInt(a, "axis", 0), r);
    const out = ctx.alloc(x.dtype, [...ind.shape]);
    const idx = ints(ind), n = idx.length, pos = new Array<number>(r).fill(0), xs = new Array<number>(r);
    let s = 1;
    for (let i = r - 1; i >= 0; i--) {
      xs[i] = s;
      s *= x.shape[i];
    }
    const src = x.data as Arr, dst = out.data as Arr;
    for (let q = 0; q < n; q++) {
      let k = idx[q];
      if (k < 0) k += x.shape[axis];
      if (k < 0 || k >= x.shape[axis]) shapeError(ctx, `index ${idx[q]} out of range`);
      let off = 0;
      for (let d = 0; d < r; d++) off += (d === axis ? k : pos[d]) * xs[d];
      dst[q] = src[off];
      for (let d = r - 1; d >= 0; d--) {
        if (++pos[d] < ind.shape[d]) break;
        pos[d] = 0;
      }
    }
    return [out];
  },
};

const dropout: OpImpl = {
  check(a, node) {
    if (node.inputs[2]) unsupported(node, "the training_mode input");
    if (attrInt(a, "is_test", 1) === 0 && a.is_test) unsupported(node, "is_test = 0");
  },
  run(ctx, ins) {
    const x = need(ctx, ins[0], 0);
    if (ctx.node.outputs.length < 2) return [x];
    const mask = ctx.alloc("bool", [...x.shape]);
    (mask.data as Uint8Array).fill(1);
    return [x, mask];
  },
};

function mapFloat(make: (a: Parameters<OpImpl["run"]>[2]) => (v: number) => number): OpImpl {
  return {
    run(ctx, ins, a) {
      const x = need(ctx, ins[0], 0), out = ctx.alloc(x.dtype, x.shape);
      const f = make(a), s = x.data as NumArray, o = out.data as NumArray;
      for (let i = 0; i < s.length; i++) o[i] = f(s[i]);
      return [out];
    },
  };
}

const gelu = mapFloat((a) => {
  if (attrString(a, "approximate", "none") === "tanh") {
    const k = Math.sqrt(2 / Math.PI);
    return (v) => 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v * v * v)));
  }
  return (v) => 0.5 * v * (1 + erf(v / Math.SQRT2));
});

const layerNorm: OpImpl = {
  check(a, node) {
    if (a.stash_type && a.stash_type.i !== 1) unsupported(node, "stash_type other than float");
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), sc = need(ctx, ins[1], 1), bias = ins[2], r = x.shape.length;
    const axis = normAxis(ctx, attrInt(a, "axis", -1), r), eps = attrFloat(a, "epsilon", 1e-5);
    const outer = sizeOf(x.shape.slice(0, axis)), inner = sizeOf(x.shape.slice(axis));
    const y = ctx.alloc(x.dtype, x.shape);
    const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
    const mean = ctx.alloc("float32", statShape), inv = ctx.alloc("float32", statShape);
    const scale = new Float64Array(inner), shift = new Float64Array(inner);
    const innerShape = x.shape.slice(axis);
    const bcast = (t: Tensor, dst: Float64Array) => {
      const st: number[] = [];
      let s = 1;
      for (let i = t.shape.length - 1; i >= 0; i--) {
        st.unshift(t.shape[i] === 1 ? 0 : s);
        s *= t.shape[i];
      }
      const pad = innerShape.length - t.shape.length, idx = new Array<number>(innerShape.length).fill(0);
      for (let q = 0; q < inner; q++) {
        let off = 0;
        for (let d = pad; d < innerShape.length; d++) off += idx[d] * st[d - pad];
        dst[q] = Number((t.data as NumArray)[off]);
        for (let d = innerShape.length - 1; d >= 0; d--) {
          if (++idx[d] < innerShape[d]) break;
          idx[d] = 0;
        }
      }
    };
    bcast(sc, scale);
    if (bias) bcast(bias, shift);
    const xd = x.data as NumArray, yd = y.data as NumArray;
    for (let p = 0; p < outer; p++) {
      const b = p * inner;
      let m = 0;
      for (let i = 0; i < inner; i++) m += xd[b + i];
      m /= inner;
      let v = 0;
      for (let i = 0; i < inner; i++) {
        const d = xd[b + i] - m;
        v += d * d;
      }
      const is = 1 / Math.sqrt(v / inner + eps);
      for (let i = 0; i < inner; i++) yd[b + i] = (xd[b + i] - m) * is * scale[i] + shift[i];
      (mean.data as Float32Array)[p] = m;
      (inv.data as Float32Array)[p] = is;
    }
    return [y, mean, inv];
  },
};

const hardmax: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), r = x.shape.length;
    const axis = normAxis(ctx, attrInt(a, "axis", ctx.opset < 13 ? 1 : -1), r);
    const out = ctx.alloc(x.dtype, x.shape);
    const xd = x.data as NumArray, od = out.data as NumArray;
    od.fill(0);
    const [outer, dim, inner] = ctx.opset < 13
      ? [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis)), 1]
      : [sizeOf(x.shape.slice(0, axis)), x.shape[axis], sizeOf(x.shape.slice(axis + 1))];
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        const b = p * dim * inner + q;
        let best = 0;
        for (let k = 1; k < dim; k++) if (xd[b + k * inner] > xd[b + best * inner]) best = k;
        od[b + best * inner] = 1;
      }
    }
    return [out];
  },
};

const cumSum: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), r = x.shape.length;
    const axis = normAxis(ctx, ints(need(ctx, ins[1], 1))[0], r);
    const excl = attrInt(a, "exclusive", 0) === 1, rev = attrInt(a, "reverse", 0) === 1;
    const out = ctx.alloc(x.dtype, x.shape);
    const outer = sizeOf(x.shape.slice(0, axis)), dim = x.shape[axis], inner = sizeOf(x.shape.slice(axis + 1));
    const big = isBig(x.dtype);
    const xd = x.data as unknown as (number | bigint)[], od = out.data as unknown as (number | bigint)[];
    for (let p = 0; p < outer; p++) {
      for (let q = 0; q < inner; q++) {
        let acc: number | bigint = big ? 0n : 0;
        for (let j = 0; j < dim; j++) {
          const k = rev ? dim - 1 - j : j, o = (p * dim + k) * inner + q;
          const v = xd[o];
          if (excl) {
            od[o] = acc;
            acc = big ? (acc as bigint) + (v as bigint) : (acc as number) + (v as number);
          } else {
            acc = big ? (acc as bigint) + (v as bigint) : (acc as number) + (v as number);
            od[o] = acc;
          }
        }
      }
    }
    return [out];
  },
};

const isInf: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), out = ctx.alloc("bool", x.shape);
    const pos = attrInt(a, "detect_positive", 1) === 1, neg = attrInt(a, "detect_negative", 1) === 1;
    const s = x.data as NumArray, o = out.data as Uint8Array;
    for (let i = 0; i < s.length; i++) o[i] = (pos && s[i] === Infinity) || (neg && s[i] === -Infinity) ? 1 : 0;
    return [out];
  },
};

const trilu: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), r = x.shape.length;
    const k = ins[1] ? ints(ins[1])[0] : 0, upper = attrInt(a, "upper", 1) === 1;
    const out = ctx.alloc(x.dtype, x.shape);
    const rows = x.shape[r - 2], cols = x.shape[r - 1], mats = sizeOf(x.shape.slice(0, -2));
    const src = x.data as Arr, dst = out.data as Arr, zero = isBig(x.dtype) ? 0n : 0;
    for (let m = 0; m < mats; m++) {
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < cols; j++) {
          const o = (m * rows + i) * cols + j;
          dst[o] = (upper ? j - i >= k : j - i <= k) ? src[o] : zero;
        }
      }
    }
    return [out];
  },
};

/** Extra op table. @example `extraOps.ConvTranspose` */
export const extraOps: Record<string, OpImpl> = {
  Pad: pad,
  ConvTranspose: convTranspose,
  CastLike: castLike,
  Range: range,
  GatherElements: gatherElements,
  Dropout: dropout,
  Gelu: gelu,
  LayerNormalization: layerNorm,
  Hardmax: hardmax,
  CumSum: cumSum,
  IsInf: isInf,
  Trilu: trilu,
  Tan: mapFloat(() => Math.tan),
  Asin: mapFloat(() => Math.asin),
  Acos: mapFloat(() => Math.acos),
  Atan: mapFloat(() => Math.atan),
  Sinh: mapFloat(() => Math.sinh),
  Cosh: mapFloat(() => Math.cosh),
  Asinh: mapFloat(() => Math.asinh),
  Acosh: mapFloat(() => Math.acosh),
  Atanh: mapFloat(() => Math.atanh),
  Mish: mapFloat(() => (v) => v * Math.tanh(v > 20 ? v : Math.log1p(Math.exp(v)))),
  Shrink: mapFloat((a) => {
    const l = attrFloat(a, "lambd", 0.5), b = attrFloat(a, "bias", 0);
    return (v) => (v < -l ? v + b : v > l ? v - b : 0);
  }),
  Celu: mapFloat((a) => {
    const al = attrFloat(a, "alpha", 1);
    return (v) => Math.max(0, v) + Math.min(0, al * (Math.exp(v / al) - 1));
  }),
};
