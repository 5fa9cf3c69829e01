/**
 * The runner's load-time graph optimization (`OnnxGraph` runs it unless
 * `{ optimize: false }`): rewrites of the topologically ordered steps, each only
 * where the value in between has a single consumer and is not a graph output.
 *
 * 0. Requantized moves (optimize_moves.ts): a QuantizeLinear -> DequantizeLinear pair after
 *    a data-movement op that puts a value back onto the grid it came from is dropped.
 * 1. Folding: a Conv, ConvTranspose or Gemm with constant weights, followed by affine ops
 *    with constant per-output-channel operands (Add, Sub of a constant, Mul,
 *    BatchNormalization), becomes one node with new weights and bias. The per-channel
 *    affine `y = s * conv(x) + t` is accumulated in float64 and rounded to float32 once:
 *    `w' = f32(w * s)`, `b' = f32(s * b + t)`. Numerics: a single Add folded into a
 *    node without bias is bit-exact (the node adds the bias after its sum, as Add did);
 *    Mul and BatchNormalization scale the weights before the sum instead of the sum, and
 *    several Adds add their constants first, so those differ from the unfused graph by
 *    float32 rounding: `|y' - y| <= (k + 2) * 2^-24 * sum |terms|` for a sum of k products
 *    (the bound the tests check), as in onnxruntime, which folds the same way.
 * 2. Activation fusion: a float32 2-D ConvTranspose followed by Relu, Sigmoid or Clip
 *    (constant bounds) runs as one kernel call that applies the activation while writing
 *    the output (`fusedConvTranspose` in ops/fused.ts); a ConvTranspose without one becomes
 *    the same kernel stage (activation "none"), so that it joins a pipeline.
 * 3. Element-wise chains: runs of Relu, Sigmoid, Clip, Add/Sub/Mul/Div with one operand
 *    from the chain, BatchNormalization (its per-channel `x * k + off` in float32 steps)
 *    and QuantizeLinear -> DequantizeLinear pairs with the same per-tensor constant scale
 *    and zero point (the QDQ graphs' fake quantization) run in one pass on the kernels
 *    (`elementwiseChain`); bit-exact (same float32 operations in the same order, a NaN
 *    quantized to 0 as the runner stores it), with the original ops as the fallback when a
 *    run's shapes or dtypes do not fit the kernel.
 * 4. Pipelines: kernel stages (the fused steps of 2 and 3, and float32 Softmax, Transpose
 *    and 1x1 Conv where they run on the kernels) that feed each other run as one step whose
 *    values in between stay in the kernels' memory (`pipeline`): no copy out and back in.
 *    Within one, a Softmax and the chain after it run in one pass, a 1x1 Conv after a
 *    Transpose reads through the permutation (no transposed copy), and two ConvTransposes
 *    in a row run as one streamed pair whose constants (weights, biases, chain operands and
 *    programs) are copied into the kernels' memory once per planned shape; same bits.
 * 5. Concats (optimize_concat.ts): a Concat whose inputs come from chains, or whose output
 *    a chain reads, writes each input's range of its output from that input's chain, with
 *    the chain after it applied in the same kernel call (`concatChain`); same bits.
 *
 * @example
 * ```ts
 * import { OnnxGraph } from "./graph.ts";
 * const bytes = new Uint8Array(await Deno.readFile("postamble.onnx"));
 * const folded = OnnxGraph.fromBytes(bytes);                       // optimized
 * const plain = OnnxGraph.fromBytes(bytes, { optimize: false });  // op by op, as written
 * ```
 * @module
 */
import type { Activation, QdqStep } from "../kernels/fused.ts";
import type { AttributeProto, NodeProto } from "./model.ts";
import { type ChainOp, elementwiseChain, fusedConvTranspose, type KernelStage, pipeline } from "./ops/fused.ts";
import type { Attrs, OpImpl } from "./ops/types.ts";
import { attrFloat, attrInt } from "./ops/types.ts";
import { dtypeOf, type Tensor } from "./tensor.ts";
import { batchNormCoefficients } from "./ops/nn.ts";
import { dropRequantizedMoves } from "./optimize_moves.ts";
import { fuseConcats } from "./optimize_concat.ts";

