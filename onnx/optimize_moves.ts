/**
 * A load-time rewrite of QDQ graphs (run first by `optimizeSteps`): a QuantizeLinear ->
 * DequantizeLinear pair that puts back onto a quantization grid a value that is already on
 * it is an identity, and is dropped.
 *
 * A value is on the grid `(scale, zero point, type)` when a DequantizeLinear with those
 * scalar constant parameters produced it, or a data-movement op (Reshape, Flatten, Squeeze,
 * Unsqueeze, Transpose, Slice, Identity: every output element is an input element) moved it
 * from such a value. onnxruntime's quantizer gives these ops the quantization of their
 * input, so a QDQ model has such a pair after each of them (PP-OCR's SVTR neck: 32 of its
 * 111 pairs). Exactness: a grid value is `v = f32((q - zp) * s)` for an integer `q` in the
 * type's range, so `v / s` is within `|q - zp| * 2^-23` of the integer `q - zp`; it rounds
 * back to `q` (no clamp: `q` is in range) and the DequantizeLinear gives `v` again, bit for
 * bit.
 *
 * @example
 * ```ts
 * import { OnnxGraph } from "./graph.ts";
 * const bytes = new Uint8Array(await Deno.readFile("postamble.onnx"));
 * const g = OnnxGraph.fromBytes(bytes); // DQ -> Reshape -> Q -> DQ runs as DQ -> Reshape
 * ```
 * @module
 */
import type { GraphView, Step } from "./optimize.ts";
import { VALUE_MOVE_OPS } from "./ops/kinds.ts";

/** The grid of a Q/DQ node's scalar constant parameters (`scale zero-point dtype`), or undefined. */
function gridOf(s: Step, g: GraphView): string | undefined {
  const [, sName, zName] = s.node.inputs;
  const scale = sName ? g.constants.get(sName) : undefined, zp = zName ? g.constants.get(zName) : undefined;
  if (!scale || !zp || scale.dtype !== "float32" || scale.data.length !== 1 || zp.data.length !== 1) return undefined;
  if (zp.dtype !== "int8" && zp.dtype !== "uint8") return undefined;
  return `${(scale.data as Float32Array)[0]} ${(zp.data as Int8Array | Uint8Array)[0]} ${zp.dtype}`;
}

/**
 * Drops every QuantizeLinear -> DequantizeLinear pair whose input is already on their grid
 * (see the module doc); the pair's consumers read the input instead. A pair whose
 * QuantizeLinear output has another reader, or whose output is a graph output, stays.
 * @example `steps = dropRequantizedMoves(steps, { constants, outputs: new Set(["y"]), opset: 13 })`
 */
export function dropRequantizedMoves(steps: Step[], g: GraphView): Step[] {
  const readers = new Map<string, number>();
  for (const s of steps) for (const n of s.node.inputs) if (n) readers.set(n, (readers.get(n) ?? 0) + 1);
  const consumer = new Map<string, number>();
  steps.forEach((s, i) => s.node.inputs.forEach((n) => n && consumer.set(n, i)));
  const grid = new Map<string, string>();
  const rename = new Map<string, string>();
  const dropped = new Set<number>();
  const out: Step[] = [];
  steps.forEach((s, i) => {
    if (dropped.has(i)) return;
    const ins = s.node.inputs.map((n) => rename.get(n) ?? n);
    const step = ins.some((n, k) => n !== s.node.inputs[k]) ? { ...s, node: { ...s.node, inputs: ins } } : s;
    const op = s.node.opType, x = ins[0];
    if (op === "DequantizeLinear") {
      const key = gridOf(s, g);
      if (key) grid.set(s.node.outputs[0], key);
    } else if (VALUE_MOVE_OPS.has(op) && x && grid.has(x) && s.node.outputs.length === 1) {
      grid.set(s.node.outputs[0], grid.get(x)!);
    } else if (op === "QuantizeLinear" && x && grid.has(x)) {
      const qOut = s.node.outputs[0], j = consumer.get(qOut) ?? -1;
      const dq = j >= 0 ? steps[j] : undefined;
      const dqOut = dq?.node.outputs[0];
      if (
        dq && dqOut && dq.node.opType === "DequantizeLinear" && readers.get(qOut) === 1 && !g.outputs.has(qOut) &&
        !g.outputs.has(dqOut) && dq.node.inputs[0] === qOut && gridOf(s, g) === grid.get(x) &&
        gridOf(dq, g) === grid.get(x)
      ) {
        dropped.add(j);
        rename.set(dqOut, x);
        return;
      }
    }
    out.push(step);
  });
  return out;
}
