/**
 * The device program as a quantized ONNX graph that onnxruntime runs bit-exactly like
 * the device (with graph optimizations disabled). Inputs and outputs are the program's
 * int8/uint8 tensors in their logical NHWC shapes (no padding).
 *
 * Mapping (docs/compiler.md):
 * - Conv, Gemm: QLinearConv (Gemm as a 1x1 convolution) between NHWC<->NCHW Transposes,
 *   then Clip for a fused clamp;
 * - Add, Mul, Concat, Requantize: DequantizeLinear -> float op -> QuantizeLinear;
 * - AveragePool: DequantizeLinear -> Pad(0) -> one strided Slice per window position,
 *   summed with Add in the format's order (column sums first, as onnxruntime's MLAS
 *   kernel, for stride_w <= 2 and kernels up to 32; else kh outer, kw inner) -> Div by
 *   the per-position count -> QuantizeLinear;
 * - GlobalAveragePool: DequantizeLinear -> Reshape [N, H*W, C] -> CumSum (sequential) ->
 *   last row -> Div -> QuantizeLinear;
 * - MaxPool, Resize: the int8 op between Transposes; Relu, Clip: int8 Clip;
 * - Lut: Cast -> Add 128 -> Gather(table); Reshape, Transpose, Slice, Split: int8 ops.
 *
 * @example
 * ```ts
 * import { programToGraph } from "./compiler/qonnx.ts";
 * import { encodeOnnx } from "./compiler/onnx_io.ts";
 * const g = programToGraph(program);
 * const bytes = encodeOnnx(g, { outputTypes: Object.fromEntries(g.outputs.map((o) => [o, "int8"])) });
 * ```
 * @module
 */
import { type Const, constant, type DType, Graph, type Node, numel } from "./graph.ts";
import type { DataRef, Program, TensorSpec } from "./program.ts";

const TO_NCHW = [0, 3, 1, 2], TO_NHWC = [0, 2, 3, 1];

function bytes(p: Program, r: DataRef): Uint8Array {
  return p.data.subarray(r.offset, r.offset + r.length);
}
function i8(p: Program, r: DataRef): Int8Array {
  const b = bytes(p, r);
  return new Int8Array(b.buffer, b.byteOffset, b.length);
}
function i32(p: Program, r: DataRef): Int32Array {
  const b = bytes(p, r).slice();
  return new Int32Array(b.buffer);
}
function f32(p: Program, r: DataRef): Float32Array {
  const b = bytes(p, r).slice();
  return new Float32Array(b.buffer);
}

/** Output size of a pooled axis (ONNX rule; the ceil rule drops a window starting in the end pad). */
function poolOut(inp: number, k: number, s: number, d: number, lo: number, hi: number, ceil: boolean): number {
  const span = inp + lo + hi - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= inp + lo) o--;
  return o;
}

/**
 * Translates a device program into an ONNX-shaped graph (compiler IR) of quantized ops.
 * Graph output element types are in `types` (int8 or uint8 per program output).
 *
 * @example
 * ```ts
 * const g = programToGraph(program);
 * ```
 */