/** A compiled node: what the runner executes. */
export interface Step {
  node: NodeProto;
  op: OpImpl;
  attrs: Attrs;
}

/** What the optimizer needs of the graph. */
export interface GraphView {
  /** Initializers by name (the optimizer adds folded weights here). */
  constants: Map<string, Tensor>;
  /** Names of the graph outputs. */
  outputs: Set<string>;
  /** Default-domain opset. */
  opset: number;
}

/**
 * Rewrites `steps` (topologically ordered): folds, fuses activations and chains.
 * @example `steps = optimizeSteps(steps, { constants, outputs: new Set(["y"]), opset: 13 })`
 */
export function optimizeSteps(steps: Step[], g: GraphView): Step[] {
  return fuseConcats(pipelines(chains(fuseActivations(fold(dropRequantizedMoves(steps, g), g), g), g), g), g);
}

function consumers(steps: (Step | null)[]): Map<string, number[]> {
  const m = new Map<string, number[]>();
  steps.forEach((s, i) => {
    if (!s) return;
    for (const n of s.node.inputs) if (n) (m.get(n) ?? m.set(n, []).get(n)!).push(i);
  });
  return m;
}

/** The single consumer of `name`, or -1 (several, none, or a graph output). */
function onlyConsumer(name: string, uses: Map<string, number[]>, g: GraphView): number {
  const u = uses.get(name);
  if (!u || u.length !== 1 || g.outputs.has(name)) return -1;
  return u[0];
}

function f32Const(g: GraphView, name: string | undefined): Float32Array | undefined {
  if (!name) return undefined;
  const t = g.constants.get(name);
  return t && t.dtype === "float32" ? t.data as Float32Array : undefined;
}

/**
 * Per-channel values of a constant that broadcasts along axis `axis` of a rank-`rank`
 * output with `m` channels (scalar or `[.., m, 1, ..]`), as float64; else undefined.
 */
function perChannel(g: GraphView, name: string, rank: number, axis: number, m: number): Float64Array | undefined {
  const t = g.constants.get(name);
  if (!t || t.dtype !== "float32" || t.shape.length > rank) return undefined;
  const d = t.data as Float32Array;
  const shape = [...new Array(rank - t.shape.length).fill(1), ...t.shape];
  if (shape.some((v, i) => i !== axis && v !== 1)) return undefined;
  if (shape[axis] === 1) return new Float64Array(m).fill(d[0]);
  if (shape[axis] !== m) return undefined;
  return Float64Array.from(d);
}

let folded = 0;

function attrMap(attrs: AttributeProto[]): Attrs {
  const a: Attrs = {};
  for (const x of attrs) a[x.name] = x;
  return a;
}

