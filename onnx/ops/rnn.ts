/**
 * Recurrent ops: LSTM, GRU and RNN (opset 7 and opset 14's `layout`), forward, reverse and
 * bidirectional, with `sequence_lens`, initial states, LSTM peepholes and `clip`.
 *
 * Semantics, written once here:
 * - The input projections of all time steps are one product `X W^T` (the runner's MatMul,
 *   {@link gemm}), to which the summed biases `Wb + Rb` are added (onnxruntime sums the two
 *   biases first too); each step then adds its recurrent product `H_{t-1} R^T`, the
 *   peepholes, clips to [-clip, clip] when `clip` is set, and applies the activation.
 *   Every intermediate is stored as float32 (the tensors' dtype).
 * - Activations are the runner's own unary ops ({@link unaryF}): Sigmoid, Tanh, Relu,
 *   Softsign, Softplus. Others (HardSigmoid, LeakyRelu, ...: they need activation_alpha /
 *   activation_beta) and LSTM's `input_forget` are refused when the graph loads.
 * - `sequence_lens[b]`: batch entry b runs its first len steps (the reverse direction runs
 *   them from step len-1 down to 0); Y is 0 from step len on and Y_h / Y_c hold the state
 *   after its last step.
 * - GRU's `linear_before_reset` 0 multiplies `(r . H_{t-1}) R_h^T`; 1 multiplies first:
 *   `r . (H_{t-1} R_h^T + Rb_h)`, and then only Wb_h is in the summed bias.
 *
 * @example
 * ```ts
 * import { rnnOps } from "./rnn.ts";
 * console.log(Object.keys(rnnOps)); // ["LSTM", "GRU", "RNN"]
 * ```
 * @module
 */
import { type NumArray, unaryF, UnOp } from "../numeric.ts";
import { gemm, GEMM_KERNEL_MIN } from "../numeric_nn.ts";
import { gemm as kGemm } from "../../kernels/mod.ts";
import { packedConstant } from "./nn.ts";
import type { Tensor } from "../tensor.ts";
import {
  attrInt,
  type Attrs,
  attrString,
  need,
  type OpContext,
  type OpImpl,
  shapeError,
  unsupported,
} from "./types.ts";
import type { NodeProto } from "../model.ts";

/** The activations a recurrent op may name, as the runner's unary op codes. */
const ACTIVATIONS: Record<string, number> = {
  Sigmoid: UnOp.Sigmoid,
  Tanh: UnOp.Tanh,
  Relu: UnOp.Relu,
  Softsign: UnOp.Softsign,
  Softplus: UnOp.Softplus,
};

interface Kind {
  /** Gates per direction (W has gates * hidden rows). */
  gates: number;
  /** Activations per direction, by default. */
  defaults: string[];
}

const KINDS: Record<"LSTM" | "GRU" | "RNN", Kind> = {
  LSTM: { gates: 4, defaults: ["Sigmoid", "Tanh", "Tanh"] },
  GRU: { gates: 3, defaults: ["Sigmoid", "Tanh"] },
  RNN: { gates: 1, defaults: ["Tanh"] },
};

function directions(a: Attrs, node: NodeProto): ("forward" | "reverse")[] {
  const d = attrString(a, "direction", "forward");
  if (d === "forward" || d === "reverse") return [d];
  if (d === "bidirectional") return ["forward", "reverse"];
  unsupported(node, `direction '${d}'`);
}

/** The activation op codes per direction (the `activations` attribute, else the defaults). */
function activations(a: Attrs, node: NodeProto, kind: Kind): number[][] {
  const n = directions(a, node).length;
  const names = a.activations?.strings?.map((s) => new TextDecoder().decode(s));
  const list = names ?? Array.from({ length: n }, () => kind.defaults).flat();
  if (list.length !== kind.defaults.length * n) {
    unsupported(node, `${list.length} activations for ${n} direction(s) (expected ${kind.defaults.length * n})`);
  }
  const codes = list.map((s) => {
    const c = ACTIVATIONS[s] ?? ACTIVATIONS[Object.keys(ACTIVATIONS).find((k) => k.toLowerCase() === s.toLowerCase())!];
    if (c === undefined) unsupported(node, `activation '${s}'`);
    return c;
  });
  return Array.from({ length: n }, (_, d) => codes.slice(d * kind.defaults.length, (d + 1) * kind.defaults.length));
}

