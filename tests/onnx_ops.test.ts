import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type AttrValue,
  encodeModel,
  float,
  makeModel,
  makeNode,
  OnnxGraph,
  type Tensor,
  tensor,
  toNumbers,
  valueInfo,
} from "../onnx/mod.ts";

const f32 = (shape: number[], v: number[]) => tensor("float32", shape, v);
const i64 = (shape: number[], v: number[]) => tensor("int64", shape, v);

/** Runs one node on the given inputs (through encode/decode, so the writer is exercised too). */
function run(
  op: string,
  inputs: Record<string, Tensor>,
  attrs: Record<string, AttrValue> = {},
  opts: { opset?: number; outputs?: number; order?: string[] } = {},
): Tensor[] {
  const names = opts.order ?? Object.keys(inputs);
  const outs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => `out${i}`);
  const m = makeModel({
    opset: opts.opset ?? 17,
    nodes: [makeNode(op, names, outs, attrs, "n0")],
    inputs: names.filter((n) => n).map((n) => valueInfo(n, inputs[n].dtype, inputs[n].shape)),
    outputs: outs.map((o) => valueInfo(o, "float32", null)),
  });
  m.graph.outputs.forEach((o) => (o.elemType = 0));
  const g = OnnxGraph.fromBytes(encodeModel(m));
  const r = g.run(inputs);
  return outs.map((o) => r[o]);
}

function close(t: Tensor, shape: number[], want: number[], tol = 1e-5) {
  assert.deepEqual(t.shape, shape);
  const got = toNumbers(t);
  assert.equal(got.length, want.length);
  got.forEach((v, i) =>
    assert.ok(Math.abs(v - want[i]) <= tol * (1 + Math.abs(want[i])), `element ${i}: ${v} vs ${want[i]}`)
  );
}

describe("onnx ops: element-wise", () => {
  test("Add/Sub/Mul/Div/Pow with broadcasting", () => {
    const a = f32([2, 3], [1, 2, 3, 4, 5, 6]), b = f32([3], [1, 2, 4]);
    close(run("Add", { a, b })[0], [2, 3], [2, 4, 7, 5, 7, 10]);
    close(run("Sub", { a, b })[0], [2, 3], [0, 0, -1, 3, 3, 2]);
    close(run("Mul", { a, b })[0], [2, 3], [1, 4, 12, 4, 10, 24]);
    close(run("Div", { a, b })[0], [2, 3], [1, 1, 0.75, 4, 2.5, 1.5]);
    close(run("Pow", { a, b: f32([2, 1], [2, 0.5]) })[0], [2, 3], [1, 4, 9, 2, Math.sqrt(5), Math.sqrt(6)]);
    close(run("Add", { a: i64([2], [1, -3]), b: i64([1], [10]) })[0], [2], [11, 7]);
    close(run("Div", { a: tensor("int32", [2], [7, -7]), b: tensor("int32", [1], [2]) })[0], [2], [3, -3]);
  });
  test("unary math and activations", () => {
    const x = f32([4], [-2, -0.5, 0, 3]);
    close(run("Neg", { x })[0], [4], [2, 0.5, 0, -3]);
    close(run("Abs", { x })[0], [4], [2, 0.5, 0, 3]);
    close(run("Relu", { x })[0], [4], [0, 0, 0, 3]);
    close(run("Exp", { x })[0], [4], [Math.exp(-2), Math.exp(-0.5), 1, Math.exp(3)]);
    close(run("Sigmoid", { x })[0], [4], [1 / (1 + Math.exp(2)), 1 / (1 + Math.exp(0.5)), 0.5, 1 / (1 + Math.exp(-3))]);
    close(run("Tanh", { x })[0], [4], [Math.tanh(-2), Math.tanh(-0.5), 0, Math.tanh(3)]);
    close(run("LeakyRelu", { x }, { alpha: float(0.1) })[0], [4], [-0.2, -0.05, 0, 3]);
    close(run("HardSigmoid", { x })[0], [4], [0.1, 0.4, 0.5, 1]);
    close(run("HardSwish", { x })[0], [4], [-2 * (1 / 6), -0.5 * (2.5 / 6), 0, 3]);
    close(run("Floor", { x })[0], [4], [-2, -1, 0, 3]);
    close(run("Ceil", { x })[0], [4], [-2, -0, 0, 3]);
    const p = f32([3], [1, 4, 0.25]);
    close(run("Sqrt", { p })[0], [3], [1, 2, 0.5]);
    close(run("Log", { p })[0], [3], [0, Math.log(4), Math.log(0.25)]);
  });
  test("Min/Max (variadic), comparisons, logic, Where", () => {
    const a = f32([3], [1, 5, 3]), b = f32([3], [4, 2, 3]), c = f32([1], [2.5]);
    close(run("Max", { a, b, c })[0], [3], [4, 5, 3]);
    close(run("Min", { a, b, c })[0], [3], [1, 2, 2.5]);
    assert.deepEqual(toNumbers(run("Equal", { a, b })[0]), [0, 0, 1]);
    assert.deepEqual(toNumbers(run("Greater", { a, b })[0]), [0, 1, 0]);
    assert.deepEqual(toNumbers(run("Less", { a, b })[0]), [1, 0, 0]);
    assert.equal(run("Less", { a, b })[0].dtype, "bool");
    const t = tensor("bool", [3], [1, 0, 1]), u = tensor("bool", [3], [1, 1, 0]);
    assert.deepEqual(toNumbers(run("And", { t, u })[0]), [1, 0, 0]);
    assert.deepEqual(toNumbers(run("Not", { t })[0]), [0, 1, 0]);
    close(run("Where", { t, a, c })[0], [3], [1, 2.5, 3]);
  });
  test("Clip: attributes before opset 11, inputs after; min > max gives max", () => {
    const x = f32([4], [-5, 0.5, 2, 9]);
    close(run("Clip", { x }, { min: float(0), max: float(6) }, { opset: 6 })[0], [4], [0, 0.5, 2, 6]);
    close(run("Clip", { x, lo: f32([], [0]), hi: f32([], [1]) })[0], [4], [0, 0.5, 1, 1]);
    close(run("Clip", { x, lo: f32([], [1]) })[0], [4], [1, 1, 2, 9]);
    close(run("Clip", { x, lo: f32([], [3]), hi: f32([], [1]) })[0], [4], [1, 1, 1, 1]);
  });
  test("Cast and Identity", () => {
    const x = f32([4], [-1.7, 0, 2.9, 300]);
    const r = run("Cast", { x }, { to: 6 })[0];
    assert.equal(r.dtype, "int32");
    assert.deepEqual(toNumbers(r), [-1, 0, 2, 300]);
    assert.deepEqual(Array.from(run("Cast", { x }, { to: 7 })[0].data as BigInt64Array), [-1n, 0n, 2n, 300n]);
    assert.deepEqual(toNumbers(run("Cast", { x }, { to: 9 })[0]), [1, 0, 1, 1]);
    close(run("Identity", { x })[0], [4], [-1.7, 0, 2.9, 300]);
  });
});

