/**
 * Lowering: cuts the simplified float graph into preamble (float nodes before the first
 * device op), core (the device program) and postamble (float nodes after the last device
 * op), and maps the core's nodes (NCHW, ONNX semantics) onto the device program's ops
 * (NHWC int8, docs/model-format.md) with the calibrated quantization parameters.
 *
 * Layout: an ONNX tensor of rank 4 [N,C,H,W] lives on the device as [N,H,W,C]; the
 * others keep ONNX's element order: rank 3 [N,C,L] as [N,1,C,L], rank 2 [N,K] as
 * [N,1,1,K], rank 1 [K] as [1,1,1,K].
 *
 * @example
 * ```ts
 * import { lower } from "./compiler/lower.ts";
 * const { program, preamble, postamble } = lower(graph, ranges);
 * ```
 * @module
 */
import { type DataRef, type Program, ProgramBuilder } from "./program.ts";
import { resolvePads } from "./shapes.ts";
import { CompileError, type Const, Graph, type Node, numel } from "./graph.ts";
import { channelTable, CLAMP_ACTIVATIONS, SCALAR_BINARY, TABLE_ACTIVATIONS, unaryTable } from "./activations.ts";
import { fuseTables } from "./fuse_tables.ts";
import { withHostQdq } from "./host_qdq.ts";
import type { Range } from "./calibrate.ts";
import {
  activationParams,
  channelLookupTable,
  lookupTable,
  type QParams,
  quantizeBias,
  quantizeValue,
  quantizeWeights,
  quantizeWithScales,
} from "./quantize.ts";

/** Options of the lowering. @example `const o: LowerOptions = { outputChannelMultiple: 16 }` */
export interface LowerOptions {
  /** Pad input channels to a multiple of this (default 4). */
  inputChannelMultiple?: number;
  /** Pad output channels to a multiple of this (default 16). */
  outputChannelMultiple?: number;
  /**
   * Float models: keep the ops after the last Conv/Gemm/MatMul of every path (a detector's
   * box decode, a final Sigmoid) float on the host, instead of quantizing heterogeneous
   * values (boxes and scores) onto one grid (default true).
   */
  floatTail?: boolean;
}

const HEAVY = new Set(["Conv", "ConvTranspose", "Gemm", "MatMul"]);

/** The nodes from which no Conv/Gemm/MatMul is reachable (empty when the graph has none). */
function floatTail(g: Graph): Set<Node> {
  const feeds = new Set<Node>();
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (HEAVY.has(n.op) || n.outputs.some((o) => g.consumers(o).some((c) => feeds.has(c)))) feeds.add(n);
  }
  return feeds.size ? new Set(g.nodes.filter((n) => !feeds.has(n))) : new Set();
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

const DEV_AXES: Record<number, number[]> = { 1: [3], 2: [0, 3], 3: [0, 2, 3], 4: [0, 3, 1, 2] };

/**
 * The device (NHWC, 4-D) shape of an ONNX shape.
 *
 * @example
 * ```ts
 * deviceShape([1, 16, 8, 8]); // [1, 8, 8, 16]
 * deviceShape([1, 10]);       // [1, 1, 1, 10]
 * deviceShape([1, 120, 40]);  // [1, 1, 120, 40]
 * ```
 */
export function deviceShape(s: number[]): number[] {
  switch (s.length) {
    case 1:
      return [1, 1, 1, s[0]];
    case 2:
      return [s[0], 1, 1, s[1]];
    case 3:
      return [s[0], 1, s[1], s[2]];
    case 4:
      return [s[0], s[2], s[3], s[1]];
    default:
      throw new CompileError(`rank ${s.length} tensors cannot live on the device`);
  }
}

/** Is the device memory order of this ONNX shape the ONNX row-major order? (Only rank 4
 *  is stored transposed, NCHW -> NHWC.) */
function inOnnxOrder(s: number[]): boolean {
  if (s.length <= 3) return true;
  return s[1] === 1 || s[2] * s[3] === 1;
}

/** Both absent (float model: one rounding after the clamp) or equal (QDQ: the clamp keeps the grid). */
const sameQuant = (a: QParams | undefined, b: QParams | undefined) =>
  a === b || (!!a && !!b && a.scale === b.scale && a.zeroPoint === b.zeroPoint);