function check(kind: Kind) {
  return (a: Attrs, node: NodeProto): void => {
    activations(a, node, kind);
    if (attrInt(a, "input_forget", 0) !== 0) unsupported(node, "input_forget");
    const layout = attrInt(a, "layout", 0);
    if (layout !== 0 && layout !== 1) unsupported(node, `layout ${layout}`);
  };
}

/** `w` [rows, cols] from `off` transposed into a new [cols, rows] array. */
function transposed(w: NumArray, off: number, rows: number, cols: number): Float32Array | Float64Array {
  const t = w instanceof Float64Array ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[off + r * cols + c];
  return t;
}

/** Transposed weights per direction of the graph's constant weight arrays, computed once. */
const TRANSPOSED = new WeakMap<object, (Float32Array | Float64Array)[]>();

/**
 * `w` transposed per direction; kept across runs only when `w` is a graph constant (a
 * weight computed by the graph, or fed, may hold other values in the same array next run).
 */
function weightsT(w: Tensor, dirs: number, constant: boolean): (Float32Array | Float64Array)[] {
  let t = constant ? TRANSPOSED.get(w.data as object) : undefined;
  if (!t) {
    const [, rows, cols] = w.shape;
    t = Array.from({ length: dirs }, (_, d) => transposed(w.data as NumArray, d * rows * cols, rows, cols));
    if (constant) TRANSPOSED.set(w.data as object, t);
  }
  return t;
}

/**
 * `c[m, n] = a[m, k] bT[k, n]` as {@link gemm} computes it; a constant float32 `bT` big
 * enough for the kernel is packed in the kernels' memory once ({@link packedConstant}: the
 * same products in the same order, so the same bits, and no copy of it per call).
 */
function product(
  a: NumArray,
  bT: Float32Array | Float64Array,
  c: NumArray,
  m: number,
  n: number,
  k: number,
  constant: boolean,
): void {
  if (
    constant && k > 0 && m * n * k >= GEMM_KERNEL_MIN && a instanceof Float32Array && bT instanceof Float32Array &&
    c instanceof Float32Array
  ) {
    kGemm(a.subarray(0, m * k), packedConstant(bT, k, n), c.subarray(0, m * n), m, n, k, {
      aRowStride: k,
      aColStride: 1,
      bRowStride: n,
    });
    return;
  }
  gemm(a, 0, k, 1, bT, 0, n, 1, c, 0, m, n, k, false);
}