describe("onnx ops: nn", () => {
  test("Softmax/LogSoftmax: opset 13 axis vs opset 11 coerce-to-2D", () => {
    const x = f32([2, 2], [0, Math.log(3), 1, 1]);
    close(run("Softmax", { x })[0], [2, 2], [0.25, 0.75, 0.5, 0.5]);
    close(run("Softmax", { x }, { axis: 0 })[0], [2, 2], [
      1 / (1 + Math.E),
      3 / (3 + Math.E),
      Math.E / (1 + Math.E),
      Math.E / (3 + Math.E),
    ]);
    // opset 11, axis 0 -> the whole tensor is one softmax
    const tot = 1 + 3 + 2 * Math.E;
    close(run("Softmax", { x }, { axis: 0 }, { opset: 11 })[0], [2, 2], [1 / tot, 3 / tot, Math.E / tot, Math.E / tot]);
    close(run("LogSoftmax", { x })[0], [2, 2], [Math.log(0.25), Math.log(0.75), Math.log(0.5), Math.log(0.5)]);
  });
  test("MatMul (batched, broadcast, 1-D) and Gemm", () => {
    const a = f32([2, 2, 3], [1, 2, 3, 4, 5, 6, 1, 0, 0, 0, 1, 0]), b = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    close(run("MatMul", { a, b })[0], [2, 2, 2], [22, 28, 49, 64, 1, 2, 3, 4]);
    close(run("MatMul", { v: f32([3], [1, 1, 1]), b })[0], [2], [9, 12]);
    const c = f32([2], [10, 20]);
    close(
      run("Gemm", { a: f32([3, 2], [1, 4, 2, 5, 3, 6]), b, c }, { transA: 1, alpha: float(2), beta: float(0.5) })[0],
      [2, 2],
      [49, 66, 103, 138],
    );
    close(run("Gemm", { a: f32([2, 3], [1, 2, 3, 4, 5, 6]), b: f32([2, 3], [1, 3, 5, 2, 4, 6]) }, { transB: 1 })[0], [
      2,
      2,
    ], [22, 28, 49, 64]);
  });
  test("Conv: 1x1 with bias, 3x3 with pads/strides, groups", () => {
    const x = f32([1, 2, 2, 2], [1, 2, 3, 4, 10, 20, 30, 40]);
    close(run("Conv", { x, w: f32([1, 2, 1, 1], [1, 0.5]), b: f32([1], [1]) })[0], [1, 1, 2, 2], [7, 13, 19, 25]);
    const y = f32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]), ones = f32([1, 1, 3, 3], new Array(9).fill(1));
    close(run("Conv", { y, ones }, { pads: [1, 1, 1, 1], strides: [2, 2] })[0], [1, 1, 2, 2], [12, 16, 24, 28]);
    close(run("Conv", { y, ones }, { auto_pad: "SAME_UPPER" })[0], [1, 1, 3, 3], [12, 21, 16, 27, 45, 33, 24, 39, 28]);
    close(run("Conv", { x, w: f32([2, 1, 1, 1], [2, 3]) }, { group: 2 })[0], [1, 2, 2, 2], [
      2,
      4,
      6,
      8,
      30,
      60,
      90,
      120,
    ]);
  });
  test("MaxPool, AveragePool, GlobalAveragePool", () => {
    const x = f32([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    close(run("MaxPool", { x }, { kernel_shape: [2, 2] })[0], [1, 1, 2, 2], [5, 6, 8, 9]);
    close(run("MaxPool", { x }, { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 })[0], [1, 1, 2, 2], [
      5,
      6,
      8,
      9,
    ]);
    close(run("AveragePool", { x }, { kernel_shape: [2, 2], pads: [1, 1, 0, 0] })[0], [1, 1, 3, 3], [
      1,
      1.5,
      2.5,
      2.5,
      3,
      4,
      5.5,
      6,
      7,
    ]);
    close(run("GlobalAveragePool", { x })[0], [1, 1, 1, 1], [5]);
  });
  test("Resize nearest and linear", () => {
    const x = f32([1, 1, 1, 2], [1, 3]);
    close(run("Resize", { x, roi: f32([0], []), sc: f32([4], [1, 1, 1, 2]) }, { mode: "nearest" })[0], [1, 1, 1, 4], [
      1,
      1,
      3,
      3,
    ]);
    close(run("Resize", { x, roi: f32([0], []), sc: f32([4], [1, 1, 1, 2]) }, { mode: "linear" })[0], [1, 1, 1, 4], [
      1,
      1.5,
      2.5,
      3,
    ]);
    close(
      run("Resize", { x, roi: f32([0], []), sc: f32([0], []), sz: i64([4], [1, 1, 1, 3]) }, {
        mode: "linear",
        coordinate_transformation_mode: "align_corners",
      })[0],
      [1, 1, 1, 3],
      [1, 2, 3],
    );
  });
  test("BatchNormalization (inference)", () => {
    const x = f32([1, 2, 1, 2], [1, 2, 3, 4]);
    const [s, b, m, v] = [f32([2], [1, 2]), f32([2], [0, 1]), f32([2], [1, 3]), f32([2], [4, 1])];
    close(run("BatchNormalization", { x, s, b, m, v }, { epsilon: float(0) })[0], [1, 2, 1, 2], [0, 0.5, 1, 3]);
  });
});

