/**
 * The one list of element-wise ops the compiler knows, from which simplify (fusion
 * patterns), lower (device forms) and quantize (lookup tables) derive what they need.
 *
 * @example
 * ```ts
 * import { TABLE_ACTIVATIONS, isTableOp } from "./compiler/activations.ts";
 * TABLE_ACTIVATIONS.has("Sigmoid"); // true
 * ```
 * @module
 */
import { CompileError, constant, type Graph, type Node, numel } from "./graph.ts";
import { evalUnary, runNode } from "./evaluate.ts";

/** Float functions of one tensor that the device runs as a 256-entry table (`Lut`). @example `TABLE_ACTIVATIONS.has("Tanh")` */
export const TABLE_ACTIVATIONS: ReadonlySet<string> = new Set([
  "HardSwish",
  "HardSigmoid",
  "Sigmoid",
  "SiLU",
  "Swish",
  "LeakyRelu",
  "Tanh",
  "Elu",
  "Selu",
  "Softplus",
  "Softsign",
  "Exp",
  "Log",
  "Sqrt",
  "Reciprocal",
  "Neg",
  "Abs",
  "Erf",
]);

/** Binary ops that are a table of the other operand when one operand is a scalar constant. @example `SCALAR_BINARY.has("Div")` */
export const SCALAR_BINARY: ReadonlySet<string> = new Set(["Add", "Sub", "Mul", "Div", "Pow"]);

/** Ops that keep their input's grid on the device (same quantization in and out). @example `GRID_KEEPING.has("Relu")` */
export const GRID_KEEPING: ReadonlySet<string> = new Set(["Relu", "Clip"]);

/** Activations a Conv/Gemm can take as its output clamp. @example `CLAMP_ACTIVATIONS.has("Clip")` */
export const CLAMP_ACTIVATIONS: ReadonlySet<string> = GRID_KEEPING;

/**
 * The float function (on many values at once) of a node that is element-wise in one
 * activation: a table activation, a Clip with constant bounds, or a binary op with one
 * scalar constant operand; undefined otherwise.
 *
 * @example
 * ```ts
 * unaryTable(graph, node)?.(new Float32Array([0, 1]));
 * ```
 */
export function unaryTable(g: Graph, n: Node): ((xs: Float32Array) => Float32Array) | undefined {
  const acts = n.inputs.map((t, i) => (t !== "" && !g.consts.has(t) ? i : -1)).filter((i) => i >= 0);
  if (acts.length !== 1) return undefined;
  const consts = n.inputs.filter((t, i) => t !== "" && i !== acts[0]).map((t) => g.consts.get(t)!);
  if (TABLE_ACTIVATIONS.has(n.op) || GRID_KEEPING.has(n.op) || n.op === "PRelu") {
    if (acts[0] !== 0 || consts.some((c) => numel(c.dims) !== 1)) return undefined;
    return evalUnary(n, 0, g.consts, g.opset);
  }
  if (SCALAR_BINARY.has(n.op) && n.inputs.length === 2 && consts.length === 1 && numel(consts[0].dims) === 1) {
    if (consts[0].dtype !== "float32") return undefined;
    return evalUnary(n, acts[0], g.consts, g.opset);
  }
  return undefined;
}

/** The ONNX axis that is the device's innermost (channel) axis, by rank (NHWC for rank 4, ONNX order otherwise). */
const DEVICE_CHANNEL_AXIS: Record<number, number> = { 2: 1, 3: 2, 4: 1 };

/**
 * Ops that are an element-wise function of one activation whose constant parameters may
 * vary along the channel axis: a binary op with a constant operand, `PRelu` (its slope),
 * `BatchNormalization` (inference form). @example `CHANNEL_OPS.has("PRelu")`
 */
export const CHANNEL_OPS: ReadonlySet<string> = new Set([...SCALAR_BINARY, "PRelu", "BatchNormalization"]);

/**
 * A per-channel table (the device's `ChannelLut`) for a node of {@link CHANNEL_OPS}
 * whose constants vary along the device's channel axis only (a batch norm, a `Mul`/`Add`
 * that cannot fold into a Conv or that a QDQ model rounds separately, a `PRelu` slope):
 * `C` channels and the float function giving, for 256 values at once, the C x 256
 * outputs (channel-major), computed by the node itself through `onnx/ops`.
 *
 * @example
 * ```ts
 * const ct = channelTable(graph, mulNode); // { C: 16, f } or undefined
 * ```
 */
export function channelTable(
  g: Graph,
  n: Node,
): { C: number; f: (xs: Float32Array) => Float32Array } | undefined {
  if (!CHANNEL_OPS.has(n.op)) return undefined;
  const acts = n.inputs.map((t, i) => (t !== "" && !g.consts.has(t) ? i : -1)).filter((i) => i >= 0);
  if (acts.length !== 1) return undefined;
  const ai = acts[0];
  const binary = SCALAR_BINARY.has(n.op);
  if (binary ? n.inputs.length !== 2 : ai !== 0) return undefined;
  if (n.outputs.filter((o) => o !== "").length !== 1) return undefined; // BatchNormalization training outputs
  const shape = g.shapes.get(n.inputs[ai]);
  if (!shape) return undefined;
  const r = shape.length, ch = DEVICE_CHANNEL_AXIS[r];
  if (ch === undefined) return undefined;
  const C = shape[ch];
  const consts = n.inputs.filter((t, i) => i !== ai && t !== "").map((t) => g.consts.get(t)!);
  if (consts.some((c) => c.dtype !== "float32")) return undefined;
  if (n.op === "BatchNormalization") {
    // the norm's channel axis is ONNX axis 1: the device's for ranks 2 and 4
    if (ch !== 1 || consts.length !== 4 || consts.some((c) => numel(c.dims) !== C)) return undefined;
  } else {
    for (const c of consts) {
      if (c.dims.length > r) return undefined;
      const cd = [...new Array(r - c.dims.length).fill(1), ...c.dims];
      if (cd.some((d, i) => d !== 1 && !(i === ch && d === C))) return undefined;
    }
  }
  const out = g.shapes.get(n.outputs[0]);
  if (!out || out.length !== r || out.some((d, i) => d !== shape[i])) return undefined;
  // the 256 values along another axis, the channels along theirs
  const a = ch === 0 ? 1 : 0;
  const dims = new Array(r).fill(1);
  dims[a] = 256;
  dims[ch] = C;
  const stride = (k: number) => dims.slice(k + 1).reduce((p, q) => p * q, 1);
  const sa = stride(a), sc = stride(ch);
  return {
    C,
    f: (xs) => {
      const x = new Float32Array(256 * C);
      for (let i = 0; i < 256; i++) for (let k = 0; k < C; k++) x[i * sa + k * sc] = xs[i];
      const ins = n.inputs.map((t, i) =>
        i === ai ? constant(dims, x, "float32") : t === "" ? undefined : g.consts.get(t)
      );
      const [y] = runNode({ ...n, outputs: [n.outputs[0]] }, ins, false, g.opset);
      if (y.data.length !== 256 * C) {
        throw new CompileError(`node ${n.name} (${n.op}): not a per-channel function (${y.data.length} outputs)`);
      }
      const t = new Float32Array(256 * C);
      for (let i = 0; i < 256; i++) for (let k = 0; k < C; k++) t[k * 256 + i] = y.data[i * sa + k * sc];
      return t;
    },
  };
}
