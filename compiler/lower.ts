/**
 * Lowering: cuts the simplified float graph into preamble (float nodes before the first
 * device op), core (the device program) and postamble (float nodes after the last device
 * op), and maps the core's nodes onto the device program's ops with the table of
 * lowerings (`compiler/lowerings.ts`; device rules in `compiler/device_rules.ts`), with the
 * given (QDQ) or calibrated quantization parameters; then fuses per-element ops into
 * tables exactly (`compiler/fuse_tables.ts`).
 *
 * @example
 * ```ts
 * import { lower } from "./compiler/lower.ts";
 * const { program, preamble, postamble } = lower(graph, ranges);
 * ```
 * @module
 */
import type { Program } from "./program.ts";
import { CompileError, Graph, type Node } from "./graph.ts";
import { fuseTables } from "./fuse_tables.ts";
import { withHostQdq } from "./host_qdq.ts";
import type { Range } from "./calibrate.ts";
import { deviceReason, deviceShape, floatTail } from "./device_rules.ts";
import { LowerContext } from "./lower_context.ts";
import { LOWERINGS, lowerTable } from "./lowerings.ts";
import { LAYOUT_OPS } from "../onnx/ops/kinds.ts";

export { deviceShape };

/** Options of the lowering. @example `const o: LowerOptions = { outputChannelMultiple: 16 }` */
export interface LowerOptions {
  /** Pad input channels to a multiple of this (default 4). */
  inputChannelMultiple?: number;
  /** Pad output channels to a multiple of this (default 16). */
  outputChannelMultiple?: number;
  /**
   * Float models: keep the ops after the last Conv/Gemm/MatMul of every path (a detector's
   * box decode, a final Sigmoid) float on the host, instead of quantizing heterogeneous
   * values (boxes and scores) onto one grid, except the clamps and pools right after the
   * device part (`floatTail`; default true).
   */
  floatTail?: boolean;
}

/**
 * What the lowering produces.
 *
 * @example
 * ```ts
 * const r: LowerResult = lower(graph, ranges);
 * r.program.json.ops.length;
 * ```
 */
export interface LowerResult {
  program: Program;
  preamble: Graph | null;
  postamble: Graph | null;
  /** ONNX names and shapes of the device inputs/outputs (the pre/postamble boundary). */
  inputs: { name: string; shape: number[] }[];
  outputs: { name: string; shape: number[] }[];
  /** Why each node not on the device is not (node name -> reason). */
  offDevice: Map<string, string>;
}

/**
 * A float model's ranges with the input of every Relu/Clip (its only reader) narrowed to
 * the clamp's output range: the op before rounds onto the clamped grid (a Relu input gets
 * zero point -128) instead of spending codes on values the clamp removes; the clamp still
 * runs on that grid, so results only gain resolution. QDQ models keep their given grids.
 *
 * @example
 * ```ts
 * const r = clampedRanges(graph, ranges); // Add -> Relu: the Add output now ranges over [0, max]
 * ```
 */
export function clampedRanges(g: Graph, ranges: Map<string, Range>): Map<string, Range> {
  if (g.quant.size) return ranges;
  const out = new Map(ranges);
  for (const n of g.nodes) {
    if (n.op !== "Relu" && n.op !== "Clip") continue;
    const x = n.inputs[0], rx = out.get(x), ry = out.get(n.outputs[0]);
    if (!rx || !ry || g.outputs.includes(x) || g.inputs.some((i) => i.name === x)) continue;
    if (g.consumers(x).length !== 1) continue;
    const lo = Math.max(rx.min, ry.min), hi = Math.min(rx.max, ry.max);
    if (lo <= hi) out.set(x, { ...rx, min: lo, max: hi });
  }
  return out;
}

/**
 * Cuts the graph and lowers the core onto a device program.
 *
 * @example
 * ```ts
 * const { program } = lower(graph, calibrate(graph, samples).ranges);
 * ```
 */