/** Pass 1: Conv / ConvTranspose / Gemm + affine per-channel ops -> new weights and bias. */
function fold(steps: Step[], g: GraphView): Step[] {
  const out: (Step | null)[] = [...steps];
  let uses = consumers(out);
  for (let i = 0; i < out.length; i++) {
    const s = out[i];
    if (!s) continue;
    const t = s.node.opType;
    if (t !== "Conv" && t !== "ConvTranspose" && t !== "Gemm") continue;
    const w = g.constants.get(s.node.inputs[1]);
    if (!w || w.dtype !== "float32" || s.node.outputs.length !== 1) continue;
    const bName = s.node.inputs[2];
    if (bName && !f32Const(g, bName)) continue;
    let m: number, rank: number, axis: number;
    if (t === "Gemm") {
      // y[i, j] = alpha * (A B)[i, j] + beta * C: channels are the columns j of B
      const tb = attrInt(s.attrs, "transB", 0);
      if (w.shape.length !== 2 || attrFloat(s.attrs, "beta", 1) !== 1 || attrFloat(s.attrs, "alpha", 1) !== 1) continue;
      m = tb ? w.shape[0] : w.shape[1];
      rank = 2;
      axis = 1;
      const c = g.constants.get(bName ?? "");
      if (bName && (!c || c.shape.length === 2 && c.shape[0] !== 1 || c.data.length !== m)) continue;
    } else {
      if (w.shape.length < 3) continue;
      m = t === "Conv" ? w.shape[0] : w.shape[1] * attrInt(s.attrs, "group", 1);
      rank = w.shape.length;
      axis = 1;
      if (bName && g.constants.get(bName)!.data.length !== m) continue;
    }
    const scale = new Float64Array(m).fill(1);
    const shift = new Float64Array(m);
    if (bName) shift.set(f32Const(g, bName)!);
    let scaled = false, last = s.node.outputs[0], absorbed = 0;
    const names = [s.node.name];
    for (;;) {
      const j = onlyConsumer(last, uses, g);
      if (j < 0) break;
      const c = out[j]!, n = c.node;
      if (n.outputs.length !== 1) break;
      const other = n.inputs[0] === last ? n.inputs[1] : n.inputs[0];
      if (n.opType === "Add" || n.opType === "Mul" || (n.opType === "Sub" && n.inputs[0] === last)) {
        if (n.inputs.length !== 2 || n.inputs[0] === n.inputs[1]) break;
        const v = perChannel(g, other, rank, axis, m);
        if (!v) break;
        if (n.opType === "Add") { for (let k = 0; k < m; k++) shift[k] += v[k]; }
        else if (n.opType === "Sub") { for (let k = 0; k < m; k++) shift[k] -= v[k]; }
        else {
          for (let k = 0; k < m; k++) {
            scale[k] *= v[k];
            shift[k] *= v[k];
          }
          scaled = true;
        }
      } else if (n.opType === "BatchNormalization" && t !== "Gemm" && n.inputs[0] === last) {
        const p = [1, 2, 3, 4].map((k) => f32Const(g, n.inputs[k]));
        if (p.some((v) => !v || v.length !== m)) break;
        const [sc, bi, mean, vr] = p as Float32Array[];
        const eps = attrFloat(c.attrs, "epsilon", 1e-5);
        for (let k = 0; k < m; k++) {
          const kk = sc[k] / Math.sqrt(vr[k] + eps);
          scale[k] *= kk;
          shift[k] = shift[k] * kk + (bi[k] - mean[k] * kk);
        }
        scaled = true;
      } else break;
      names.push(n.name);
      last = n.outputs[0];
      out[j] = null;
      absorbed++;
    }
    if (!absorbed) continue;
    const id = `__folded${folded++}`;
    let wName = s.node.inputs[1];
    if (scaled) {
      const wd = w.data as Float32Array, nw = new Float32Array(wd.length);
      const per = wd.length / (t === "Gemm" ? 1 : w.shape[0]);
      for (let e = 0; e < wd.length; e++) {
        let oc: number;
        if (t === "Conv") oc = Math.floor(e / per);
        else if (t === "ConvTranspose") {
          // [c, m / group, k...]: group of input channel ic owns channels g * mg ..
          const mg = w.shape[1], kSize = per / mg, ic = Math.floor(e / per);
          const group = attrInt(s.attrs, "group", 1), cg = w.shape[0] / group;
          oc = Math.floor(ic / cg) * mg + Math.floor((e % per) / kSize);
        } else oc = attrInt(s.attrs, "transB", 0) ? Math.floor(e / w.shape[1]) : e % w.shape[1];
        nw[e] = wd[e] * scale[oc];
      }
      wName = `${id}_w`;
      g.constants.set(wName, { data: nw, shape: [...w.shape], dtype: "float32" });
    }
    const bFolded = `${id}_b`;
    g.constants.set(bFolded, { data: Float32Array.from(shift), shape: [m], dtype: "float32" });
    const inputs = [s.node.inputs[0], wName, bFolded];
    const attrs = s.node.attributes;
    const node: NodeProto = { ...s.node, name: names.join("+"), inputs, outputs: [last], attributes: attrs };
    out[i] = { node, op: s.op, attrs: attrMap(attrs) };
    uses = consumers(out);
  }
  return out.filter((s): s is Step => s !== null);
}

