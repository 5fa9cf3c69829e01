/**
 * The compiler's float semantics are the host graph runner's: every node is evaluated by
 * the op table of `onnx/ops` (constant folding, shape inference, TypeScript calibration,
 * the values of lookup tables), so the compiler and the runtime's pre/postambles compute
 * the same floats (QuantizeLinear rounds half to even in both). The compiler's own fused
 * `SiLU` runs as ONNX `Swish`.
 *
 * @example
 * ```ts
 * import { runNode } from "./compiler/evaluate.ts";
 * import { constant } from "./compiler/graph.ts";
 * const [y] = runNode({ op: "Relu", name: "r", inputs: ["x"], outputs: ["y"], attrs: {} },
 *   [constant([2], new Float32Array([-1, 2]))]);
 * ```
 * @module
 */
import { CompileError, type Const, f32, type Node } from "./graph.ts";
import { runHostOp } from "./host_ops.ts";
import { outputDims } from "./shapes.ts";
import { ortSigmoid } from "./ort_float.ts";

/** Ops whose parameters moved from attributes to inputs: the opset that reads the attribute form. */
const ATTR_FORM: Record<string, [string, number]> = {
  Squeeze: ["axes", 11],
  Unsqueeze: ["axes", 11],
  Split: ["split", 11],
  ReduceMean: ["axes", 11],
  ReduceSum: ["axes", 11],
  ReduceMax: ["axes", 11],
  ReduceMin: ["axes", 11],
  ReduceSumSquare: ["axes", 11],
  ReduceProd: ["axes", 11],
  ReduceL2: ["axes", 11],
  Clip: ["min", 10],
  Pad: ["pads", 10],
};

/**
 * The opset a node is evaluated with: its own (models below opset 13), the graph's, or,
 * for graphs built in memory (opset 0), the opset whose form its attributes use.
 *
 * @example
 * ```ts
 * opsetOf({ op: "Squeeze", name: "s", inputs: ["x"], outputs: ["y"], attrs: { axes: [0] } }, 0); // 11
 * ```
 */
export function opsetOf(n: Node, graphOpset: number): number {
  if (n.opset) return n.opset;
  if (graphOpset > 0) return graphOpset;
  const form = ATTR_FORM[n.op];
  if (form && n.attrs[form[0]] !== undefined) return form[1];
  if (n.op === "Clip" && n.attrs.max !== undefined) return 10;
  return 17;
}

/**
 * Runs one node on constant inputs (`undefined` for absent optional inputs) with the
 * graph runner's ops; returns its outputs. With `shapeOnly`, heavy ops return zeros of
 * the right shape (shape inference). Throws CompileError for an op `onnx/ops` lacks.
 *
 * @example
 * ```ts
 * const [y] = runNode({ op: "Add", name: "a", inputs: ["x", "y"], outputs: ["z"], attrs: {} },
 *   [constant([1], new Float32Array([1])), constant([1], new Float32Array([2]))]);
 * ```
 */
export function runNode(n: Node, ins: (Const | undefined)[], shapeOnly = false, graphOpset = 0): Const[] {
  if (shapeOnly) {
    const dims = outputDims(n, ins);
    if (dims) return [f32(dims)];
  }
  const node = n.op === "SiLU" ? { ...n, op: "Swish", attrs: {}, attrTypes: undefined } : n;
  let outs: Const[] | undefined;
  try {
    outs = runHostOp(node, ins, opsetOf(n, graphOpset));
  } catch (e) {
    if (e instanceof CompileError) throw e;
    throw new CompileError(`node ${n.name} (${n.op}): ${(e as Error).message}`);
  }
  if (!outs) throw new CompileError(`node ${n.name} (${n.op}): op ${n.op} is not supported (no float implementation)`);
  return outs;
}

/**
 * Evaluates an element-wise node of one activation input on many values at once (the
 * other inputs are the graph's constants): the float function behind a lookup table.
 * Sigmoid and SiLU use onnxruntime's Sigmoid (compiler/ort_float.ts), so that a QDQ
 * model's table gives onnxruntime's int8 values.
 *
 * @example
 * ```ts
 * evalUnary(sigmoidNode, 0, new Map(), 13)(new Float32Array([0])); // Float32Array [0.5]
 * ```
 */
export function evalUnary(
  n: Node,
  act: number,
  consts: Map<string, Const>,
  graphOpset: number,
): (xs: Float32Array) => Float32Array {
  // a table must give onnxruntime's values: its Sigmoid is not the correctly rounded one
  if (n.op === "Sigmoid") return ortSigmoid;
  if (n.op === "SiLU") return (xs) => Float32Array.from(ortSigmoid(xs), (s, i) => xs[i] * s);
  return (xs) => {
    const ins = n.inputs.map((t, i) => i === act ? f32([xs.length], xs) : t === "" ? undefined : consts.get(t));
    const [y] = runNode({ ...n, outputs: [n.outputs[0]] }, ins, false, graphOpset);
    if (y.data.length !== xs.length) {
      throw new CompileError(`node ${n.name} (${n.op}): not element-wise (${y.data.length} outputs of ${xs.length})`);
    }
    return Float32Array.from(y.data);
  };
}
