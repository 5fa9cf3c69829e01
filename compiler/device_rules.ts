/**
 * The device rules of the lowering: which ONNX nodes the device can run (and why not),
 * the device layout of ONNX shapes, and the float tail a float model keeps on the host.
 *
 * Layout: an ONNX tensor of rank 4 [N,C,H,W] lives on the device as [N,H,W,C]; the
 * others keep ONNX's element order: rank 3 [N,C,L] as [N,1,C,L], rank 2 [N,K] as
 * [N,1,1,K], rank 1 [K] as [1,1,1,K].
 *
 * @example
 * ```ts
 * import { deviceReason, deviceShape } from "./compiler/device_rules.ts";
 * deviceShape([1, 16, 8, 8]); // [1, 8, 8, 16]
 * deviceReason(graph, node); // undefined: the device can run it
 * ```
 * @module
 */
import { CompileError, type Const, type Graph, type Node, numel } from "./graph.ts";
import { channelTable, TABLE_ACTIVATIONS, unaryTable } from "./activations.ts";
import type { QParams } from "./quantize.ts";
import { LAYOUT_OPS } from "../onnx/ops/kinds.ts";

const HEAVY = new Set(["Conv", "ConvTranspose", "Gemm", "MatMul"]);

/** Tail ops that stay on the device when the device computes their input: clamps and pools. */
const DEVICE_TAIL = new Set(["Relu", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"]);

/**
 * A float model's head that stays float on the host: the nodes from which no
 * Conv/Gemm/MatMul is reachable (empty when the graph has none), except the clamps and
 * pools right after the device part (Relu, Clip, MaxPool, AveragePool, GlobalAveragePool,
 * GlobalMaxPool, each reading only device tensors): a clamp is free in the op before it
 * and narrows its grid, and a pool keeps its input's grid (MaxPool) or averages on it, so
 * the device sends the pooled values instead of the features (SqueezeNet's final Relu and
 * global pool: 1000 values instead of 13x13x1000). What stays float is what a grid would
 * hurt: a final Sigmoid or Softmax, a box decode that puts boxes and scores side by side.
 *
 * @example
 * ```ts
 * floatTail(graph).size; // Conv -> Relu -> GlobalAveragePool -> Softmax: 1 (the Softmax)
 * ```
 */
export function floatTail(g: Graph): Set<Node> {
  const feeds = new Set<Node>();
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i];
    if (HEAVY.has(n.op) || n.outputs.some((o) => g.consumers(o).some((c) => feeds.has(c)))) feeds.add(n);
  }
  if (!feeds.size) return new Set();
  const tail = new Set(g.nodes.filter((n) => !feeds.has(n)));
  const onDevice = (t: string) => {
    if (t === "" || g.consts.has(t)) return true;
    const p = g.producer(t);
    return !!p && !tail.has(p);
  };
  for (const n of g.nodes) {
    if (tail.has(n) && DEVICE_TAIL.has(n.op) && n.inputs.every(onDevice)) tail.delete(n);
  }
  return tail;
}

/** The device axis (NHWC) of each ONNX axis, by rank. @example `DEV_AXES[4][1] === 3` */
export const DEV_AXES: Record<number, number[]> = { 1: [3], 2: [0, 3], 3: [0, 2, 3], 4: [0, 3, 1, 2] };

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

/** Is the device memory order of this ONNX shape the ONNX row-major order? (Only rank 4 is stored transposed, NCHW -> NHWC.) @example `inOnnxOrder([1, 1, 8, 8])` */
export function inOnnxOrder(s: number[]): boolean {
  if (s.length <= 3) return true;
  return s[1] === 1 || s[2] * s[3] === 1;
}

/** Both absent (float model: one rounding after the clamp) or equal (QDQ: the clamp keeps the grid). @example `sameQuant(undefined, undefined)` */
export const sameQuant = (a: QParams | undefined, b: QParams | undefined) =>
  a === b || (!!a && !!b && a.scale === b.scale && a.zeroPoint === b.zeroPoint);

/** The value of a one-element constant. @example `scalar(c)` */
export const scalar = (c: Const | undefined) => (c && numel(c.dims) === 1 ? c.data[0] : undefined);

/** A 4-D Pad of the spatial axes with constant pads: its pads, mode (0 constant, 1 edge, 2 reflect) and value; else why not. @example `padOf(g, padNode)` */
export function padOf(g: Graph, n: Node): { pads: number[]; mode: number; value: number } | string {
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
  return !!p && LAYOUT_OPS.has(p.op) &&
    fromModelInput(g, p.inputs[0]);
}

/** Why a per-channel element-wise node (a `ChannelLut`) cannot run on the device (undefined: it can). */
function channelReason(g: Graph, n: Node): string | undefined {
  if (!channelTable(g, n)) return "a constant parameter varies along more than the device's channel axis";
  const a = n.inputs.find((t) => t !== "" && !g.consts.has(t))!;
  return fromModelInput(g, a)
    ? "a per-channel constant on a model input: kept float in the preamble (before quantization)"
    : undefined;
}

/** Why a node cannot run on the device (undefined: it can). @example `deviceReason(g, node)` */
export function deviceReason(g: Graph, n: Node): string | undefined {
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
        return channelReason(g, n);
      }
      if (n.op !== "Add" && n.op !== "Mul") return `${n.op} of two activations`;
      if (shape(1)!.length > 4 || rank > 4) return "rank above 4";
      return undefined;
    }
    case "PRelu":
    case "BatchNormalization":
      return unaryTable(g, n) ? undefined : channelReason(g, n);
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