export function lower(g: Graph, ranges: Map<string, Range>, options: LowerOptions = {}): LowerResult {
  ranges = clampedRanges(g, ranges);
  const inMul = options.inputChannelMultiple ?? 4, outMul = options.outputChannelMultiple ?? 16;
  const offDevice = new Map<string, string>();
  const reason = new Map<Node, string | undefined>();
  const tail = options.floatTail === false || g.quant.size ? new Set<Node>() : floatTail(g);
  for (const n of g.nodes) {
    const r = deviceReason(g, n) ??
      (tail.has(n) ? "after the last Conv/Gemm of its path: kept float (a float model's head)" : undefined);
    reason.set(n, r);
    if (r) offDevice.set(n.name, `${n.op}: ${r}`);
  }
  // preamble: off-device nodes fed only by graph inputs, constants and preamble nodes
  const pre = new Set<Node>(), post = new Set<Node>();
  const preTensors = new Set<string>([...g.inputs.map((i) => i.name), ...g.consts.keys(), ""]);
  // a layout op on a model input whose readers all stay on the host (an NHWC -> NCHW
  // Transpose before a per-channel normalization) joins the preamble
  const hostOnly = (n: Node) =>
    LAYOUT_OPS.has(n.op) && n.outputs.every((o) => {
      const cs = g.consumers(o);
      return cs.length > 0 && !g.outputs.includes(o) && cs.every((c) => reason.get(c));
    });
  for (const n of g.nodes) {
    if ((reason.get(n) || hostOnly(n)) && n.inputs.every((i) => preTensors.has(i))) {
      if (!reason.get(n)) offDevice.set(n.name, `${n.op}: only host ops read its output (preamble)`);
      pre.add(n);
      n.outputs.forEach((o) => preTensors.add(o));
    }
  }
  // postamble: other off-device nodes and everything downstream of them
  const postTensors = new Set<string>();
  for (const n of g.nodes) {
    if (pre.has(n)) continue;
    if (reason.get(n) || n.inputs.some((i) => postTensors.has(i))) {
      post.add(n);
      if (!reason.get(n)) offDevice.set(n.name, `${n.op}: after a host op (postamble)`);
      n.outputs.forEach((o) => postTensors.add(o));
    }
  }
  const core = g.nodes.filter((n) => !pre.has(n) && !post.has(n));
  if (!core.length) {
    throw new CompileError(
      "no node of the model can run on the device: " + [...offDevice].map(([k, v]) => `${k} (${v})`).join("; "),
    );
  }
  const coreOut = new Set(core.flatMap((n) => n.outputs));
  const constOrEmpty = (t: string) => t === "" || g.consts.has(t);
  // device inputs: tensors the core reads that it does not produce
  const inputs: string[] = [];
  for (const n of core) {
    for (const t of n.inputs) if (!coreOut.has(t) && !constOrEmpty(t) && !inputs.includes(t)) inputs.push(t);
  }
  // device outputs: core tensors read by the postamble or that are graph outputs
  const outputs: string[] = [];
  for (const n of core) {
    for (const t of n.outputs) {
      const used = g.outputs.includes(t) || [...post].some((p) => p.inputs.includes(t));
      if (used && !outputs.includes(t)) outputs.push(t);
    }
  }

  const lc = new LowerContext(g, ranges, core, outputs);
  const { b, dev } = lc;
  for (const t of inputs) {
    const q = lc.qp(t);
    const ds = deviceShape(lc.shapeOf(t));
    const padC = (inMul - (ds[3] % inMul)) % inMul;
    dev.set(
      t,
      b.addInput({
        name: t,
        shape: ds,
        scale: q.scale,
        zero_point: q.zeroPoint,
        padding: [[0, 0], [0, 0], [0, 0], [0, padC]],
      }),
    );
  }
  for (const n of core) {
    if (lc.fused.has(n)) continue;
    if (!lowerTable(lc, n)) {
      const lowering = LOWERINGS[n.op];
      if (!lowering) throw new CompileError(`node ${n.name} (${n.op}): no device lowering`);
      const x = n.inputs.length && dev.has(n.inputs[0]) ? dev.get(n.inputs[0])! : -1;
      lowering(lc, n, x, n.inputs.length ? lc.shapeOf(n.inputs[0]) : []);
    }
    lc.settle(n);
  }
  const shapeOf = (t: string) => lc.shapeOf(t);
  for (const t of outputs) {
    const i = lc.inp(t);
    const padC = (outMul - (b.tensors[i].shape[3] % outMul)) % outMul;
    if (b.inputs.includes(i)) throw new CompileError(`tensor ${t} is both a device input and output`);
    b.markOutput(i, [[0, 0], [0, 0], [0, 0], [0, padC]]);
  }

  const sub = (nodes: Node[], ins: string[], outs: string[]): Graph | null => {
    if (!nodes.length) return null;
    const s = new Graph();
    s.opset = g.opset;
    s.nodes = nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } }));
    s.inputs = ins.map((name) => ({ name, shape: shapeOf(name), dtype: "float32" }));
    s.outputs = outs;
    for (const n of nodes) for (const i of n.inputs) if (g.consts.has(i)) s.consts.set(i, g.consts.get(i)!);
    for (const t of [...ins, ...outs]) {
      s.shapes.set(t, shapeOf(t));
      const dt = g.dtypes.get(t);
      if (dt) s.dtypes.set(t, dt);
    }
    // the host part rounds and clamps where the QDQ model does (device outputs are on their grid already)
    return withHostQdq(s, g.quant, new Set(g.inputs.map((i) => i.name)));
  };
  const preNodes = g.nodes.filter((n) => pre.has(n));
  const postNodes = g.nodes.filter((n) => post.has(n));
  const preOuts = inputs.filter((t) => preTensors.has(t) && !g.inputs.some((i) => i.name === t));
  const preamble = preOuts.length ? sub(preNodes, g.inputs.map((i) => i.name), preOuts) : null;
  // postamble inputs: the device outputs it reads (device order); outputs: the graph
  // outputs it produces. Device outputs that are graph outputs are model outputs as is.
  const postIns = outputs.filter((t) => postNodes.some((p) => p.inputs.includes(t)));
  const postOuts = g.outputs.filter((t) => postTensors.has(t));
  const postamble = postOuts.length ? sub(postNodes, postIns, postOuts) : null;
  return {
    program: fuseTables(b.finish()),
    preamble,
    postamble,
    inputs: inputs.map((name) => ({ name, shape: shapeOf(name) })),
    outputs: outputs.map((name) => ({ name, shape: shapeOf(name) })),
    offDevice,
  };
}
