// Concats written by their producers' chains, with the chain after them applied in the same
// kernel call (onnx/optimize_concat.ts, onnx/ops/concat_chain.ts): every graph is run
// optimized and node by node (`{ optimize: false }`) and compared bit for bit, on data with
// ties, NaN, infinities and values beyond the saturation; odd sizes (tails of the SIMD loops).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type NodeProto, type Tensor, tensor } from "../onnx/mod.ts";
import { both, n, rand, sameBits } from "./helpers/optimize_cases.ts";
import { type ChainOp, dropRepeatedQdq } from "../onnx/ops/fused.ts";

/** `count` floats around `scale`'s grid, with ties and specials. */
function grid(count: number, scale: number, seed: number): Float32Array {
  const r = rand(count, seed, 40);
  const specials = [NaN, Infinity, -Infinity, -0, 0, 1e30, -1e30];
  for (let i = 0; i < count; i++) {
    if (i % 7 === 0) r[i] = (Math.round(r[i]) + 0.5) * scale;
    else if (i % 11 === 0) r[i] = specials[(i / 11) % specials.length | 0];
  }
  return r;
}

const i64 = (v: number[]) => tensor("int64", [v.length], v.map(BigInt));

/** Q -> DQ nodes on `x` with the constants `${g}_s` / `${g}_z` (added to `init`). */
function qdq(x: string, y: string, g: string, scale: number, zp: number, init: Record<string, Tensor>): NodeProto[] {
  init[`${g}_s`] = tensor("float32", [], [scale]);
  init[`${g}_z`] = tensor("int8", [], [zp]);
  return [
    n("QuantizeLinear", [x, `${g}_s`, `${g}_z`], `${y}_q`),
    n("DequantizeLinear", [`${y}_q`, `${g}_s`, `${g}_z`], y),
  ];
}

/** YOLOv8's box tail: slices, box arithmetic with Q/DQ, two Concats on axis 1, Q/DQ after each. */
function yoloTail(w: number, scores = 11, concatAxis = 1) {
  const init: Record<string, Tensor> = {
    c12: tensor("float32", [1, 2, w], rand(2 * w, 3, 30)),
    c13: tensor("float32", [1, 2, w], rand(2 * w, 4, 30)),
    two: tensor("float32", [], [2]),
    stride: tensor("float32", [1, w], rand(w, 5, 8)),
    s0: i64([0]),
    s2: i64([2]),
    s4: i64([4]),
    ax: i64([1]),
  };
  const nodes: NodeProto[] = [
    n("Slice", ["x", "s0", "s2", "ax"], "a"),
    n("Slice", ["x", "s2", "s4", "ax"], "b"),
    n("Sub", ["c12", "a"], "sub0"),
    ...qdq("sub0", "sub", "g1", 0.5190128, -119, init),
    n("Add", ["c13", "b"], "add0"),
    ...qdq("add0", "add", "g2", 0.5083158, -128, init),
    n("Add", ["sub", "add"], "add2_0"),
    ...qdq("add2_0", "add2", "g3", 1.0019011, -128, init),
    n("Div", ["add2", "two"], "div0"),
    ...qdq("div0", "div", "g4", 0.5009505, -128, init),
    n("Sub", ["add", "sub"], "sub1_0"),
    ...qdq("sub1_0", "sub1", "g5", 0.1175739, -128, init),
    n("Concat", ["div", "sub1"], "cat2_0", { axis: concatAxis }),
    ...qdq("cat2_0", "cat2", "g4", 0.5009505, -128, init), // the grid of its first input
    n("Mul", ["cat2", "stride"], "mul0"),
    ...qdq("mul0", "mul", "g6", 4.0076046, -128, init),
    n("Concat", ["mul", "scores"], "cat3", { axis: concatAxis }),
    ...qdq("cat3", "y", "g6", 4.0076046, -128, init),
  ];
  const x = tensor("float32", [1, 4, w], grid(4 * w, 0.0587998, 7));
  const extra = { scores: tensor("float32", [1, scores, w], grid(scores * w, 4.0076046, 8)) };
  return { nodes, x, init, extra };
}

