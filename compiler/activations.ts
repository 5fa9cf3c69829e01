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
import type { Graph, Node } from "./graph.ts";
import { numel } from "./graph.ts";
import { evalUnary } from "./evaluate.ts";

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