export function programToGraph(p: Program): Graph & { types: Record<string, DType> } {
  const g = new Graph() as Graph & { types: Record<string, DType> };
  g.types = {};
  const json = p.json;
  const names = json.tensors.map((t, i) => `t${i}_${t.name.replace(/[^A-Za-z0-9_]/g, "_")}`);
  const dtypeOf = (t: TensorSpec): DType => (t.dtype === "uint8" ? "uint8" : "int8");
  let k = 0;
  const fresh = (base: string) => `${base}__${k++}`;
  const cst = (base: string, c: Const) => {
    const n = fresh(base);
    g.consts.set(n, c);
    return n;
  };
  const scaleC = (t: TensorSpec) => cst("scale", constant([], new Float32Array([t.scale]), "float32"));
  const zpC = (t: TensorSpec) => cst("zp", constant([], new Float64Array([t.zero_point]), dtypeOf(t)));
  const node = (op: string, inputs: string[], attrs: Node["attrs"] = {}, outName?: string): string => {
    const out = outName ?? fresh(op.toLowerCase());
    g.nodes.push({ op, name: fresh(`n_${op}`), inputs, outputs: [out], attrs });
    return out;
  };
  const dq = (i: number) => node("DequantizeLinear", [names[i], scaleC(json.tensors[i]), zpC(json.tensors[i])]);
  const q = (v: string, o: number) =>
    node("QuantizeLinear", [v, scaleC(json.tensors[o]), zpC(json.tensors[o])], {}, names[o]);
  const i64 = (base: string, v: number[]) => cst(base, constant([v.length], Float64Array.from(v), "int64"));

  for (const i of json.inputs) {
    const t = json.tensors[i];
    g.inputs.push({ name: names[i], shape: t.shape, dtype: dtypeOf(t) });
  }
  for (const op of json.ops) {
    const a = op as unknown as Record<string, unknown>;
    const x = op.inputs[0], y = op.outputs[0];
    const tx = json.tensors[x], ty = json.tensors[y];
    switch (op.op) {
      case "Conv":
      case "Gemm": {
        const cout = ty.shape[3];
        const isConv = op.op === "Conv";
        const [kh, kw] = isConv ? (a.kernel as number[]) : [1, 1];
        const cin = tx.shape[3];
        const group = isConv ? ((a.group as number) ?? 1) : 1;
        const cg = cin / group;
        const wq = i8(p, a.weights as DataRef);
        // OHWI -> OIHW
        const oihw = new Float64Array(wq.length);
        for (let m = 0; m < cout; m++) {
          for (let i = 0; i < kh; i++) {
            for (let j = 0; j < kw; j++) {
              for (let c = 0; c < cg; c++) {
                oihw[((m * cg + c) * kh + i) * kw + j] = wq[((m * kh + i) * kw + j) * cg + c];
              }
            }
          }
        }
        const w = cst("w", constant([cout, cg, kh, kw], oihw, "int8"));
        const ws = cst("w_scale", constant([cout], f32(p, a.w_scale as DataRef), "float32"));
        const wz = cst("w_zp", constant([cout], new Float64Array(cout), "int8"));
        const bias = a.bias ? cst("bias", constant([cout], Float64Array.from(i32(p, a.bias as DataRef)), "int32")) : "";
        const xin = node("Transpose", [names[x]], { perm: TO_NCHW });
        const attrs: Node["attrs"] = { kernel_shape: [kh, kw] };
        if (isConv) {
          attrs.strides = (a.strides as number[]) ?? [1, 1];
          attrs.dilations = (a.dilations as number[]) ?? [1, 1];
          const pd = (a.pads as number[]) ?? [0, 0, 0, 0];
          attrs.pads = [pd[0], pd[1], pd[2], pd[3]];
          attrs.group = group;
        }
        // QLinearConv needs x and y of one type: a uint8 <-> int8 output is computed in x's
        // type with the zero point shifted by 128, then shifted back (exact)
        const shift = dtypeOf(tx) === dtypeOf(ty) ? 0 : dtypeOf(tx) === "uint8" ? 128 : -128;
        const yzp = shift ? cst("zp", constant([], new Float64Array([ty.zero_point + shift]), dtypeOf(tx))) : zpC(ty);
        let qc = node(
          "QLinearConv",
          [xin, scaleC(tx), zpC(tx), w, ws, wz, scaleC(ty), yzp, ...(bias ? [bias] : [])],
          attrs,
        );
        if (shift) {
          const wide = node("Add", [
            node("Cast", [qc], { to: 6 }),
            cst("shift", constant([], new Float64Array([-shift]), "int32")),
          ]);
          qc = node("Cast", [wide], { to: ty.dtype === "uint8" ? 2 : 3 });
        }
        const clamp = a.clamp as number[] | undefined;
        const back = node("Transpose", [qc], { perm: TO_NHWC }, clamp ? undefined : names[y]);
        if (clamp) {
          node(
            "Clip",
            [
              back,
              cst("lo", constant([], new Float64Array([clamp[0]]), dtypeOf(ty))),
              cst("hi", constant([], new Float64Array([clamp[1]]), dtypeOf(ty))),
            ],
            {},
            names[y],
          );
        }
        break;
      }
      case "Add":
      case "Mul":
        q(node(op.op, [dq(op.inputs[0]), dq(op.inputs[1])]), y);
        break;
      case "Requantize":
        q(dq(x), y);
        break;
      case "Concat":
        q(node("Concat", op.inputs.map(dq), { axis: a.axis as number }), y);
        break;
      case "Relu":
        node(
          "Clip",
          [
            names[x],
            zpC(tx),
            cst("hi", constant([], new Float64Array([tx.dtype === "uint8" ? 255 : 127]), dtypeOf(tx))),
          ],
          {},
          names[y],
        );
        break;
      case "Clip":
        node(
          "Clip",
          [
            names[x],
            cst("lo", constant([], new Float64Array([a.lo as number]), dtypeOf(tx))),
            cst("hi", constant([], new Float64Array([a.hi as number]), dtypeOf(tx))),
          ],
          {},
          names[y],
        );
        break;
      case "MaxPool": {
        const t = node("Transpose", [names[x]], { perm: TO_NCHW });
        const mp = node("MaxPool", [t], {
          kernel_shape: a.kernel as number[],
          strides: (a.strides as number[]) ?? [1, 1],
          pads: (a.pads as number[]) ?? [0, 0, 0, 0],
          dilations: (a.dilations as number[]) ?? [1, 1],
          ceil_mode: (a.ceil_mode as number) ?? 0,
        });
        node("Transpose", [mp], { perm: TO_NHWC }, names[y]);
        break;
      }
      case "AveragePool":
      case "GlobalAveragePool": {
        const [N, H, W, C] = tx.shape;
        const global = op.op === "GlobalAveragePool";
        const [kh, kw] = global ? [H, W] : (a.kernel as number[]);
        const [sh, sw] = global ? [1, 1] : ((a.strides as number[]) ?? [1, 1]);
        const [pt, pl, pb, pr] = global ? [0, 0, 0, 0] : ((a.pads as number[]) ?? [0, 0, 0, 0]);
        const ceil = !global && a.ceil_mode === 1;
        const incl = !global && a.count_include_pad === 1;
        const OH = poolOut(H, kh, sh, 1, pt, pb, ceil), OW = poolOut(W, kw, sw, 1, pl, pr, ceil);
        const counts = new Float32Array(OH * OW);
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            let c = 0;
            for (let i = 0; i < kh; i++) {
              const ih = oh * sh - pt + i;
              for (let j = 0; j < kw; j++) {
                const iw = ow * sw - pl + j;
                if (incl ? ih < H + pb && iw < W + pr : ih >= 0 && ih < H && iw >= 0 && iw < W) c++;
              }
            }
            counts[oh * OW + ow] = c;
          }
        }
        const cnt = cst("count", constant([1, OH, OW, 1], counts, "float32"));
        const v = dq(x);
        let sum: string;
        if (global) {
          const r = node("Reshape", [v, i64("shape", [N, H * W, C])]);
          const cs = node("CumSum", [r, cst("axis", constant([], new Float64Array([1]), "int32"))]);
          sum = node("Slice", [cs, i64("s", [H * W - 1]), i64("e", [H * W]), i64("ax", [1])]);
          sum = node("Reshape", [sum, i64("shape", [N, 1, 1, C])]);
        } else {
          const needH = (OH - 1) * sh + kh, needW = (OW - 1) * sw + kw;
          const padB = Math.max(0, needH - H - pt), padR = Math.max(0, needW - W - pl);
          const padded = node("Pad", [v, i64("pads", [0, pt, pl, 0, 0, padB, padR, 0])], { mode: "constant" });
          const slice = (i: number, j: number) =>
            node("Slice", [
              padded,
              i64("s", [i, j]),
              i64("e", [i + (OH - 1) * sh + 1, j + (OW - 1) * sw + 1]),
              i64("ax", [1, 2]),
              i64("st", [sh, sw]),
            ]);
          const add = (acc: string, t: string) => (acc ? node("Add", [acc, t]) : t);
          // the format's order: column sums first where onnxruntime's MLAS kernel does so
          const whole = kh === H && kw === W && sh === 1 && sw === 1 && pt + pl + pb + pr === 0;
          const colFirst = !whole && sw <= 2 && kh <= 32 && kw <= 32 && pl + W + pr <= 2045;
          sum = "";
          for (let o = 0; o < (colFirst ? kw : kh); o++) {
            if (!colFirst) {
              for (let j = 0; j < kw; j++) sum = add(sum, slice(o, j));
              continue;
            }
            let col = "";
            for (let i = 0; i < kh; i++) col = add(col, slice(i, o));
            sum = add(sum, col);
          }
        }
        q(node("Div", [sum, cnt]), y);
        break;
      }
      case "Lut": {
        const table = bytes(p, a.table as DataRef);
        const tb = cst(
          "table",
          constant(
            [256],
            Float64Array.from(ty.dtype === "uint8" ? table : new Int8Array(table.buffer, table.byteOffset, 256)),
            dtypeOf(ty),
          ),
        );
        let idx = node("Cast", [names[x]], { to: 6 });
        if (tx.dtype !== "uint8") idx = node("Add", [idx, cst("off", constant([], new Float64Array([128]), "int32"))]);
        node("Gather", [tb, idx], { axis: 0 }, names[y]);
        break;
      }
      case "Pad": {
        // NHWC directly: pads on axes 1 (H) and 2 (W)
        const [t, l, b, r] = a.pads as number[];
        const mode = ["constant", "edge", "reflect"][(a.mode as number) ?? 0];
        const v = (a.value as number | undefined) ?? tx.zero_point;
        const pads = i64("pads", [0, t, l, 0, 0, b, r, 0]);
        const ins = [names[x], pads];
        if (mode === "constant") ins.push(cst("value", constant([], new Float64Array([v]), dtypeOf(tx))));
        node("Pad", ins, { mode }, names[y]);
        break;
      }
      case "ChannelLut": {
        // index = x (+128 for int8) + 256 * channel, gathered from the flattened tables
        const C = tx.shape[3];
        const table = bytes(p, a.table as DataRef);
        const tb = cst(
          "table",
          constant(
            [256 * C],
            Float64Array.from(ty.dtype === "uint8" ? table : new Int8Array(table.buffer, table.byteOffset, 256 * C)),
            dtypeOf(ty),
          ),
        );
        const off = Float64Array.from({ length: C }, (_, c) => 256 * c + (tx.dtype === "uint8" ? 0 : 128));
        const idx = node("Add", [node("Cast", [names[x]], { to: 6 }), cst("off", constant([C], off, "int32"))]);
        node("Gather", [tb, idx], { axis: 0 }, names[y]);
        break;
      }
      case "Resize": {
        const [sh, sw] = a.scales as number[];
        const t = node("Transpose", [names[x]], { perm: TO_NCHW });
        const r = node("Resize", [t, "", cst("scales", constant([4], new Float32Array([1, 1, sh, sw]), "float32"))], {
          mode: "nearest",
          coordinate_transformation_mode: "asymmetric",
          nearest_mode: "floor",
        });
        node("Transpose", [r], { perm: TO_NHWC }, names[y]);
        break;
      }
      case "Reshape":
        node("Reshape", [names[x], i64("shape", ty.shape)], {}, names[y]);
        break;
      case "Transpose":
        node("Transpose", [names[x]], { perm: a.perm as number[] }, names[y]);
        break;
      case "Slice":
        node(
          "Slice",
          [
            names[x],
            i64("s", a.starts as number[]),
            i64("e", a.ends as number[]),
            i64("ax", [0, 1, 2, 3]),
            i64("st", (a.steps as number[]) ?? [1, 1, 1, 1]),
          ],
          {},
          names[y],
        );
        break;
      case "Split": {
        const out = op.outputs.map((o) => names[o]);
        g.nodes.push({
          op: "Split",
          name: fresh("n_Split"),
          inputs: [names[x], i64("split", a.sizes as number[])],
          outputs: out,
          attrs: { axis: a.axis as number },
        });
        break;
      }
      default:
        throw new Error(`op ${op.op} has no ONNX form`);
    }
  }
  for (const o of json.outputs) {
    g.outputs.push(names[o]);
    g.types[names[o]] = dtypeOf(json.tensors[o]);
    g.shapes.set(names[o], json.tensors[o].shape);
  }
  void numel;
  return g;
}
