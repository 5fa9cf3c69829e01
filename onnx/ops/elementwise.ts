/**
 * Element-wise ops: arithmetic with broadcasting, comparisons, logic, activations,
 * Clip, Where, Cast, Identity.
 *
 * @example
 * ```ts
 * import { elementwiseOps } from "./elementwise.ts";
 * const add = elementwiseOps.Add;
 * ```
 * @module
 */
import { OnnxGraphError } from "../errors.ts";
import {
  binaryAny,
  binaryF,
  BinOp,
  broadcastShape,
  broadcastTo,
  clampF,
  type NumArray,
  unaryF,
  UnOp,
} from "../numeric.ts";
import { allocData, type DType, dtypeOf, type Tensor } from "../tensor.ts";
import {
  attrFloat,
  attrInt,
  type Attrs,
  isBig,
  isFloat,
  need,
  type OpContext,
  type OpImpl,
  shapeError,
  unsupported,
} from "./types.ts";

function outShapeOf(ctx: OpContext, a: Tensor, b: Tensor): number[] {
  const s = broadcastShape(a.shape, b.shape);
  if (!s) shapeError(ctx, `shapes [${a.shape}] and [${b.shape}] do not broadcast`);
  return s;
}

function toF64(t: Tensor): Float64Array {
  const o = new Float64Array(t.data.length);
  for (let i = 0; i < o.length; i++) o[i] = Number(t.data[i]);
  return o;
}

const bigFns: Record<number, (x: bigint, y: bigint) => bigint> = {
  0: (x, y) => x + y,
  1: (x, y) => x - y,
  2: (x, y) => x * y,
  3: (x, y) => (y === 0n ? 0n : x / y),
  4: (x, y) => (y < 0n ? (x === 1n ? 1n : 0n) : x ** y),
  5: (x, y) => (x > y ? x : y),
  6: (x, y) => (x < y ? x : y),
  7: (x, y) => {
    if (y === 0n) return 0n;
    const r = x % y;
    return r !== 0n && (r < 0n) !== (y < 0n) ? r + y : r;
  },
  8: (x, y) => (y === 0n ? 0n : x % y),
};

function arith(op: number): OpImpl {
  return {
    run(ctx, ins) {
      const a = need(ctx, ins[0], 0), b = need(ctx, ins[1], 1);
      // one type T for both inputs (Pow alone has an exponent type of its own): a model
      // that mixes them is invalid, and onnxruntime refuses it
      if (op !== BinOp.Pow && a.dtype !== b.dtype) {
        shapeError(ctx, `inputs of types ${a.dtype} and ${b.dtype}: both must be of one type`);
      }
      const shape = outShapeOf(ctx, a, b);
      const out = ctx.alloc(a.dtype, shape);
      if (isBig(a.dtype)) {
        const bb = isBig(b.dtype)
          ? b.data as BigInt64Array
          : BigInt64Array.from(b.data as NumArray, (v) => BigInt(Math.trunc(v)));
        const f = bigFns[op];
        const wrap = a.dtype === "uint64" ? (v: bigint) => BigInt.asUintN(64, v) : (v: bigint) => BigInt.asIntN(64, v);
        binaryAny(
          out.data as BigInt64Array,
          shape,
          a.data as BigInt64Array,
          a.shape,
          bb,
          b.shape,
          (x, y) => wrap(f(x, y)),
        );
        return [out];
      }
      const ad = a.data as NumArray;
      const bd = b.dtype === a.dtype ? b.data as NumArray : toF64(b);
      if (isFloat(a.dtype) || (op !== BinOp.Div && op !== BinOp.Pow)) {
        if (!isFloat(a.dtype) && (op === BinOp.Mod || op === BinOp.FMod)) {
          binaryAny(out.data as NumArray, shape, ad, a.shape, bd, b.shape, (x, y) => {
            if (y === 0) return 0;
            const r = x % y;
            return op === BinOp.Mod && r !== 0 && (r < 0) !== (y < 0) ? r + y : r;
          });
        } else binaryF(op, out.data as NumArray, shape, ad, a.shape, bd, b.shape);
      } else if (op === BinOp.Div) {
        binaryAny(out.data as NumArray, shape, ad, a.shape, bd, b.shape, (x, y) => (y === 0 ? 0 : Math.trunc(x / y)));
      } else {
        binaryF(op, out.data as NumArray, shape, ad, a.shape, bd, b.shape);
      }
      return [out];
    },
  };
}