/** A Relu / Sigmoid / constant Clip as a chain activation, else undefined. */
function activationOf(s: Step, g: GraphView): Activation | undefined {
  const n = s.node;
  if (n.opType === "Relu") return { kind: "relu" };
  if (n.opType === "Sigmoid") return { kind: "sigmoid" };
  if (n.opType === "Clip") {
    let lo = -Infinity, hi = Infinity;
    if (g.opset < 11) {
      lo = attrFloat(s.attrs, "min", -Infinity);
      hi = attrFloat(s.attrs, "max", Infinity);
    } else {
      const a = n.inputs[1] ? f32Const(g, n.inputs[1]) : undefined;
      const b = n.inputs[2] ? f32Const(g, n.inputs[2]) : undefined;
      if ((n.inputs[1] && (!a || a.length !== 1)) || (n.inputs[2] && (!b || b.length !== 1))) return undefined;
      if (a) lo = a[0];
      if (b) hi = b[0];
    }
    return { kind: "clip", lo, hi };
  }
  return undefined;
}

/** Pass 2: ConvTranspose (+ activation) -> one kernel call. */
function fuseActivations(steps: Step[], g: GraphView): Step[] {
  const out: (Step | null)[] = [...steps];
  const uses = consumers(out);
  for (let i = 0; i < out.length; i++) {
    const s = out[i];
    if (!s || s.node.opType !== "ConvTranspose" || s.node.outputs.length !== 1) continue;
    const j = onlyConsumer(s.node.outputs[0], uses, g);
    const act = j < 0 ? undefined : activationOf(out[j]!, g);
    if (!act || out[j]!.node.inputs[0] !== s.node.outputs[0]) {
      // alone: a kernel stage too, so that it joins a pipeline with the chains around it
      const node: NodeProto = { ...s.node, inputs: [s.node.inputs[0], s.node.inputs[1], s.node.inputs[2] ?? ""] };
      out[i] = { node, op: fusedConvTranspose(s, undefined, { kind: "none" }), attrs: s.attrs };
      continue;
    }
    const a = out[j]!;
    const ci = s.node.inputs;
    const inputs = [ci[0], ci[1], ci[2] ?? "", ...a.node.inputs.slice(1)];
    const node: NodeProto = { ...s.node, name: `${s.node.name}+${a.node.name}`, inputs, outputs: a.node.outputs };
    out[i] = { node, op: fusedConvTranspose(s, a, act), attrs: s.attrs };
    out[j] = null;
  }
  return out.filter((s): s is Step => s !== null);
}

const BINARY = new Set(["Add", "Sub", "Mul", "Div"]);

/** One link of a chain: its ops, the steps it takes (by index), its output and new operands. */
interface Link {
  ops: ChainOp[];
  steps: number[];
  out: string;
  operands: string[];
}

let bnConsts = 0;

