// The runner's first load-time rewrite (onnx/optimize_moves.ts): QuantizeLinear ->
// DequantizeLinear pairs that put a moved value back onto the grid it came from are
// dropped; the graph gives the same bits as node by node (`{ optimize: false }`).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type AttrValue,
  encodeModel,
  makeModel,
  makeNode,
  type NodeProto,
  OnnxGraph,
  tensor,
  valueInfo,
} from "../onnx/mod.ts";
import { seededFloats } from "./helpers/kernel_data.ts";

const n = (op: string, ins: string[], out: string, attrs: Record<string, AttrValue> = {}) =>
  makeNode(op, ins, [out], attrs, `${op}_${out}`);

/** Q then DQ of `x` onto grid `g` (initializers `s_g`, `z_g`), output `out`. */
const qdq = (x: string, g: string, out: string): NodeProto[] => [
  n("QuantizeLinear", [x, `s_${g}`, `z_${g}`], `${out}_q`),
  n("DequantizeLinear", [`${out}_q`, `s_${g}`, `z_${g}`], out),
];

const init = {
  s_a: tensor("float32", [], [0.0371]),
  z_a: tensor("int8", [], [-7]),
  s_b: tensor("float32", [], [0.0371]),
  z_b: tensor("int8", [], [-7]), // the same grid under other names
  s_c: tensor("float32", [], [0.0372]), // another scale
  z_c: tensor("int8", [], [-7]),
  s_u: tensor("float32", [], [0.0371]),
  z_u: tensor("uint8", [], [121]), // another type
  shape: tensor("int64", [2], [BigInt(6), BigInt(20)]),
  starts: tensor("int64", [1], [BigInt(1)]),
  ends: tensor("int64", [1], [BigInt(5)]),
  axes: tensor("int64", [1], [BigInt(0)]),
  two: tensor("float32", [], [2]),
};

function run(nodes: NodeProto[], outputs = ["y"]) {
  const x = tensor("float32", [2, 3, 4, 5], seededFloats(120, 7, 6));
  const bytes = encodeModel(makeModel({
    opset: 17,
    nodes,
    inputs: [valueInfo("x", "float32", x.shape)],
    outputs: outputs.map((o) => valueInfo(o, "float32", null)),
    initializers: init,
  }));
  const opt = OnnxGraph.fromBytes(bytes), plain = OnnxGraph.fromBytes(bytes, { optimize: false });
  const a = opt.run({ x }), b = plain.run({ x });
  for (const o of outputs) assert.deepEqual(a[o], b[o], `output ${o}`);
  // the op of every node that still runs, also inside fused steps (the kernel chains run
  // QuantizeLinear -> DequantizeLinear pairs; their names join the members' `${op}_${out}`)
  return opt.executionPlan().flatMap((s) => s.name.split(/[+|]/).map((m) => m.slice(0, m.indexOf("_"))));
}

const count = (plan: string[], op: string) => plan.filter((o) => o === op).length;

describe("requantized data movement (QDQ graphs)", () => {
  test("the pairs after Reshape, Transpose and Slice on the same grid are dropped, bit-exact", () => {
    const plan = run([
      ...qdq("x", "a", "x0"),
      n("Reshape", ["x0", "shape"], "r"),
      ...qdq("r", "b", "r0"),
      n("Transpose", ["r0"], "t", { perm: [1, 0] }),
      ...qdq("t", "a", "t0"),
      n("Slice", ["t0", "starts", "ends", "axes"], "sl"),
      ...qdq("sl", "a", "sl0"),
      n("Mul", ["sl0", "two"], "y"),
    ]);
    // the first pair quantizes the float input: it stays
    assert.equal(count(plan, "QuantizeLinear"), 1);
    assert.equal(count(plan, "DequantizeLinear"), 1);
  });

  test("another scale, another type, a value that was not on the grid, or a graph output: the pair stays", () => {
    const plan = run([
      ...qdq("x", "a", "x0"),
      n("Reshape", ["x0", "shape"], "r"),
      ...qdq("r", "c", "r0"), // other scale: a real rounding
      n("Transpose", ["r0"], "t", { perm: [1, 0] }),
      ...qdq("t", "u", "t0"), // other type
      n("Mul", ["t0", "two"], "m"), // arithmetic: off the grid
      ...qdq("m", "u", "m0"),
      n("Reshape", ["m0", "shape"], "r2"),
      ...qdq("r2", "u", "y"), // a graph output
    ]);
    assert.equal(count(plan, "QuantizeLinear"), 5);
  });

  test("a QuantizeLinear output read by another node keeps the pair", () => {
    const plan = run([
      ...qdq("x", "a", "x0"),
      n("Flatten", ["x0"], "f"),
      ...qdq("f", "a", "f0"),
      n("Identity", ["f0_q"], "q_out"),
      n("Mul", ["f0", "two"], "y"),
    ], ["y", "q_out"]);
    assert.equal(count(plan, "QuantizeLinear"), 2);
  });
});