describe("onnx ops: shape", () => {
  const x = f32([2, 3], [1, 2, 3, 4, 5, 6]);
  test("Reshape (0 and -1), Flatten, Squeeze/Unsqueeze (attribute vs input)", () => {
    close(run("Reshape", { x, s: i64([2], [0, -1]) })[0], [2, 3], [1, 2, 3, 4, 5, 6]);
    close(run("Reshape", { x, s: i64([3], [3, 1, -1]) })[0], [3, 1, 2], [1, 2, 3, 4, 5, 6]);
    close(run("Flatten", { x: f32([2, 1, 3], [1, 2, 3, 4, 5, 6]) }, { axis: 0 })[0], [1, 6], [1, 2, 3, 4, 5, 6]);
    close(run("Unsqueeze", { x, a: i64([2], [0, -1]) })[0], [1, 2, 3, 1], [1, 2, 3, 4, 5, 6]);
    close(run("Unsqueeze", { x }, { axes: [1] }, { opset: 11 })[0], [2, 1, 3], [1, 2, 3, 4, 5, 6]);
    const y = f32([1, 3, 1], [1, 2, 3]);
    close(run("Squeeze", { y })[0], [3], [1, 2, 3]);
    close(run("Squeeze", { y, a: i64([1], [2]) })[0], [1, 3], [1, 2, 3]);
    close(run("Squeeze", { y }, { axes: [0] }, { opset: 11 })[0], [3, 1], [1, 2, 3]);
  });
  test("Transpose, Concat, Split (input vs attribute)", () => {
    close(run("Transpose", { x })[0], [3, 2], [1, 4, 2, 5, 3, 6]);
    close(run("Transpose", { t: f32([1, 2, 3], [1, 2, 3, 4, 5, 6]) }, { perm: [2, 0, 1] })[0], [3, 1, 2], [
      1,
      4,
      2,
      5,
      3,
      6,
    ]);
    close(run("Concat", { x, y: f32([2, 1], [7, 8]) }, { axis: 1 })[0], [2, 4], [1, 2, 3, 7, 4, 5, 6, 8]);
    const [a, b] = run("Split", { x, s: i64([2], [1, 2]) }, { axis: 1 }, { outputs: 2 });
    close(a, [2, 1], [1, 4]);
    close(b, [2, 2], [2, 3, 5, 6]);
    const [c, d] = run("Split", { x }, { axis: 1, split: [2, 1] }, { outputs: 2, opset: 11 });
    close(c, [2, 2], [1, 2, 4, 5]);
    close(d, [2, 1], [3, 6]);
    const [e, f] = run("Split", { x }, { axis: 0 }, { outputs: 2 });
    close(e, [1, 3], [1, 2, 3]);
    close(f, [1, 3], [4, 5, 6]);
  });
  test("Slice (negative, steps, clamped), Gather, Shape, Expand, ConstantOfShape, Constant", () => {
    close(run("Slice", { x, s: i64([1], [1]), e: i64([1], [1000]), a: i64([1], [1]) })[0], [2, 2], [2, 3, 5, 6]);
    close(
      run("Slice", { x, s: i64([1], [-1]), e: i64([1], [-1000]), a: i64([1], [1]), st: i64([1], [-2]) })[0],
      [2, 2],
      [3, 1, 6, 4],
    );
    close(run("Slice", { x }, { starts: [0], ends: [1], axes: [0] }, { opset: 9 })[0], [1, 3], [1, 2, 3]);
    // runs along the last axis with step 1 are block copies: bits kept (-0), int64 too
    const z = run("Slice", {
      x: f32([2, 4], [-0, 1, -0, 3, 4, -0, 6, 7]),
      s: i64([1], [1]),
      e: i64([1], [4]),
      a: i64([1], [1]),
    })[0];
    assert.deepEqual(Array.from(z.data as Float32Array), [1, -0, 3, -0, 6, 7]);
    const l =
      run("Slice", { x: i64([2, 3], [1, 2, 3, 4, 5, 6]), s: i64([1], [0]), e: i64([1], [2]), a: i64([1], [1]) })[0];
    assert.deepEqual(toNumbers(l), [1, 2, 4, 5]);
    close(run("Gather", { x, i: i64([2], [2, -3]) }, { axis: 1 })[0], [2, 2], [3, 1, 6, 4]);
    close(run("Gather", { x, i: i64([], [1]) })[0], [3], [4, 5, 6]);
    const sh = run("Shape", { x })[0];
    assert.equal(sh.dtype, "int64");
    assert.deepEqual(toNumbers(sh), [2, 3]);
    close(run("Expand", { v: f32([3, 1], [1, 2, 3]), s: i64([3], [2, 1, 2]) })[0], [2, 3, 2], [
      1,
      1,
      2,
      2,
      3,
      3,
      1,
      1,
      2,
      2,
      3,
      3,
    ]);
    const cs = run("ConstantOfShape", { s: i64([2], [2, 2]) }, { value: tensor("int32", [1], [7]) })[0];
    assert.equal(cs.dtype, "int32");
    assert.deepEqual(toNumbers(cs), [7, 7, 7, 7]);
    close(run("Constant", {}, { value: f32([2], [0.5, 1.5]) })[0], [2], [0.5, 1.5]);
  });
});

