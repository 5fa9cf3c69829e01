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
  if (TABLE_ACTIVATIONS.has(n.op) || GRID_KEEPING.has(n.op)) {
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
 * A per-channel table (the device's `ChannelLut`) for a binary op with a constant
 * operand that varies along the device's channel axis only (a batch norm's `Mul`/`Add`
 * that cannot fold into a Conv, or that a QDQ model rounds separately): `C` channels and
 * the float function giving, for 256 values at once, the C x 256 outputs (channel-major).
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
  if (!SCALAR_BINARY.has(n.op) || n.inputs.length !== 2) return undefined;
  const ci = g.consts.has(n.inputs[1]) ? 1 : g.consts.has(n.inputs[0]) ? 0 : -1;
  if (ci < 0 || g.consts.has(n.inputs[1 - ci])) return undefined;
  const c = g.consts.get(n.inputs[ci])!, shape = g.shapes.get(n.inputs[1 - ci]);
  if (c.dtype !== "float32" || !shape) return undefined;
  const r = shape.length, ch = DEVICE_CHANNEL_AXIS[r];
  if (ch === undefined || c.dims.length > r) return undefined;
  const cd = [...new Array(r - c.dims.length).fill(1), ...c.dims];
  const C = shape[ch];
  if (cd[ch] !== C || cd.some((d, i) => i !== ch && d !== 1)) return undefined;
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
      const ins = n.inputs.map((t, i) => (i === 1 - ci ? constant(dims, x, "float32") : g.consts.get(t)));
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
