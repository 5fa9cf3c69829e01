/**
 * Folds into a Conv what Keras/TF-converted graphs write around it: per-channel (or
 * scalar) constant Sub/Mul/Add/Div after the Conv (into weights and bias), Mul before it
 * (into weights), Add/Sub before an unpadded Conv (into the bias), and a constant zero
 * `Pad` before a Conv or a MaxPool (into its pads). No fold crosses a rounding point of
 * a QDQ model (a tensor with given quantization), so a fold never changes an int8 value
 * of a QDQ model.
 *
 * @example
 * ```ts
 * import { foldAffineIntoConv, foldPad } from "./compiler/fold_conv.ts";
 * while (foldAffineIntoConv(graph) || foldPad(graph));
 * ```
 * @module
 */
import { attrA, type Const, constant, type Graph, type Node, numel } from "./graph.ts";

/** Does a QDQ model round (quantize) this tensor? @example `rounds(g, "conv1_out")` */
export function rounds(g: Graph, t: string): boolean {
  return g.quant.has(t);
}

function soleConsumer(g: Graph, name: string): Node | undefined {
  const cs = g.consumers(name);
  return cs.length === 1 && !g.outputs.includes(name) ? cs[0] : undefined;
}

/** The per-channel values of a constant broadcast against a rank-r NCHW tensor with C channels (undefined: not per channel). */
function perChannel(c: Const, rank: number, C: number): ((ch: number) => number) | undefined {
  if (numel(c.dims) === 1) return () => c.data[0];
  if (c.dims.length > rank) return undefined;
  const cd = [...new Array(rank - c.dims.length).fill(1), ...c.dims];
  if (numel(c.dims) !== C || cd[1] !== C || cd.some((d, i) => i !== 1 && d !== 1)) return undefined;
  return (ch) => c.data[ch];
}

/** The Conv, its constant weights and bias (undefined when the node is not such a Conv). */
function constConv(g: Graph, conv: Node | undefined) {
  if (!conv || conv.op !== "Conv" || !g.consts.has(conv.inputs[1])) return undefined;
  if (conv.inputs[2] && !g.consts.has(conv.inputs[2])) return undefined;
  const w = g.consts.get(conv.inputs[1])!;
  if (w.dims.length !== 4) return undefined;
  const b = conv.inputs[2] ? g.consts.get(conv.inputs[2])! : undefined;
  return { w, b, M: w.dims[0], per: numel(w.dims.slice(1)) };
}

function setConv(g: Graph, conv: Node, x: string, dims: number[], nw: Float32Array, nb: Float32Array): void {
  const wn = g.fresh(`${conv.name}_w_f`), bn = g.fresh(`${conv.name}_b_f`);
  g.consts.set(wn, constant(dims, nw, "float32"));
  g.consts.set(bn, constant([dims[0]], nb, "float32"));
  conv.inputs = [x, wn, bn];
}

/** A binary node with one constant operand: the activation operand, the constant, and whether the constant comes first. */
function constOperand(g: Graph, n: Node) {
  if (n.inputs.length !== 2) return undefined;
  const ci = g.consts.has(n.inputs[1]) ? 1 : g.consts.has(n.inputs[0]) ? 0 : -1;
  if (ci < 0 || g.consts.has(n.inputs[1 - ci])) return undefined;
  return { x: n.inputs[1 - ci], c: g.consts.get(n.inputs[ci])!, first: ci === 0 };
}

/** y = x*s + t per channel of an affine node (undefined when it is not one). */
function affineOf(g: Graph, n: Node, C: number, rank: number) {
  if (!["Mul", "Add", "Sub", "Div"].includes(n.op)) return undefined;
  const o = constOperand(g, n);
  if (!o || o.c.dtype !== "float32") return undefined;
  const v = perChannel(o.c, rank, C);
  if (!v) return undefined;
  if ((n.op === "Sub" || n.op === "Div") && o.first) return undefined;
  switch (n.op) {
    case "Mul":
      return { x: o.x, s: v, t: () => 0 };
    case "Div":
      return { x: o.x, s: (c: number) => 1 / v(c), t: () => 0 };
    case "Add":
      return { x: o.x, s: () => 1, t: v };
    default:
      return { x: o.x, s: () => 1, t: (c: number) => -v(c) };
  }
}

/**
 * Conv -> per-channel or scalar constant Mul/Add/Sub/Div: folded into the Conv's weights
 * and bias. Per-channel Mul before a Conv: folded into its weights; Add/Sub before a Conv
 * without padding: folded into its bias. Never across a QDQ rounding point.
 *
 * @example
 * ```ts
 * while (foldAffineIntoConv(graph));
 * ```
 */
