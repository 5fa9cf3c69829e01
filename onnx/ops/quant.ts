/**
 * QuantizeLinear and DequantizeLinear (per-tensor and per-axis; int8/uint8/int16/
 * uint16/int32 zero points).
 *
 * @example
 * ```ts
 * import { quantOps } from "./quant.ts";
 * const q = quantOps.QuantizeLinear;
 * ```
 * @module
 */
import { type NumArray, roundHalfEven } from "../numeric.ts";
import { type DType, dtypeOf, sizeOf } from "../tensor.ts";
import { attrInt, need, normAxis, type OpImpl, unsupported } from "./types.ts";

const RANGE: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  uint16: [0, 65535],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
};

function paramIndex(xShape: number[], pShape: number[], axis: number): { outer: number; ch: number; inner: number } {
  if (sizeOf(pShape) <= 1) return { outer: 1, ch: 1, inner: sizeOf(xShape) };
  return { outer: sizeOf(xShape.slice(0, axis)), ch: xShape[axis], inner: sizeOf(xShape.slice(axis + 1)) };
}

const quantize: OpImpl = {
  check(a, node) {
    if (attrInt(a, "block_size", 0)) unsupported(node, "attribute block_size");
    const od = attrInt(a, "output_dtype", 0);
    if (od && !RANGE[dtypeOf(od) ?? "string"]) unsupported(node, `output_dtype ${od}`);
    if (attrInt(a, "saturate", 1) !== 1) unsupported(node, "attribute saturate");
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), s = need(ctx, ins[1], 1), zp = ins[2];
    const od = attrInt(a, "output_dtype", 0);
    const dtype: DType = zp ? zp.dtype : od ? dtypeOf(od)! : "uint8";
    const range = RANGE[dtype];
    if (!range) unsupported(ctx.node, `quantizing to ${dtype}`);
    const out = ctx.alloc(dtype, x.shape);
    const axis = sizeOf(s.shape) > 1 ? normAxis(ctx, attrInt(a, "axis", 1), x.shape.length) : 0;
    const { outer, ch, inner } = paramIndex(x.shape, s.shape, axis);
    const xd = x.data as NumArray,
      sd = s.data as NumArray,
      zd = zp ? zp.data as NumArray : null,
      o = out.data as NumArray;
    const [lo, hi] = range;
    if (
      xd instanceof Float32Array && sd instanceof Float32Array && (o instanceof Uint8Array || o instanceof Int8Array)
    ) {
      quantizeF32(xd, sd, zd, o, outer, ch, inner, lo, hi);
      return [out];
    }
    const f32 = x.dtype === "float32";
    for (let p = 0; p < outer; p++) {
      for (let c = 0; c < ch; c++) {
        const sc = sd[c], z = zd ? zd[c] : 0, base = (p * ch + c) * inner;
        for (let i = 0; i < inner; i++) {
          let v = roundHalfEven(f32 ? Math.fround(xd[base + i] / sc) : xd[base + i] / sc) + z;
          v = v < lo ? lo : v > hi ? hi : v;
          o[base + i] = v;
        }
      }
    }
    return [out];
  },
};

/**
 * The float32 -> 8-bit loop of QuantizeLinear (the common case, kept monomorphic): the same
 * operations as the generic loop, `roundHalfEven(fround(x / scale)) + zp` clamped.
 */
function quantizeF32(
  xd: Float32Array,
  sd: Float32Array,
  zd: NumArray | null,
  o: Uint8Array | Int8Array,
  outer: number,
  ch: number,
  inner: number,
  lo: number,
  hi: number,
): void {
  for (let p = 0; p < outer; p++) {
    for (let c = 0; c < ch; c++) {
      const sc = sd[c], z = zd ? Number(zd[c]) : 0, base = (p * ch + c) * inner;
      for (let i = base; i < base + inner; i++) {
        const q = Math.fround(xd[i] / sc);
        let r = Math.round(q);
        if (r - q === 0.5 && (r & 1) !== 0) r -= 1; // roundHalfEven, inlined
        const v = r + z;
        o[i] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  }
}

const dequantize: OpImpl = {
  check(a, node) {
    if (attrInt(a, "block_size", 0)) unsupported(node, "attribute block_size");
  },
  run(ctx, ins, a) {
    const x = need(ctx, ins[0], 0), s = need(ctx, ins[1], 1), zp = ins[2];
    if (!RANGE[x.dtype]) unsupported(ctx.node, `dequantizing ${x.dtype}`);
    const out = ctx.alloc(s.dtype, x.shape);
    const axis = sizeOf(s.shape) > 1 ? normAxis(ctx, attrInt(a, "axis", 1), x.shape.length) : 0;
    const { outer, ch, inner } = paramIndex(x.shape, s.shape, axis);
    const xd = x.data as NumArray,
      sd = s.data as NumArray,
      zd = zp ? zp.data as NumArray : null,
      o = out.data as NumArray;
    for (let p = 0; p < outer; p++) {
      for (let c = 0; c < ch; c++) {
        const sc = sd[c], z = zd ? zd[c] : 0, base = (p * ch + c) * inner;
        for (let i = 0; i < inner; i++) o[base + i] = (xd[base + i] - z) * sc;
      }
    }
    return [out];
  },
};

/** Quantization op table. @example `quantOps.DequantizeLinear` */
export const quantOps: Record<string, OpImpl> = { QuantizeLinear: quantize, DequantizeLinear: dequantize };