const scalar = (c: Const | undefined) => (c && numel(c.dims) === 1 ? c.data[0] : undefined);

/** A 4-D Pad of the spatial axes with constant pads: its pads, mode (0 constant, 1 edge, 2 reflect) and value; else why not. */
function padOf(g: Graph, n: Node): { pads: number[]; mode: number; value: number } | string {
  const mode = ["constant", "edge", "reflect"].indexOf((n.attrs.mode as string) ?? "constant");
  if (mode < 0) return `mode ${n.attrs.mode} (the device pads constant, edge or reflect)`;
  let pads = n.attrs.pads as number[] | undefined;
  if (n.inputs[1]) pads = g.consts.has(n.inputs[1]) ? Array.from(g.consts.get(n.inputs[1])!.data) : undefined;
  if (!pads) return "pads are not constant";
  if (n.inputs[3]) return "an axes input";
  const s = g.shapes.get(n.inputs[0]);
  if (!s || s.length !== 4 || pads.length !== 8) return "only 4-D tensors";
  if (pads.some((v) => v < 0)) return "negative pads (cropping)";
  if (pads[0] || pads[1] || pads[4] || pads[5]) return "pads on the batch or channel axis";
  if (mode === 2 && (pads[2] >= s[2] || pads[6] >= s[2] || pads[3] >= s[3] || pads[7] >= s[3])) {
    return "reflect pads as large as the input";
  }
  let value = typeof n.attrs.value === "number" ? n.attrs.value : 0;
  if (n.inputs[2]) {
    const c = g.consts.get(n.inputs[2]);
    if (!c || numel(c.dims) !== 1) return "the pad value is not a constant scalar";
    value = c.data[0];
  }
  return { pads, mode, value };
}

/** Is this tensor a model input, or one seen only through layout ops (Transpose, Reshape, ...)? */
function fromModelInput(g: Graph, t: string): boolean {
  if (g.inputs.some((i) => i.name === t)) return true;
  const p = g.producer(t);
  return !!p && ["Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze"].includes(p.op) &&
    fromModelInput(g, p.inputs[0]);
}