function variadic(op: number, mean = false): OpImpl {
  const two = arith(op);
  return {
    run(ctx, ins) {
      const xs = ins.filter((t): t is Tensor => !!t);
      if (xs.length === 0) shapeError(ctx, "needs at least one input");
      let acc = xs[0];
      if (xs.length === 1) {
        acc = ctx.alloc(xs[0].dtype, xs[0].shape);
        (acc.data as NumArray).set(xs[0].data as NumArray);
      }
      for (let i = 1; i < xs.length; i++) acc = two.run(ctx, [acc, xs[i]], {})[0];
      if (mean) {
        const d = acc.data as NumArray;
        for (let i = 0; i < d.length; i++) d[i] /= xs.length;
      }
      return [acc];
    },
  };
}

/** A broadcast binary op with a bool output: the comparisons, and And/Or/Xor over bool inputs. */
function compare(f: (x: number | bigint, y: number | bigint) => boolean): OpImpl {
  return {
    run(ctx, ins) {
      const a = need(ctx, ins[0], 0), b = need(ctx, ins[1], 1);
      if (a.dtype !== b.dtype) shapeError(ctx, `inputs of types ${a.dtype} and ${b.dtype}: both must be of one type`);
      const shape = outShapeOf(ctx, a, b);
      const out = ctx.alloc("bool", shape);
      binaryAny(
        out.data as Uint8Array,
        shape,
        a.data as NumArray,
        a.shape,
        b.data as NumArray,
        b.shape,
        (x, y) => (f(x, y) ? 1 : 0),
      );
      return [out];
    },
  };
}

function unary(op: number, intFn?: (v: number) => number, bigFn?: (v: bigint) => bigint): OpImpl {
  return {
    run(ctx, ins) {
      const x = need(ctx, ins[0], 0);
      const out = ctx.alloc(x.dtype, x.shape);
      if (isFloat(x.dtype)) unaryF(op, x.data as NumArray, out.data as NumArray);
      else if (isBig(x.dtype)) {
        if (!bigFn) shapeError(ctx, `dtype ${x.dtype} is not supported`);
        const s = x.data as BigInt64Array, o = out.data as BigInt64Array;
        for (let i = 0; i < s.length; i++) o[i] = bigFn(s[i]);
      } else {
        if (!intFn) shapeError(ctx, `dtype ${x.dtype} is not supported`);
        const s = x.data as NumArray, o = out.data as NumArray;
        for (let i = 0; i < s.length; i++) o[i] = intFn(s[i]);
      }
      return [out];
    },
  };
}

function mapF(f: (v: number, a: Attrs) => (v: number) => number): OpImpl {
  return {
    run(ctx, ins, a) {
      const x = need(ctx, ins[0], 0);
      const out = ctx.alloc(x.dtype, x.shape);
      const g = f(0, a), s = x.data as NumArray, o = out.data as NumArray;
      for (let i = 0; i < s.length; i++) o[i] = g(s[i]);
      return [out];
    },
  };
}

function castValue(to: DType): (v: number | bigint) => number | bigint {
  switch (to) {
    case "int64":
    case "uint64": {
      const wrap = to === "uint64" ? (b: bigint) => BigInt.asUintN(64, b) : (b: bigint) => BigInt.asIntN(64, b);
      return (v) => typeof v === "bigint" ? wrap(v) : Number.isFinite(v) ? wrap(BigInt(Math.trunc(v))) : 0n;
    }
    case "bool":
      return (v) => (typeof v === "bigint" ? v !== 0n : v !== 0) ? 1 : 0;
    case "float32":
    case "float64":
      return (v) => Number(v);
    default:
      return (v) => {
        const n = typeof v === "bigint" ? Number(BigInt.asIntN(32, v)) : v;
        return Number.isFinite(n) ? Math.trunc(n) : 0;
      };
  }
}