export function foldAffineIntoConv(g: Graph): boolean {
  for (const n of g.nodes) {
    if (!["Mul", "Add", "Sub", "Div"].includes(n.op)) continue;
    const o = constOperand(g, n);
    if (!o) continue;
    // after the Conv
    const conv = g.producer(o.x);
    const cc = constConv(g, conv);
    if (cc && conv && soleConsumer(g, o.x) === n && !rounds(g, o.x)) {
      const rank = g.shapes.get(o.x)?.length ?? 4;
      const a = affineOf(g, n, cc.M, rank);
      if (a && rank === 4) {
        const nw = Float32Array.from(cc.w.data), nb = new Float32Array(cc.M);
        for (let m = 0; m < cc.M; m++) {
          const s = a.s(m);
          for (let k = 0; k < cc.per; k++) nw[m * cc.per + k] *= s;
          nb[m] = (cc.b ? cc.b.data[m] : 0) * s + a.t(m);
        }
        setConv(g, conv, conv.inputs[0], cc.w.dims, nw, nb);
        conv.outputs = [n.outputs[0]];
        g.nodes = g.nodes.filter((m) => m !== n);
        return true;
      }
    }
    // before the Conv
    const next = soleConsumer(g, n.outputs[0]);
    const nc = constConv(g, next);
    if (!nc || !next || next.inputs[0] !== n.outputs[0] || rounds(g, n.outputs[0])) continue;
    const C = g.shapes.get(o.x)?.[1];
    if (C === undefined || (g.shapes.get(o.x)?.length ?? 0) !== 4) continue;
    const a = affineOf(g, n, C, 4);
    if (!a) continue;
    const [M, cg, kh, kw] = nc.w.dims;
    const group = C / cg, mg = M / group;
    const padded = ((next.attrs.auto_pad as string) ?? "NOTSET").startsWith("SAME") ||
      attrA(next, "pads", [0, 0, 0, 0]).some((p) => p !== 0);
    const shifts = Array.from({ length: C }, (_, c) => a.t(c)).some((t) => t !== 0);
    if (shifts && padded) continue; // the padding would see the shift: not foldable
    const nw = Float32Array.from(nc.w.data), nb = new Float32Array(M);
    for (let m = 0; m < M; m++) {
      let acc = nc.b ? nc.b.data[m] : 0;
      const g0 = Math.floor(m / mg) * cg;
      for (let c = 0; c < cg; c++) {
        const s = a.s(g0 + c), t = a.t(g0 + c);
        for (let k = 0; k < kh * kw; k++) {
          const i = (m * cg + c) * kh * kw + k;
          acc += nc.w.data[i] * t;
          nw[i] = nc.w.data[i] * s;
        }
      }
      nb[m] = acc;
    }
    setConv(g, next, a.x, nc.w.dims, nw, nb);
    g.nodes = g.nodes.filter((m) => m !== n);
    return true;
  }
  return false;
}

/** Constant pads of a Pad node ([begin..., end...]) and its value; undefined when not constant. */
function padsOf(g: Graph, n: Node): { pads: number[]; value: number; mode: string } | undefined {
  const mode = (n.attrs.mode as string) ?? "constant";
  let pads = n.attrs.pads as number[] | undefined;
  if (n.inputs[1]) {
    const c = g.consts.get(n.inputs[1]);
    if (!c) return undefined;
    pads = Array.from(c.data);
  }
  if (!pads) return undefined;
  if (n.inputs[3]) return undefined; // axes input: rare, not folded
  let value = typeof n.attrs.value === "number" ? n.attrs.value : 0;
  if (n.inputs[2]) {
    const c = g.consts.get(n.inputs[2]);
    if (!c || numel(c.dims) !== 1) return undefined;
    value = c.data[0];
  }
  return { pads, value, mode };
}

/** Is every value of this tensor >= 0 (a Relu output, or a QDQ grid whose lowest code is 0)? */
function nonNegative(g: Graph, t: string): boolean {
  const q = g.quant.get(t);
  if (q && q.zeroPoint === -128) return true;
  const p = g.producer(t);
  return !!p && (p.op === "Relu" || (p.op === "Clip" && typeof p.attrs.min === "number" && p.attrs.min >= 0));
}

/**
 * A constant-mode Pad of spatial axes only, value 0, read only by a Conv (or by a MaxPool
 * when its input is never negative): its pads join the Conv's (MaxPool's). Never across a
 * QDQ rounding point that changes the grid.
 *
 * @example
 * ```ts
 * foldPad(graph); // Pad(0, [0,0,1,1,0,0,1,1]) -> Conv  becomes  Conv(pads += [1,1,1,1])
 * ```
 */
export function foldPad(g: Graph): boolean {
  for (const n of g.nodes) {
    if (n.op !== "Pad" || g.consts.has(n.inputs[0])) continue;
    const p = padsOf(g, n);
    const rank = g.shapes.get(n.inputs[0])?.length;
    if (!p || p.mode !== "constant" || p.value !== 0 || rank !== 4 || p.pads.length !== 8) continue;
    if (p.pads.some((v, i) => v < 0 || (i % 4 < 2 && v !== 0))) continue;
    const qi = g.quant.get(n.inputs[0]), qo = g.quant.get(n.outputs[0]);
    if (qo && (!qi || qi.scale !== qo.scale || qi.zeroPoint !== qo.zeroPoint)) continue;
    const next = soleConsumer(g, n.outputs[0]);
    if (!next || next.inputs[0] !== n.outputs[0]) continue;
    if (next.op !== "Conv" && !(next.op === "MaxPool" && nonNegative(g, n.inputs[0]))) continue;
    if (((next.attrs.auto_pad as string) ?? "NOTSET").startsWith("SAME")) continue;
    if (next.op === "MaxPool") {
      const k = attrA(next, "kernel_shape", [1, 1]);
      if (next.outputs[1] || [2, 3, 6, 7].some((i) => p.pads[i] >= k[i % 4 - 2])) continue;
    }
    const old = attrA(next, "pads", [0, 0, 0, 0]);
    next.attrs = {
      ...next.attrs,
      auto_pad: "NOTSET",
      pads: [old[0] + p.pads[2], old[1] + p.pads[3], old[2] + p.pads[6], old[3] + p.pads[7]],
    };
    if (next.attrTypes && !next.attrTypes.pads) next.attrTypes = { ...next.attrTypes, pads: 7 };
    next.inputs = [n.inputs[0], ...next.inputs.slice(1)];
    g.nodes = g.nodes.filter((m) => m !== n);
    return true;
  }
  return false;
}