describe("onnx ops: reductions and quantization", () => {
  const x = f32([2, 3], [1, 5, 3, 4, 2, 6]);
  test("ReduceMax/Sum/Mean: axes attribute vs input, keepdims", () => {
    close(run("ReduceMax", { x }, { axes: [1] }, { opset: 13 })[0], [2, 1], [5, 6]);
    close(run("ReduceMax", { x, a: i64([1], [0]) }, { keepdims: 0 }, { opset: 18 })[0], [3], [4, 5, 6]);
    close(run("ReduceSum", { x, a: i64([1], [0]) })[0], [1, 3], [5, 7, 9]);
    close(run("ReduceSum", { x }, { axes: [1], keepdims: 0 }, { opset: 11 })[0], [2], [9, 12]);
    close(run("ReduceSum", { x }, { keepdims: 0 })[0], [], [21]);
    close(run("ReduceMean", { x }, { axes: [0, 1] }, { opset: 13 })[0], [1, 1], [3.5]);
  });
  test("ArgMax and TopK", () => {
    const am = run("ArgMax", { x }, { axis: 1 })[0];
    assert.equal(am.dtype, "int64");
    assert.deepEqual(am.shape, [2, 1]);
    assert.deepEqual(toNumbers(am), [1, 2]);
    const [v, i] = run("TopK", { x, k: i64([1], [2]) }, {}, { outputs: 2 });
    close(v, [2, 2], [5, 3, 6, 4]);
    assert.deepEqual(toNumbers(i), [1, 2, 2, 0]);
    const [v2, i2] = run("TopK", { x, k: i64([1], [1]) }, { largest: 0, axis: 0 }, { outputs: 2 });
    close(v2, [1, 3], [1, 2, 3]);
    assert.deepEqual(toNumbers(i2), [0, 1, 0]);
  });
  test("QuantizeLinear / DequantizeLinear (per tensor, per axis, round half to even, saturation)", () => {
    const q = run("QuantizeLinear", {
      x: f32([6], [0, 1, 2.5, 3.5, -300, 300]),
      s: f32([], [1]),
      z: tensor("uint8", [], [128]),
    })[0];
    assert.equal(q.dtype, "uint8");
    assert.deepEqual(toNumbers(q), [128, 129, 130, 132, 0, 255]);
    const q8 =
      run("QuantizeLinear", { x: f32([2, 2], [1, 2, 1, 2]), s: f32([2], [0.5, 1]), z: tensor("int8", [2], [0, -1]) }, {
        axis: 1,
      })[0];
    assert.equal(q8.dtype, "int8");
    assert.deepEqual(toNumbers(q8), [2, 1, 2, 1]);
    close(
      run("DequantizeLinear", {
        x: tensor("uint8", [3], [0, 128, 255]),
        s: f32([], [0.5]),
        z: tensor("uint8", [], [128]),
      })[0],
      [3],
      [-64, 0, 63.5],
    );
    close(run("DequantizeLinear", { x: tensor("int8", [2, 2], [1, 2, 3, 4]), s: f32([2], [2, 10]) }, { axis: 0 })[0], [
      2,
      2,
    ], [2, 4, 30, 40]);
  });
});

