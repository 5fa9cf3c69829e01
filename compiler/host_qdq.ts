/**
 * Puts back, in a host part (preamble or postamble) of a QDQ model, the
 * QuantizeLinear -> DequantizeLinear pairs that `simplify` turned into given quantization:
 * every tensor the host part produces (or reads from the model's inputs) that the QDQ
 * model quantizes is rounded and clamped there exactly as onnxruntime does (an int8
 * QuantizeLinear with the zero point moved onto the int8 grid is the same rounding and
 * clamp as the model's uint8 one). Without them the host part would lose, for example,
 * the clamp of a Relu that onnxruntime's quantizer removed (zero point -128).
 *
 * @example
 * ```ts
 * import { withHostQdq } from "./compiler/host_qdq.ts";
 * const post = withHostQdq(postamble, graph.quant, new Set(["images"]));
 * ```
 * @module
 */
import { constant, type Graph, type Node } from "./graph.ts";
import type { QParams } from "./quantize.ts";

function qdq(g: Graph, from: string, to: string, q: QParams, name: string): Node[] {
  const sc = g.fresh(`${name}_scale`);
  g.consts.set(sc, constant([], new Float32Array([q.scale]), "float32"));
  const zp = g.fresh(`${name}_zero_point`);
  g.consts.set(zp, constant([], new Float64Array([q.zeroPoint]), "int8"));
  const mid = g.fresh(`${name}_quantized`);
  g.shapes.set(mid, g.shapes.get(to) ?? g.shapes.get(from) ?? []);
  return [
    { op: "QuantizeLinear", name: g.fresh(`${name}_q`), inputs: [from, sc, zp], outputs: [mid], attrs: {} },
    { op: "DequantizeLinear", name: g.fresh(`${name}_dq`), inputs: [mid, sc, zp], outputs: [to], attrs: {} },
  ];
}

/**
 * Returns `sub` with a QuantizeLinear -> DequantizeLinear pair after every quantized
 * tensor it produces, and after every quantized model input it reads (`modelInputs`).
 * Inputs that come from the device are on their grid already and get none.
 *
 * @example
 * ```ts
 * withHostQdq(sub, new Map([["y", { scale: 0.1, zeroPoint: -128 }]]), new Set());
 * ```
 */
export function withHostQdq(sub: Graph, quant: Map<string, QParams>, modelInputs: Set<string>): Graph {
  if (!quant.size) return sub;
  const nodes: Node[] = [];
  for (const i of sub.inputs) {
    const q = quant.get(i.name);
    if (!q || !modelInputs.has(i.name)) continue;
    const f = sub.fresh(`${i.name}_dq`);
    sub.shapes.set(f, sub.shapes.get(i.name) ?? []);
    for (const n of sub.nodes) n.inputs = n.inputs.map((t) => (t === i.name ? f : t));
    sub.outputs = sub.outputs.map((t) => (t === i.name ? f : t));
    nodes.push(...qdq(sub, i.name, f, q, i.name));
  }
  for (const n of sub.nodes) {
    nodes.push(n);
    n.outputs.forEach((o, k) => {
      const q = quant.get(o);
      if (!q || o === "") return;
      const f = sub.fresh(`${o}_float`);
      sub.shapes.set(f, sub.shapes.get(o) ?? []);
      n.outputs[k] = f;
      nodes.push(...qdq(sub, f, o, q, o));
    });
  }
  sub.nodes = nodes;
  return sub;
}