describe("Concat written by its producers' chains", () => {
  for (const w of [1031, 4096, 257]) {
    test(`YOLOv8's box tail, ${w} anchors: one ConcatChain, same bits`, () => {
      const { opt, a, b } = both(yoloTail(w));
      sameBits(a, b);
      const plan = opt.executionPlan().map((p) => p.opType);
      assert.equal(plan.filter((t) => t === "ConcatChain").length, 1);
      assert.ok(!plan.includes("Concat"), plan.join(","));
    });
  }

  test("parts below the kernels' minimum size: the nodes one by one, same bits", () => {
    const { a, b } = both(yoloTail(33, 3));
    sameBits(a, b);
  });

  test("a Concat on an axis after a dimension above 1: the nodes one by one, same bits", () => {
    const init: Record<string, Tensor> = {};
    const nodes = [
      n("Relu", ["x"], "r"),
      n("Sigmoid", ["x"], "s"),
      n("Concat", ["r", "s"], "c", { axis: 2 }),
      ...qdq("c", "y", "g", 0.02, 3, init),
    ];
    const x = tensor("float32", [1, 3, 301], grid(903, 0.02, 9));
    const { opt, a, b } = both({ nodes, x, init });
    sameBits(a, b);
    assert.ok(opt.executionPlan().some((p) => p.opType === "ConcatChain"));
  });

  test("an operand after the Concat that varies along its axis: the nodes one by one, same bits", () => {
    const init: Record<string, Tensor> = { k: tensor("float32", [1, 4, 1], [0.5, 2, -3, 7]) };
    const nodes = [
      n("Relu", ["x"], "r"),
      n("Sigmoid", ["x"], "s"),
      n("Concat", ["r", "s"], "c", { axis: 1 }),
      n("Mul", ["c", "k"], "y"),
    ];
    const x = tensor("float32", [1, 2, 517], grid(1034, 0.02, 10));
    const { opt, a, b } = both({ nodes, x, init });
    sameBits(a, b);
    assert.ok(opt.executionPlan().some((p) => p.opType === "ConcatChain"));
  });

  test("a per-channel operand along another axis and a negative axis: fused, same bits", () => {
    const init: Record<string, Tensor> = { k: tensor("float32", [1, 1, 523], rand(523, 11, 3)) };
    const nodes = [
      n("Relu", ["x"], "r"),
      n("Concat", ["r", "x2"], "c", { axis: -2 }),
      n("Mul", ["c", "k"], "m"),
      ...qdq("m", "y", "g", 0.03, -7, init),
    ];
    const x = tensor("float32", [1, 2, 523], grid(1046, 0.03, 12));
    const extra = { x2: tensor("float32", [1, 3, 523], grid(1569, 0.03, 13)) };
    const { opt, a, b } = both({ nodes, x, init, extra });
    sameBits(a, b);
    assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["ConcatChain"]);
  });
});

describe("dropRepeatedQdq", () => {
  const q = (scale: number, zeroPoint: number, type: "int8" | "uint8" = "int8"): ChainOp => ({
    kind: "qdq",
    scale,
    zeroPoint,
    type,
  });
  test("drops a pair right after the same pair only", () => {
    const ops: ChainOp[] = [q(0.5, 1), q(0.5, 1), q(0.5, 2), q(0.5, 2, "uint8"), { kind: "relu" }, q(0.5, 2, "uint8")];
    assert.deepEqual(dropRepeatedQdq(ops), [
      q(0.5, 1),
      q(0.5, 2),
      q(0.5, 2, "uint8"),
      { kind: "relu" },
      q(0.5, 2, "uint8"),
    ]);
  });
});