/** Casts a tensor's data into a fresh array of `to` (exported for QuantizeLinear/tests). @example `castData(t, "int64")` */
export function castInto(src: Tensor, out: Tensor): void {
  const f = castValue(out.dtype), s = src.data, o = out.data as unknown as (number | bigint)[];
  if (isFloat(out.dtype) && !isBig(src.dtype)) {
    (out.data as NumArray).set(s as NumArray);
    return;
  }
  for (let i = 0; i < s.length; i++) o[i] = f(s[i] as number | bigint);
}

const where: OpImpl = {
  run(ctx, ins) {
    const c = need(ctx, ins[0], 0), x = need(ctx, ins[1], 1), y = need(ctx, ins[2], 2);
    const s1 = outShapeOf(ctx, c, x), shape = broadcastShape(s1, y.shape);
    if (!shape) shapeError(ctx, `shapes do not broadcast`);
    const out = ctx.alloc(x.dtype, shape);
    const n = out.data.length;
    const cb = new Uint8Array(n), xb = allocData(x.dtype, n), yb = allocData(y.dtype, n);
    broadcastTo(cb, shape, c.data as Uint8Array, c.shape);
    broadcastTo(xb as NumArray, shape, x.data as NumArray, x.shape);
    broadcastTo(yb as NumArray, shape, y.data as NumArray, y.shape);
    const o = out.data as NumArray, xa = xb as NumArray, ya = yb as NumArray;
    for (let i = 0; i < n; i++) o[i] = cb[i] ? xa[i] : ya[i];
    return [out];
  },
};

const clip: OpImpl = {
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    const out = ctx.alloc(x.dtype, x.shape);
    if (isBig(x.dtype)) {
      const lo = ins[1] ? (ins[1].data as BigInt64Array)[0] : null,
        hi = ins[2] ? (ins[2].data as BigInt64Array)[0] : null;
      const s = x.data as BigInt64Array, o = out.data as BigInt64Array;
      for (let i = 0; i < s.length; i++) {
        let v = s[i];
        if (lo !== null && v < lo) v = lo;
        if (hi !== null && v > hi) v = hi;
        o[i] = v;
      }
      return [out];
    }
    let lo = -Infinity, hi = Infinity;
    if (ctx.opset < 11) {
      lo = attrFloat(a, "min", -Infinity);
      hi = attrFloat(a, "max", Infinity);
    } else {
      if (ins[1]) lo = Number(ins[1].data[0]);
      if (ins[2]) hi = Number(ins[2].data[0]);
    }
    clampF(x.data as NumArray, out.data as NumArray, lo, hi);
    return [out];
  },
};

const cast: OpImpl = {
  check(a, node) {
    const to = dtypeOf(attrInt(a, "to", 0));
    if (!to || to === "float16" || to === "string") unsupported(node, `Cast to data type ${attrInt(a, "to", 0)}`);
    if (a.saturate && a.saturate.i !== 1) unsupported(node, "attribute saturate");
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0);
    const out = ctx.alloc(dtypeOf(attrInt(a, "to", 1))!, x.shape);
    castInto(x, out);
    return [out];
  },
};

const identity: OpImpl = { run: (ctx, ins) => [need(ctx, ins[0], 0)] };

const not: OpImpl = {
  run(ctx, ins) {
    const x = need(ctx, ins[0], 0), out = ctx.alloc("bool", x.shape);
    const s = x.data as Uint8Array, o = out.data as Uint8Array;
    for (let i = 0; i < s.length; i++) o[i] = s[i] ? 0 : 1;
    return [out];
  },
};

const isNaNOp: OpImpl = {
  run(ctx, ins) {
    const x = need(ctx, ins[0], 0), out = ctx.alloc("bool", x.shape);
    const s = x.data as NumArray, o = out.data as Uint8Array;
    for (let i = 0; i < s.length; i++) o[i] = s[i] !== s[i] ? 1 : 0;
    return [out];
  },
};

const prelu: OpImpl = {
  run(ctx, ins) {
    const x = need(ctx, ins[0], 0), s = need(ctx, ins[1], 1);
    const shape = outShapeOf(ctx, x, s), out = ctx.alloc(x.dtype, shape);
    binaryAny(
      out.data as NumArray,
      shape,
      x.data as NumArray,
      x.shape,
      s.data as NumArray,
      s.shape,
      (v, k) => (v < 0 ? v * k : v),
    );
    return [out];
  },
};