function run(name: keyof typeof KINDS): OpImpl {
  const kind = KINDS[name];
  return {
    check: check(kind),
    run(ctx: OpContext, ins: (Tensor | undefined)[], a: Attrs): Tensor[] {
      const x = need(ctx, ins[0], 0), w = need(ctx, ins[1], 1), r = need(ctx, ins[2], 2);
      const [b, seqLens, h0, c0, p] = [ins[3], ins[4], ins[5], ins[6], ins[7]];
      if (x.dtype !== "float32" && x.dtype !== "float64") shapeError(ctx, `dtype ${x.dtype} (float32 or float64 only)`);
      const dirs = directions(a, ctx.node), acts = activations(a, ctx.node, kind);
      const nd = dirs.length, G = kind.gates, layout = attrInt(a, "layout", 0);
      if (x.shape.length !== 3 || w.shape.length !== 3 || r.shape.length !== 3) {
        shapeError(ctx, "X, W and R must be 3-D");
      }
      const [S, N] = layout ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
      const I = x.shape[2], H = r.shape[2];
      const hs = attrInt(a, "hidden_size", H);
      if (hs !== H || w.shape[0] !== nd || w.shape[1] !== G * H || w.shape[2] !== I) {
        shapeError(ctx, `W [${w.shape}] does not match ${nd} direction(s) x ${G} gates x hidden ${hs} x input ${I}`);
      }
      if (r.shape[0] !== nd || r.shape[1] !== G * H) shapeError(ctx, `R [${r.shape}] does not match W [${w.shape}]`);
      if (b && (b.shape[0] !== nd || b.shape[1] !== 2 * G * H)) {
        shapeError(ctx, `B [${b.shape}] does not match ${nd} direction(s) x hidden ${H}`);
      }
      if (p && (p.shape[0] !== nd || p.shape[1] !== 3 * H)) shapeError(ctx, `P [${p.shape}] must be [${nd}, ${3 * H}]`);
      const lens = Array.from({ length: N }, (_, n) => (seqLens ? Number(seqLens.data[n]) : S));
      if (lens.some((l) => !(l >= 0 && l <= S))) shapeError(ctx, `sequence_lens [${lens}] outside 0..${S}`);
      const clip = a.clip?.f;
      const lbr = name === "GRU" && attrInt(a, "linear_before_reset", 0) !== 0;

      const named = (i: number) => !!ctx.node.outputs[i];
      const make = (i: number, shape: number[]): Tensor =>
        named(i)
          ? ctx.alloc(x.dtype, shape)
          : { data: new Float64Array(shape.reduce((s, v) => s * v, 1)), shape, dtype: "float64" };
      const y = make(0, layout ? [N, S, nd, H] : [S, nd, N, H]);
      const yh = make(1, layout ? [N, nd, H] : [nd, N, H]);
      // Y_c: LSTM's cell state (GRU and RNN have no third output)
      const yc = name === "LSTM" ? make(2, layout ? [N, nd, H] : [nd, N, H]) : undefined;
      const Y = y.data as NumArray, YH = yh.data as NumArray, YC = yc?.data as NumArray | undefined;
      Y.fill(0);
      const F = x.dtype === "float64" ? Float64Array : Float32Array;
      const X = x.data as NumArray;
      // state index (direction d, batch n) in initial_h / Y_h under the layout
      const stateAt = (d: number, n: number) => (layout ? (n * nd + d) * H : (d * N + n) * H);
      const constW = ctx.isConstant?.(ctx.node.inputs[1]) ?? false;
      const constR = ctx.isConstant?.(ctx.node.inputs[2]) ?? false;
      const wT = weightsT(w, nd, constW), rT = weightsT(r, nd, constR);
      // per-step scratch
      const hr = new F(N * G * H), gate = new F(H), act = new F(H), rh = new F(H), g1 = new F(H), g2 = new F(H);
      for (let d = 0; d < nd; d++) {
        const [f, g, h] = acts[d];
        // X W^T + (Wb + Rb) for all time steps: rows in X's order
        const xw = new F(S * N * G * H);
        product(X, wT[d], xw, S * N, G * H, I, constW);
        const bias = new F(G * H), rbh = new F(H);
        if (b) {
          const bd = b.data as NumArray, o = d * b.shape[1];
          for (let j = 0; j < G * H; j++) {
            const rb = bd[o + G * H + j];
            if (lbr && j >= 2 * H) {
              bias[j] = bd[o + j];
              rbh[j - 2 * H] = rb;
            } else bias[j] = bd[o + j] + rb;
          }
        }
        for (let q = 0; q < S * N; q++) for (let j = 0; j < G * H; j++) xw[q * G * H + j] += bias[j];
        const hPrev = new F(N * H), cPrev = new F(N * H);
        for (let n = 0; n < N; n++) {
          for (let k = 0; k < H; k++) {
            hPrev[n * H + k] = h0 ? (h0.data as NumArray)[stateAt(d, n) + k] : 0;
            cPrev[n * H + k] = c0 ? (c0.data as NumArray)[stateAt(d, n) + k] : 0;
          }
        }
        const P = p?.data as NumArray | undefined, po = d * 3 * H;
        for (let t = 0; t < S; t++) {
          // H_{t-1} R^T for every batch entry (GRU without linear_before_reset: its h block is unused)
          product(hPrev, rT[d], hr, N, G * H, H, constR);
          for (let n = 0; n < N; n++) {
            if (t >= lens[n]) continue;
            const tt = dirs[d] === "forward" ? t : lens[n] - 1 - t;
            const row = (layout ? n * S + tt : tt * N + n) * G * H, hq = n * G * H, s = n * H;
            const pre = (j: number) => {
              const v = xw[row + j] + hr[hq + j];
              return clip === undefined ? v : Math.max(-clip, Math.min(clip, v));
            };
            const yo = (layout ? (n * S + tt) * nd + d : (tt * nd + d) * N + n) * H;
            if (name === "LSTM") {
              const i = g1, fo = g2;
              for (let k = 0; k < H; k++) gate[k] = pre(k) + (P ? P[po + k] * cPrev[s + k] : 0);
              unaryF(f, gate, i);
              for (let k = 0; k < H; k++) gate[k] = pre(2 * H + k) + (P ? P[po + 2 * H + k] * cPrev[s + k] : 0);
              unaryF(f, gate, fo);
              for (let k = 0; k < H; k++) gate[k] = pre(3 * H + k);
              unaryF(g, gate, act);
              for (let k = 0; k < H; k++) cPrev[s + k] = fo[k] * cPrev[s + k] + i[k] * act[k];
              for (let k = 0; k < H; k++) gate[k] = pre(H + k) + (P ? P[po + H + k] * cPrev[s + k] : 0);
              unaryF(f, gate, fo); // o
              for (let k = 0; k < H; k++) gate[k] = cPrev[s + k];
              unaryF(h, gate, act);
              for (let k = 0; k < H; k++) hPrev[s + k] = fo[k] * act[k];
            } else if (name === "GRU") {
              const z = g1, rg = g2;
              for (let k = 0; k < H; k++) gate[k] = pre(k);
              unaryF(f, gate, z);
              for (let k = 0; k < H; k++) gate[k] = pre(H + k);
              unaryF(f, gate, rg);
              if (lbr) {
                for (let k = 0; k < H; k++) {
                  const v = xw[row + 2 * H + k] + rg[k] * (hr[hq + 2 * H + k] + rbh[k]);
                  gate[k] = clip === undefined ? v : Math.max(-clip, Math.min(clip, v));
                }
              } else {
                for (let k = 0; k < H; k++) rh[k] = rg[k] * hPrev[s + k];
                gemm(rh, 0, H, 1, rT[d], 2 * H, G * H, 1, act, 0, 1, H, H, false);
                for (let k = 0; k < H; k++) {
                  const v = xw[row + 2 * H + k] + act[k];
                  gate[k] = clip === undefined ? v : Math.max(-clip, Math.min(clip, v));
                }
              }
              unaryF(g, gate, act);
              for (let k = 0; k < H; k++) hPrev[s + k] = (1 - z[k]) * act[k] + z[k] * hPrev[s + k];
            } else {
              for (let k = 0; k < H; k++) gate[k] = pre(k);
              unaryF(f, gate, act);
              for (let k = 0; k < H; k++) hPrev[s + k] = act[k];
            }
            for (let k = 0; k < H; k++) Y[yo + k] = hPrev[s + k];
          }
        }
        for (let n = 0; n < N; n++) {
          for (let k = 0; k < H; k++) {
            YH[stateAt(d, n) + k] = hPrev[n * H + k];
            if (YC) YC[stateAt(d, n) + k] = cPrev[n * H + k];
          }
        }
      }
      return yc ? [y, yh, yc] : [y, yh];
    },
  };
}

/** LSTM, GRU and RNN by op_type. @example `rnnOps.LSTM` */
export const rnnOps: Record<string, OpImpl> = { LSTM: run("LSTM"), GRU: run("GRU"), RNN: run("RNN") };