/** Pass 3: runs of element-wise ops -> one chain step each. */
function chains(steps: Step[], g: GraphView): Step[] {
  const out: (Step | null)[] = [...steps];
  const uses = consumers(out);
  const link = (k: number, value: string): Link | undefined => {
    const s = out[k]!, n = s.node;
    if (n.outputs.length !== 1 || n.inputs[0] === undefined) return undefined;
    const one = (op: ChainOp | undefined): Link | undefined =>
      op && { ops: [op], steps: [k], out: n.outputs[0], operands: [] };
    if (BINARY.has(n.opType)) {
      if (n.inputs.length !== 2 || n.inputs[0] === n.inputs[1]) return undefined;
      const reverse = n.inputs[1] === value;
      if (!reverse && n.inputs[0] !== value) return undefined;
      const op = n.opType.toLowerCase() as "add" | "sub" | "mul" | "div";
      return one({ kind: "binary", op, reverse, operand: reverse ? n.inputs[0] : n.inputs[1] });
    }
    if (n.inputs[0] !== value) return undefined;
    if (n.opType === "QuantizeLinear") {
      const j = onlyConsumer(n.outputs[0], uses, g);
      const q = j >= 0 ? qdqOf(s, out[j]!, g) : undefined;
      return q && { ops: [q], steps: [k, j], out: out[j]!.node.outputs[0], operands: [] };
    }
    if (n.opType === "BatchNormalization") {
      const p = [1, 2, 3, 4].map((i) => f32Const(g, n.inputs[i]));
      const c = p[0]?.length ?? 0;
      if (p.some((v) => !v || v.length !== c) || attrInt(s.attrs, "training_mode", 0)) return undefined;
      const [sc, bi, mean, vr] = p as Float32Array[];
      const { k: kc, off } = batchNormCoefficients(sc, bi, mean, vr, attrFloat(s.attrs, "epsilon", 1e-5), true, c);
      const id = `__bn${bnConsts++}`;
      g.constants.set(`${id}_k`, { data: Float32Array.from(kc), shape: [c], dtype: "float32" });
      g.constants.set(`${id}_off`, { data: Float32Array.from(off), shape: [c], dtype: "float32" });
      const mul: ChainOp = { kind: "binary", op: "mul", reverse: false, operand: `${id}_k`, axis: 1 };
      const add: ChainOp = { kind: "binary", op: "add", reverse: false, operand: `${id}_off`, axis: 1 };
      return { ops: [mul, add], steps: [k], out: n.outputs[0], operands: [`${id}_k`, `${id}_off`] };
    }
    return one(activationOf(s, g));
  };
  for (let i = 0; i < out.length; i++) {
    const s = out[i];
    if (!s) continue;
    const [in0, in1] = s.node.inputs;
    // the chain's value is the non-constant operand of a first binary op
    const first = BINARY.has(s.node.opType) && in1 && g.constants.has(in0) && !g.constants.has(in1) ? in1 : in0;
    const l0 = first ? link(i, first) : undefined;
    if (!l0) continue;
    const members: Step[] = [], ops: ChainOp[] = [], linked: string[] = [];
    const take = (l: Link) => {
      for (const k of l.steps) members.push(out[k]!);
      for (const k of l.steps) if (k !== i) out[k] = null;
      ops.push(...l.ops);
      linked.push(...l.operands);
    };
    take(l0);
    let last = l0.out;
    for (;;) {
      const j = onlyConsumer(last, uses, g);
      if (j < 0) break;
      const l = link(j, last);
      if (!l || ops.length + l.ops.length > MAX_CHAIN) break;
      // a runtime operand must be computed before the chain's first step runs
      const late = l.ops.some((op) =>
        op.kind === "binary" && !g.constants.has(op.operand) && !availableBefore(op.operand, i, out)
      );
      if (late) break;
      take(l);
      last = l.out;
    }
    const inside = new Set([first, ...members.map((m) => m.node.outputs[0])]);
    const operands = [
      ...new Set([...members.flatMap((m) => m.node.inputs.filter((n) => n && !inside.has(n))), ...linked]),
    ];
    const node: NodeProto = {
      name: members.map((m) => m.node.name).join("+"),
      opType: members.length === 1 ? s.node.opType : "ElementwiseChain",
      domain: "",
      inputs: [first, ...operands],
      outputs: [last],
      attributes: [],
    };
    out[i] = { node, op: elementwiseChain(members, ops, first, operands), attrs: {} };
  }
  return out.filter((s): s is Step => s !== null);
}

/** The steps of one kernel chain call (kernels/fused.ts). */
const MAX_CHAIN = 16;

const QDQ_TYPES = new Set(["int8", "uint8", "int16", "uint16"]);