describe("onnx ops: extra", () => {
  test("Pad constant/edge/reflect (pads input) and opset 2 attributes", () => {
    const x = f32([1, 3], [1, 2, 3]);
    close(run("Pad", { x, p: i64([4], [0, 2, 0, 1]), v: f32([], [9]) })[0], [1, 6], [9, 9, 1, 2, 3, 9]);
    close(run("Pad", { x, p: i64([4], [0, 2, 0, 1]) }, { mode: "edge" })[0], [1, 6], [1, 1, 1, 2, 3, 3]);
    close(run("Pad", { x, p: i64([4], [0, 2, 0, 2]) }, { mode: "reflect" })[0], [1, 7], [3, 2, 1, 2, 3, 2, 1]);
    close(run("Pad", { x }, { pads: [1, 0, 0, 0] }, { opset: 2 })[0], [2, 3], [0, 0, 0, 1, 2, 3]);
  });
  test("ConvTranspose with stride 2 and bias", () => {
    const x = f32([1, 1, 2], [1, 2]), w = f32([1, 1, 3], [1, 1, 1]);
    close(run("ConvTranspose", { x, w, b: f32([1], [0.5]) }, { strides: [2] })[0], [1, 1, 5], [
      1.5,
      1.5,
      3.5,
      2.5,
      2.5,
    ]);
  });
  test("CumSum, Range, GatherElements", () => {
    close(run("CumSum", { x: f32([4], [1, 2, 3, 4]), a: i64([], [0]) })[0], [4], [1, 3, 6, 10]);
    close(run("CumSum", { x: f32([4], [1, 2, 3, 4]), a: i64([], [0]) }, { exclusive: 1, reverse: 1 })[0], [4], [
      9,
      7,
      4,
      0,
    ]);
    close(run("Range", { s: f32([], [1]), l: f32([], [2]), d: f32([], [0.25]) })[0], [4], [1, 1.25, 1.5, 1.75]);
    close(
      run("GatherElements", { x: f32([2, 2], [1, 2, 3, 4]), i: i64([2, 2], [0, 0, 1, 0]) }, { axis: 1 })[0],
      [2, 2],
      [1, 1, 4, 3],
    );
  });
});