const absInt = (v: number) => Math.abs(v), negInt = (v: number) => -v;
const absBig = (v: bigint) => (v < 0n ? -v : v), negBig = (v: bigint) => BigInt.asIntN(64, -v);

/** Element-wise op table. @example `elementwiseOps.Relu` */
export const elementwiseOps: Record<string, OpImpl> = {
  Add: arith(BinOp.Add),
  Sub: arith(BinOp.Sub),
  Mul: arith(BinOp.Mul),
  Div: arith(BinOp.Div),
  Pow: arith(BinOp.Pow),
  Mod: {
    ...arith(BinOp.Mod),
    run(ctx, ins, a) {
      return arith(attrInt(a, "fmod", 0) ? BinOp.FMod : BinOp.Mod).run(ctx, ins, a);
    },
  },
  Max: variadic(BinOp.Max),
  Min: variadic(BinOp.Min),
  Sum: variadic(BinOp.Add),
  Mean: variadic(BinOp.Add, true),
  Equal: compare((x, y) => x === y),
  Greater: compare((x, y) => x > y),
  Less: compare((x, y) => x < y),
  GreaterOrEqual: compare((x, y) => x >= y),
  LessOrEqual: compare((x, y) => x <= y),
  And: compare((x, y) => !!x && !!y),
  Or: compare((x, y) => !!x || !!y),
  Xor: compare((x, y) => !!x !== !!y),
  Not: not,
  Neg: unary(UnOp.Neg, negInt, negBig),
  Abs: unary(UnOp.Abs, absInt, absBig),
  Sign: unary(UnOp.Sign, Math.sign, (v) => (v > 0n ? 1n : v < 0n ? -1n : 0n)),
  Sqrt: unary(UnOp.Sqrt),
  Exp: unary(UnOp.Exp),
  Log: unary(UnOp.Log),
  Sigmoid: unary(UnOp.Sigmoid),
  Tanh: unary(UnOp.Tanh),
  Relu: unary(UnOp.Relu, (v) => (v > 0 ? v : 0), (v) => (v > 0n ? v : 0n)),
  Floor: unary(UnOp.Floor),
  Ceil: unary(UnOp.Ceil),
  Reciprocal: unary(UnOp.Reciprocal),
  Sin: unary(UnOp.Sin),
  Cos: unary(UnOp.Cos),
  Round: unary(UnOp.Round),
  Erf: unary(UnOp.Erf),
  Softplus: unary(UnOp.Softplus),
  Softsign: unary(UnOp.Softsign),
  IsNaN: isNaNOp,
  LeakyRelu: mapF((_, a) => {
    const al = attrFloat(a, "alpha", 0.01);
    return (v) => (v < 0 ? al * v : v);
  }),
  Elu: mapF((_, a) => {
    const al = attrFloat(a, "alpha", 1);
    return (v) => (v < 0 ? al * (Math.exp(v) - 1) : v);
  }),
  Selu: mapF((_, a) => {
    const al = attrFloat(a, "alpha", 1.67326319217681884765625), g = attrFloat(a, "gamma", 1.05070102214813232421875);
    return (v) => (v <= 0 ? g * (al * Math.exp(v) - al) : g * v);
  }),
  HardSigmoid: mapF((_, a) => {
    const al = attrFloat(a, "alpha", 0.2), be = attrFloat(a, "beta", 0.5);
    return (v) => Math.max(0, Math.min(1, al * v + be));
  }),
  HardSwish: mapF(() => (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5))),
  // opset 24: x * Sigmoid(alpha * x)
  Swish: mapF((_, a) => {
    const al = attrFloat(a, "alpha", 1);
    return (v) => v / (1 + Math.exp(-al * v));
  }),
  ThresholdedRelu: mapF((_, a) => {
    const al = attrFloat(a, "alpha", 1);
    return (v) => (v > al ? v : 0);
  }),
  PRelu: prelu,
  Clip: clip,
  Where: where,
  Cast: cast,
  Identity: identity,
};

export { OnnxGraphError };