/**
 * A QuantizeLinear `q` whose output only the DequantizeLinear `dq` reads, with the same
 * per-tensor float32 scale and zero point (constants), as one chain op; else undefined.
 */
function qdqOf(q: Step, dq: Step, g: GraphView): QdqStep | undefined {
  const [, qs, qz] = q.node.inputs, [dx, ds, dz] = dq.node.inputs;
  if (dq.node.opType !== "DequantizeLinear" || dx !== q.node.outputs[0] || dq.node.outputs.length !== 1) {
    return undefined;
  }
  const scale = f32Const(g, qs), scale2 = f32Const(g, ds);
  if (!scale || !scale2 || scale.length !== 1 || scale2.length !== 1 || !Object.is(scale[0], scale2[0])) {
    return undefined;
  }
  const zq = qz ? g.constants.get(qz) : undefined, zd = dz ? g.constants.get(dz) : undefined;
  if (!!qz !== !!zq || !!dz !== !!zd) return undefined; // a zero point computed at run time
  const od = attrInt(q.attrs, "output_dtype", 0);
  const type = zq ? zq.dtype : od ? dtypeOf(od) : "uint8";
  if (!type || !QDQ_TYPES.has(type)) return undefined;
  const zero = (t: Tensor | undefined) => (t ? (t.data.length === 1 ? Number(t.data[0]) : NaN) : 0);
  if (zd && zd.dtype !== type) return undefined;
  const zp = zero(zq);
  if (!(zp === zero(zd))) return undefined;
  return { kind: "qdq", scale: scale[0], zeroPoint: zp, type: type as QdqStep["type"] };
}

/** Whether `name` is a graph input or made by a step before index `i`. */
function availableBefore(name: string, i: number, steps: (Step | null)[]): boolean {
  for (let k = i; k < steps.length; k++) if (steps[k]?.node.outputs.includes(name)) return false;
  return true;
}

/** A kernel stage that may join a pipeline (see {@link KernelStage.joins}). */
function isStage(s: Step, g: GraphView): boolean {
  const op = s.op as Partial<KernelStage>;
  return !!op.plan && (op.joins?.(s.attrs, s.node, g.constants) ?? true);
}

/** Pass 4: kernel stages feeding each other -> one pipeline step. */
function pipelines(steps: Step[], g: GraphView): Step[] {
  const out: (Step | null)[] = [...steps];
  const uses = consumers(out);
  for (let i = 0; i < out.length; i++) {
    const s = out[i];
    if (!s || !isStage(s, g)) continue;
    const members = [s];
    let last = s.node.outputs[0];
    for (;;) {
      const j = onlyConsumer(last, uses, g);
      if (j < 0) break;
      const c = out[j]!;
      if (!isStage(c, g) || c.node.inputs[0] !== last || c.node.inputs.slice(1).includes(last)) break;
      if (c.node.inputs.slice(1).some((n) => n && !g.constants.has(n) && !availableBefore(n, i, out))) break;
      members.push(c);
      last = c.node.outputs[0];
      out[j] = null;
    }
    if (members.length === 1) continue;
    const names: string[] = [];
    const index = (n: string) => {
      if (!n) return names.length + 1e9; // absent optional input: an index past the end
      const k = names.indexOf(n);
      return k >= 0 ? k : names.push(n) - 1;
    };
    const inputs = members.map((m, k) => m.node.inputs.map((n, q) => (k > 0 && q === 0 ? -1 : index(n))));
    const node: NodeProto = {
      name: members.map((m) => m.node.name).join("|"),
      opType: "KernelPipeline",
      domain: "",
      inputs: names,
      outputs: [last],
      attributes: [],
    };
    const stages = members.map((m) => ({ op: m.op as KernelStage, attrs: m.attrs, node: m.node }));
    out[i] = { node, op: pipeline(stages, inputs), attrs: {} };
  }
  return out.filter((s): s is Step => s !== null);
}