/** Why a node cannot run on the device (undefined: it can). */
function deviceReason(g: Graph, n: Node): string | undefined {
  const shape = (i: number) => g.shapes.get(n.inputs[i]);
  const isC = (i: number) => g.consts.has(n.inputs[i]);
  const act = n.inputs.findIndex((_, i) => !isC(i));
  const rank = (act >= 0 ? g.shapes.get(n.inputs[act]) : shape(0))?.length ?? 0;
  const binaryOps = ["Add", "Mul", "Sub", "Div", "Pow"];
  if (n.inputs.length && isC(0) && !binaryOps.includes(n.op)) return "its first input is a constant";
  if (rank < 1 || rank > 4) return `rank ${rank} input (the device holds 1..4-D tensors)`;
  const outRank = g.shapes.get(n.outputs[0])?.length ?? 0;
  if (outRank < 1 || outRank > 4) return `rank ${outRank} output`;
  if (g.quant.size) {
    // a QDQ model: the device runs its quantized region only; float tensors stay float
    const acts = [...n.inputs.filter((t) => t !== "" && !g.consts.has(t)), ...n.outputs.filter((t) => t !== "")];
    const f = acts.find((t) => !g.quant.has(t));
    if (f) return `${f} is float in the QDQ model (no QuantizeLinear/DequantizeLinear)`;
  }
  if (TABLE_ACTIVATIONS.has(n.op)) return unaryTable(g, n) ? undefined : "a parameter is not a constant scalar";
  switch (n.op) {
    case "Conv": {
      if (rank !== 4) return "only 2-D convolutions";
      if (!isC(1)) return "weights are not constant";
      if (n.inputs[2] && !isC(2)) return "bias is not constant";
      return undefined;
    }
    case "Gemm": {
      if (rank !== 2) return "input must be 2-D";
      if (!isC(1)) return "weights are not constant";
      if (n.attrs.transA) return "transA is not supported";
      if (n.inputs[2] && !isC(2)) return "bias is not constant";
      return undefined;
    }
    case "MatMul":
      return rank === 2 && isC(1) && g.consts.get(n.inputs[1])!.dims.length === 2
        ? undefined
        : "only [N,K] x constant [K,M]";
    case "Add":
    case "Mul":
    case "Sub":
    case "Div":
    case "Pow": {
      if (n.inputs.some((_, i) => isC(i))) {
        if (unaryTable(g, n)) return undefined;
        if (!channelTable(g, n)) return "the constant operand varies along more than the device's channel axis";
        const a = n.inputs.find((t) => !g.consts.has(t))!;
        return fromModelInput(g, a)
          ? "a per-channel constant on a model input: kept float in the preamble (before quantization)"
          : undefined;
      }
      if (n.op !== "Add" && n.op !== "Mul") return `${n.op} of two activations`;
      if (shape(1)!.length > 4 || rank > 4) return "rank above 4";
      return undefined;
    }
    case "Relu":
      return undefined;
    case "Clip":
      return n.inputs.slice(1).every((i) => i === "" || g.consts.has(i)) ? undefined : "bounds are not constant";
    case "MaxPool":
    case "AveragePool":
      if (rank !== 4) return "only 2-D pooling";
      if (n.outputs.length > 1 && n.outputs[1]) return "MaxPool indices output";
      if (
        n.op === "AveragePool" && Array.isArray(n.attrs.dilations) &&
        (n.attrs.dilations as number[]).some((d) => d !== 1)
      ) return "dilated AveragePool";
      return undefined;
    case "GlobalAveragePool":
    case "GlobalMaxPool":
      return rank === 4 ? undefined : "only 4-D input";
    case "Concat":
      return n.inputs.every((_, i) => !isC(i)) ? undefined : "a constant input";
    case "Resize":
    case "Upsample": {
      const mode = (n.attrs.mode as string) ?? "nearest";
      if (mode !== "nearest") return `mode ${mode} (only nearest)`;
      const out = g.shapes.get(n.outputs[0])!;
      const inp = shape(0)!;
      if (rank !== 4 || out[0] !== inp[0] || out[1] !== inp[1]) return "only spatial resizing of 4-D tensors";
      if (out[2] % inp[2] || out[3] % inp[3]) return "only integer scale factors";
      if (n.op === "Resize") {
        const ct = (n.attrs.coordinate_transformation_mode as string) ?? "half_pixel";
        const nm = (n.attrs.nearest_mode as string) ?? "round_prefer_floor";
        const ok = (ct === "asymmetric" && nm === "floor") ||
          ((ct === "half_pixel" || ct === "pytorch_half_pixel") &&
            (nm === "round_prefer_floor" || nm === "round_prefer_ceil"));
        if (!ok) return `coordinate mode ${ct} with nearest mode ${nm}`;
      }
      return undefined;
    }
    case "Reshape":
    case "Flatten":
    case "Squeeze":
    case "Unsqueeze":
      return undefined;
    case "Transpose":
      return rank === 4 ? undefined : "only 4-D transposes";
    case "Pad":
      return typeof padOf(g, n) === "string" ? padOf(g, n) as string : undefined;
    case "Slice": {
      if (n.inputs.slice(1).some((i) => i !== "" && !g.consts.has(i))) return "slice parameters are not constant";
      const steps = n.inputs[4] ? Array.from(g.consts.get(n.inputs[4])!.data) : [];
      return steps.some((s) => s <= 0) ? "negative steps" : undefined;
    }
    case "Split":
      return n.inputs[1] && !isC(1) ? "split sizes are not constant" : undefined;
    default:
      return `op ${n.op} has no device implementation`;
  }
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
  const layout = new Set(["Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze"]);
  const hostOnly = (n: Node) =>
    layout.has(n.op) && n.outputs.every((o) => {
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

  const qp = (t: string): QParams => {
    const given = g.quant.get(t);
    if (given) return given;
    const r = ranges.get(t);
    if (!r) throw new CompileError(`tensor ${t} has no calibrated range`);
    return activationParams(r.min, r.max);
  };
  const b = new ProgramBuilder();
  const dev = new Map<string, number>();
  const shapeOf = (t: string) => {
    const s = g.shapes.get(t);
    if (!s) throw new CompileError(`tensor ${t} has no static shape`);
    return s;
  };
  const tensor = (name: string, shape: number[], q: QParams) =>
    b.addTensor({ name, shape: deviceShape(shape), scale: q.scale, zero_point: q.zeroPoint });
  const quantOf = (idx: number): QParams => ({ scale: b.tensors[idx].scale, zeroPoint: b.tensors[idx].zero_point });
  const inp = (t: string) => {
    const i = dev.get(t);
    if (i === undefined) throw new CompileError(`tensor ${t} is not on the device`);
    return i;
  };
  for (const t of inputs) {
    const s = shapeOf(t);
    const q = qp(t);
    const ds = deviceShape(s);
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

  const consumedBy = (t: string) => g.nodes.filter((m) => m.inputs.includes(t));
  const fused = new Set<Node>();
  const data = (a: ArrayBufferView): DataRef => b.addData(a);

  /** Emits an op producing ONNX tensor `out` with quantization `q` (or same as `like`). */
  const emit = (n: Node, op: string, ins: number[], out: string, q: QParams, attrs: Record<string, unknown> = {}) => {
    const y = tensor(out, shapeOf(out), q);
    b.addOp({ op, name: n.name, inputs: ins, outputs: [y], ...attrs });
    dev.set(out, y);
    return y;
  };
  /** Reshape between arbitrary ONNX shapes (with device transposes when needed). */
  const reshape = (n: Node, x: number, from: number[], out: string) => {
    const to = shapeOf(out);
    const q = quantOf(x);
    let cur = x;
    if (!inOnnxOrder(from)) {
      const s = b.tensors[cur].shape;
      const t = b.addTensor({
        name: `${n.name}_to_nchw`,
        shape: [s[0], s[3], s[1], s[2]],
        scale: q.scale,
        zero_point: q.zeroPoint,
      });
      b.addOp({ op: "Transpose", name: `${n.name}_to_nchw`, inputs: [cur], outputs: [t], perm: [0, 3, 1, 2] });
      cur = t;
    }
    if (inOnnxOrder(to)) {
      const y = b.addTensor({ name: out, shape: deviceShape(to), scale: q.scale, zero_point: q.zeroPoint });
      b.addOp({ op: "Reshape", name: n.name, inputs: [cur], outputs: [y] });
      dev.set(out, y);
      return;
    }
    const r = b.addTensor({ name: `${n.name}_nchw`, shape: to, scale: q.scale, zero_point: q.zeroPoint });
    b.addOp({ op: "Reshape", name: n.name, inputs: [cur], outputs: [r] });
    const y = b.addTensor({ name: out, shape: deviceShape(to), scale: q.scale, zero_point: q.zeroPoint });
    b.addOp({ op: "Transpose", name: `${n.name}_to_nhwc`, inputs: [r], outputs: [y], perm: [0, 2, 3, 1] });
    dev.set(out, y);
  };
  /** Activation fused into a Conv/Gemm: clamp bounds and the final output name. */
  const fuseAct = (n: Node): { out: string; q: QParams; clamp?: number[] } => {
    const cs = consumedBy(n.outputs[0]);
    const m = cs[0];
    if (
      cs.length === 1 && !g.outputs.includes(n.outputs[0]) && !outputs.includes(n.outputs[0]) && core.includes(m) &&
      CLAMP_ACTIVATIONS.has(m.op) && sameQuant(g.quant.get(n.outputs[0]), g.quant.get(m.outputs[0]))
    ) {
      const q = qp(m.outputs[0]);
      let lo = 0, hi = Infinity;
      if (m.op === "Clip") {
        lo = scalar(g.consts.get(m.inputs[1])) ?? (m.attrs.min as number | undefined) ?? -Infinity;
        hi = scalar(g.consts.get(m.inputs[2])) ?? (m.attrs.max as number | undefined) ?? Infinity;
      }
      fused.add(m);
      const qlo = lo === -Infinity ? -128 : quantizeValue(lo, q), qhi = hi === Infinity ? 127 : quantizeValue(hi, q);
      return { out: m.outputs[0], q, clamp: [qlo, qhi] };
    }
    return { out: n.outputs[0], q: qp(n.outputs[0]) };
  };
  const weightsOp = (n: Node, x: number, w: Float32Array, cout: number, bias: ArrayLike<number> | undefined) => {
    // weights of a QDQ model keep their scales (and so their int8 values)
    const given = g.weightScales.get(n.inputs[1]);
    const { q, scales } = given && given.length === cout ? quantizeWithScales(w, given) : quantizeWeights(w, cout);
    const bq = quantizeBias(bias, b.tensors[x].scale, scales);
    // keep the worst-case accumulator within int32 (the loader checks it)
    const limit = 2147483647 - (w.length / cout) * 255 * 128;
    if (limit <= 0) {
      throw new CompileError(
        `node ${n.name} (${n.op}): ${w.length / cout} products per output overflow an int32 accumulator`,
      );
    }
    for (let c = 0; c < bq.length; c++) bq[c] = Math.max(-limit, Math.min(limit, bq[c]));
    return { weights: data(q), bias: data(bq), w_scale: data(scales) };
  };

  for (const n of core) {
    if (fused.has(n)) continue;
    const fn = TABLE_ACTIVATIONS.has(n.op) || SCALAR_BINARY.has(n.op) ? unaryTable(g, n) : undefined;
    if (fn) {
      // an element-wise function of one tensor: a lookup table on its given/calibrated grids
      const xa = inp(n.inputs.find((i) => i !== "" && !g.consts.has(i))!);
      const q = qp(n.outputs[0]);
      emit(n, "Lut", [xa], n.outputs[0], q, { table: data(lookupTable(fn, quantOf(xa), q)) });
      continue;
    }
    const ct = SCALAR_BINARY.has(n.op) ? channelTable(g, n) : undefined;
    if (ct) {
      // per channel: one table per channel of the device's innermost axis
      const xa = inp(n.inputs.find((i) => i !== "" && !g.consts.has(i))!);
      const q = qp(n.outputs[0]);
      emit(n, "ChannelLut", [xa], n.outputs[0], q, {
        table: data(channelLookupTable(ct.f, ct.C, quantOf(xa), q)),
      });
      continue;
    }
    const x = n.inputs.length && dev.has(n.inputs[0]) ? dev.get(n.inputs[0])! : -1;
    const xs = n.inputs.length ? shapeOf(n.inputs[0]) : [];
    switch (n.op) {
      case "Conv": {
        const w = g.consts.get(n.inputs[1])!;
        const [M, cg, kh, kw] = w.dims;
        const ohwi = new Float32Array(w.data.length);
        for (let m = 0; m < M; m++) {
          for (let c = 0; c < cg; c++) {
            for (let i = 0; i < kh; i++) {
              for (let j = 0; j < kw; j++) {
                ohwi[((m * kh + i) * kw + j) * cg + c] = w.data[((m * cg + c) * kh + i) * kw + j];
              }
            }
          }
        }
        const strides = (n.attrs.strides as number[]) ?? [1, 1];
        const dilations = (n.attrs.dilations as number[]) ?? [1, 1];
        const pads = resolvePads(n, xs.slice(2), [kh, kw], strides, dilations);
        const f = fuseAct(n);
        const wts = weightsOp(n, x, ohwi, M, n.inputs[2] ? g.consts.get(n.inputs[2])!.data : undefined);
        const attrs: Record<string, unknown> = {
          kernel: [kh, kw],
          strides,
          dilations,
          pads,
          group: (n.attrs.group as number) ?? 1,
          ...wts,
        };
        if (f.clamp) attrs.clamp = f.clamp;
        emit(n, "Conv", [x], f.out, f.q, attrs);
        break;
      }
      case "Gemm":
      case "MatMul": {
        const w = g.consts.get(n.inputs[1])!;
        const transB = n.op === "Gemm" && n.attrs.transB === 1;
        const [K, N] = transB ? [w.dims[1], w.dims[0]] : w.dims;
        const alpha = n.op === "Gemm" ? ((n.attrs.alpha as number) ?? 1) : 1;
        const beta = n.op === "Gemm" ? ((n.attrs.beta as number) ?? 1) : 1;
        const wt = new Float32Array(N * K);
        for (let c = 0; c < N; c++) {
          for (let k = 0; k < K; k++) wt[c * K + k] = alpha * (transB ? w.data[c * K + k] : w.data[k * N + c]);
        }
        let bias: Float32Array | undefined;
        if (n.op === "Gemm" && n.inputs[2]) {
          const c = g.consts.get(n.inputs[2])!;
          if (numel(c.dims) !== N && numel(c.dims) !== 1) {
            throw new CompileError(`node ${n.name} (Gemm): bias shape ${JSON.stringify(c.dims)} is not [${N}]`);
          }
          bias = Float32Array.from({ length: N }, (_, i) => beta * c.data[numel(c.dims) === 1 ? 0 : i]);
        }
        const f = fuseAct(n);
        const attrs: Record<string, unknown> = weightsOp(n, x, wt, N, bias);
        if (f.clamp) attrs.clamp = f.clamp;
        emit(n, "Gemm", [x], f.out, f.q, attrs);
        break;
      }
      case "Relu":
        emit(n, "Relu", [x], n.outputs[0], quantOf(x));
        break;
      case "Clip": {
        // q(clip(dq(c))) on one grid is min(max(c, q(lo)), q(hi)) (q is monotone, q(dq(c)) = c)
        const q = quantOf(x);
        const lo = scalar(g.consts.get(n.inputs[1])) ?? (n.attrs.min as number | undefined) ?? -Infinity;
        const hi = scalar(g.consts.get(n.inputs[2])) ?? (n.attrs.max as number | undefined) ?? Infinity;
        const qlo = lo === -Infinity ? -128 : quantizeValue(lo, q), qhi = hi === Infinity ? 127 : quantizeValue(hi, q);
        emit(n, "Clip", [x], n.outputs[0], q, { lo: Math.min(qlo, qhi), hi: qhi });
        break;
      }
      case "Add":
      case "Mul": {
        const r = Math.max(xs.length, shapeOf(n.inputs[1]).length);
        const ins = n.inputs.map((t) => {
          const s = shapeOf(t);
          const idx = inp(t);
          if (s.length === r) return idx;
          // right-align ranks: reshape the lower-rank operand (its memory order is kept)
          const full = [...new Array(r - s.length).fill(1), ...s];
          const q = quantOf(idx);
          const rs = b.addTensor({
            name: `${n.name}_${t}_bcast`,
            shape: deviceShape(full),
            scale: q.scale,
            zero_point: q.zeroPoint,
          });
          if (!inOnnxOrder(s) || !inOnnxOrder(full)) {
            throw new CompileError(`node ${n.name} (${n.op}): unsupported broadcast of ${JSON.stringify(s)}`);
          }
          b.addOp({ op: "Reshape", name: `${n.name}_bcast`, inputs: [idx], outputs: [rs] });
          return rs;
        });
        emit(n, n.op, ins, n.outputs[0], qp(n.outputs[0]));
        break;
      }
      case "MaxPool":
      case "AveragePool": {
        const kernel = n.attrs.kernel_shape as number[];
        const strides = (n.attrs.strides as number[]) ?? [1, 1];
        const dilations = (n.attrs.dilations as number[]) ?? [1, 1];
        const pads = resolvePads(n, xs.slice(2), kernel, strides, dilations);
        const ceil = (n.attrs.ceil_mode as number) ?? 0;
        if (n.op === "MaxPool") {
          emit(n, "MaxPool", [x], n.outputs[0], quantOf(x), { kernel, strides, pads, dilations, ceil_mode: ceil });
        } else {
          emit(n, "AveragePool", [x], n.outputs[0], qp(n.outputs[0]), {
            kernel,
            strides,
            pads,
            ceil_mode: ceil,
            count_include_pad: (n.attrs.count_include_pad as number) ?? 0,
          });
        }
        break;
      }
      case "GlobalAveragePool":
        emit(n, "GlobalAveragePool", [x], n.outputs[0], qp(n.outputs[0]));
        break;
      case "GlobalMaxPool":
        emit(n, "MaxPool", [x], n.outputs[0], quantOf(x), {
          kernel: [xs[2], xs[3]],
          strides: [1, 1],
          pads: [0, 0, 0, 0],
        });
        break;
      case "Concat": {
        const r = xs.length;
        const a0 = (n.attrs.axis as number) ?? 0;
        const axis = DEV_AXES[r][a0 < 0 ? a0 + r : a0];
        const ins = n.inputs.map(inp);
        const q0 = quantOf(ins[0]);
        const same = ins.every((i) => b.tensors[i].scale === q0.scale && b.tensors[i].zero_point === q0.zeroPoint);
        emit(n, "Concat", ins, n.outputs[0], same && !g.quant.has(n.outputs[0]) ? q0 : qp(n.outputs[0]), { axis });
        break;
      }
      case "Resize":
      case "Upsample": {
        const out = shapeOf(n.outputs[0]);
        emit(n, "Resize", [x], n.outputs[0], quantOf(x), { scales: [out[2] / xs[2], out[3] / xs[3]] });
        break;
      }
      case "Reshape":
      case "Flatten":
      case "Squeeze":
      case "Unsqueeze":
        reshape(n, x, xs, n.outputs[0]);
        break;
      case "Transpose": {
        const p = (n.attrs.perm as number[]) ?? [3, 2, 1, 0];
        const qa = [0, 2, 3, 1], ra = [0, 3, 1, 2];
        emit(n, "Transpose", [x], n.outputs[0], quantOf(x), { perm: qa.map((_, i) => ra[p[qa[i]]]) });
        break;
      }
      case "Pad": {
        const p = padOf(g, n) as { pads: number[]; mode: number; value: number };
        const q = quantOf(x);
        emit(n, "Pad", [x], n.outputs[0], q, {
          pads: [p.pads[2], p.pads[3], p.pads[6], p.pads[7]],
          mode: p.mode,
          value: quantizeValue(p.value, q),
        });
        break;
      }
      case "Slice": {
        const r = xs.length;
        const get = (k: number) => (n.inputs[k] ? Array.from(g.consts.get(n.inputs[k])!.data) : undefined);
        const starts = get(1) ?? (n.attrs.starts as number[]);
        const ends = get(2) ?? (n.attrs.ends as number[]);
        const axes = get(3) ?? (n.attrs.axes as number[]) ?? starts.map((_, i) => i);
        const steps = get(4) ?? starts.map(() => 1);
        const ds = [0, 0, 0, 0], de = [...deviceShape(xs)], dst = [1, 1, 1, 1];
        axes.forEach((a0, k) => {
          const a = DEV_AXES[r][a0 < 0 ? a0 + r : a0];
          ds[a] = Math.max(-2147483648, Math.min(2147483647, starts[k]));
          de[a] = Math.max(-2147483648, Math.min(2147483647, ends[k]));
          dst[a] = steps[k];
        });
        emit(n, "Slice", [x], n.outputs[0], quantOf(x), { starts: ds, ends: de, steps: dst });
        break;
      }
      case "Split": {
        const r = xs.length;
        const a0 = (n.attrs.axis as number) ?? 0;
        const axis = a0 < 0 ? a0 + r : a0;
        const sizes = n.outputs.map((o) => shapeOf(o)[axis]);
        const q = quantOf(x);
        const ys = n.outputs.map((o) => {
          const y = tensor(o, shapeOf(o), q);
          dev.set(o, y);
          return y;
        });
        b.addOp({ op: "Split", name: n.name, inputs: [x], outputs: ys, axis: DEV_AXES[r][axis], sizes });
        break;
      }
      default:
        throw new CompileError(`node ${n.name} (${n.op}): no device lowering`);
    }
    // an op that keeps its input's grid, where the QDQ model quantizes its output on another
    for (const o of n.outputs) {
      const given = g.quant.get(o), y = dev.get(o);
      if (!given || y === undefined || sameQuant(given, quantOf(y))) continue;
      b.tensors[y].name = `${o}_pre`;
      const r = tensor(o, shapeOf(o), given);
      b.addOp({ op: "Requantize", name: `${n.name}_requant`, inputs: [y], outputs: [r] });
      dev.set(o, r);
    }
  }
  for (const t of outputs) {
    const i = inp(t);
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
