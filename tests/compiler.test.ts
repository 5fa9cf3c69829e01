// The compiler on a small float model built in the test (compiler IR): folding, fusion,
// cutting, quantization and lowering; the compiled program is run with the reference
// executor (tests/fixtures/reference.ts) and compared with the float model.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { tmpdir } from "node:os";
import { constant, Graph } from "../compiler/graph.ts";
import { compileGraph, compileOnnx } from "../compiler/compile.ts";
import { encodeOnnx } from "../compiler/onnx_io.ts";
import { runNode } from "../compiler/evaluate.ts";
import { loadCalibration, RangeCollector } from "../compiler/calibrate.ts";
import {
  activationParams,
  biasScaleFloor,
  lookupTable,
  quantizeBias,
  quantizeValue,
  quantizeWeights,
  roundHalfEven,
} from "../compiler/quantize.ts";
import { deviceShape } from "../compiler/lower.ts";
import { loadProgram, runReference } from "./fixtures/reference.ts";
import { prng } from "./fixtures/make_fixtures.ts";

/** A MobileNet-like float model: normalize (per channel) -> Conv+BN+Relu -> depthwise Conv ->
 *  HardSwish (as x * clip(x + 3, 0, 6) / 6) -> Conv 1x1 -> residual Add -> GAP -> Flatten
 *  -> MatMul + Add -> Softmax. */
function makeModel(seed = 7): Graph {
  const r = prng(seed);
  const rnd = (n: number, s: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const g = new Graph();
  g.inputs.push({ name: "image", shape: [1, 3, "h", "w"] });
  const c = (name: string, dims: number[], data: Float32Array) => g.consts.set(name, constant(dims, data, "float32"));
  c("mean", [1, 3, 1, 1], new Float32Array([0.485, 0.456, 0.406]));
  c("w1", [8, 3, 3, 3], rnd(8 * 27, 0.5));
  c("bn_s", [8], Float32Array.from(rnd(8, 0.5), (v) => 1 + v));
  c("bn_b", [8], rnd(8, 0.2));
  c("bn_m", [8], rnd(8, 0.1));
  c("bn_v", [8], Float32Array.from(rnd(8, 0.5), (v) => 1 + v));
  c("w2", [8, 1, 3, 3], rnd(8 * 9, 0.6));
  c("b2", [8], rnd(8, 0.1));
  c("three", [], new Float32Array([3]));
  c("six", [], new Float32Array([6]));
  c("w3", [8, 8, 1, 1], rnd(64, 0.4));
  c("fc_w", [8, 5], rnd(40, 0.8));
  c("fc_b", [5], rnd(5, 0.1));
  g.consts.set("shape", constant([2], new Float64Array([1, -1]), "int64"));
  const node = (op: string, name: string, inputs: string[], attrs: Record<string, number | number[] | string> = {}) =>
    g.nodes.push({ op, name, inputs, outputs: [name], attrs });
  node("Sub", "norm", ["image", "mean"]);
  node("Conv", "conv1", ["norm", "w1"], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  node("BatchNormalization", "bn1", ["conv1", "bn_s", "bn_b", "bn_m", "bn_v"], { epsilon: 1e-5 });
  node("Relu", "relu1", ["bn1"]);
  node("Conv", "dw", ["relu1", "w2", "b2"], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], group: 8 });
  node("Add", "hs_add", ["dw", "three"]);
  node("Clip", "hs_clip", ["hs_add"], { min: 0, max: 6 });
  node("Mul", "hs_mul", ["dw", "hs_clip"]);
  node("Div", "hs", ["hs_mul", "six"]);
  node("Conv", "pw", ["hs", "w3"], { kernel_shape: [1, 1] });
  node("Add", "res", ["pw", "hs"]);
  node("GlobalAveragePool", "gap", ["res"]);
  node("Reshape", "flat", ["gap", "shape"]);
  node("MatMul", "fc", ["flat", "fc_w"]);
  node("Add", "logits", ["fc", "fc_b"]);
  node("Softmax", "prob", ["logits"], { axis: 1 });
  g.outputs.push("prob");
  return g;
}

/** Runs a graph (float) on one input; returns every tensor. */
function runFloat(g: Graph, input: Float32Array): Map<string, { dims: number[]; data: Float32Array | Float64Array }> {
  const vals = new Map<string, ReturnType<typeof constant>>(g.consts);
  vals.set(g.inputs[0].name, constant(g.inputs[0].shape as number[], input, "float32"));
  for (const n of g.nodes) {
    const outs = runNode(n, n.inputs.map((i) => (i === "" ? undefined : vals.get(i))));
    n.outputs.forEach((o, k) => vals.set(o, outs[k]));
  }
  return vals;
}

/** NCHW float -> quantized, padded NHWC device buffer. */
function toDevice(data: ArrayLike<number>, shape: number[], scale: number, zp: number, padded: number[]): Int8Array {
  const ds = deviceShape(shape);
  const out = new Int8Array(padded.reduce((a, b) => a * b, 1)).fill(zp);
  const [N, H, W, C] = ds;
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        for (let c = 0; c < C; c++) {
          const src = shape.length === 4 ? ((n * C + c) * H + h) * W + w : n * C + c;
          out[((n * padded[1] + h) * padded[2] + w) * padded[3] + c] = quantizeValue(data[src], {
            scale,
            zeroPoint: zp,
          });
        }
      }
    }
  }
  return out;
}

describe("quantization math", () => {
  test("activation parameters cover the range and make zero exact", () => {
    const p = activationParams(-1, 3);
    assert.equal(p.scale, Math.fround(4 / 255));
    assert.equal(p.zeroPoint, roundHalfEven(-128 + 1 / p.scale));
    assert.equal(quantizeValue(0, p), p.zeroPoint);
    assert.equal(quantizeValue(3, p), 127);
    assert.equal(quantizeValue(-1, p), -128);
    assert.deepEqual(activationParams(0, 6), { scale: Math.fround(6 / 255), zeroPoint: -128 });
    assert.equal(activationParams(2, 5).zeroPoint, -128, "range widened to include 0");
    // onnxruntime's quantize_static (compute_scale_zp, onnxruntime 1.30) takes the span in
    // float32: on this range it gives scale 0.0432945191860199 (float32), zero point -93,
    // where the span in float64 would round to the float32 below (0.0432945154607296)
    assert.deepEqual(activationParams(-1.535464882850647, 9.504636764526367), {
      scale: Math.fround(0.0432945191860199),
      zeroPoint: -93,
    });
  });

  test("a dead channel with a bias widens its weight scale instead of clamping the bias", () => {
    const w = new Float32Array([1e-13, -2e-13, 0.5, 0.25]), b = new Float32Array([0.5, 0.1]);
    const xScale = 0.01, limit = 2147483647 - 2 * 255 * 128;
    const { q, scales } = quantizeWeights(w, 2, biasScaleFloor(b, xScale, limit));
    assert.equal(scales[1], Math.fround(0.5 / 127), "a live channel keeps max |w| / 127");
    const bias = quantizeBias(b, xScale, scales);
    assert.ok(Math.abs(bias[0]) <= limit, `${bias[0]}`);
    assert.ok(Math.abs(bias[0] * Math.fround(xScale * scales[0]) - 0.5) < 1e-6, "the bias survives");
    assert.deepEqual([...q.slice(0, 2)], [0, 0]);
    // without the floor the bias would not fit
    assert.ok(Math.abs(quantizeBias(b, xScale, quantizeWeights(w, 2).scales)[0]) > limit);
  });

  test("per-channel symmetric weights, int32 bias with the float32 product scale", () => {
    const { q, scales } = quantizeWeights(new Float32Array([1, -2, 0.5, 0.25, 0, 0]), 3);
    assert.deepEqual([...q], [64, -127, 127, 64, 0, 0]);
    assert.equal(scales[0], Math.fround(2 / 127));
    assert.equal(scales[1], Math.fround(0.5 / 127));
    const bias = quantizeBias(new Float32Array([0.5, -0.25, 0]), 0.1, scales);
    assert.equal(bias[0], roundHalfEven(0.5 / Math.fround(0.1 * scales[0])));
    assert.equal(bias[1], roundHalfEven(-0.25 / Math.fround(0.1 * scales[1])));
  });

  test("lookup table is q_y(f(dq_x(x))) for every int8 code", () => {
    const x = { scale: 0.05, zeroPoint: 3 }, y = { scale: 1 / 256, zeroPoint: -128 };
    const t = lookupTable((xs) => xs.map((v) => 1 / (1 + Math.exp(-v))), x, y);
    for (const i of [0, 1, 100, 128, 131, 200, 255]) {
      const v = Math.fround((i - 128 - 3) * Math.fround(0.05));
      assert.equal(t[i], quantizeValue(1 / (1 + Math.exp(-v)), y));
    }
  });
});

describe("compiler on a small float model", () => {
  test("folds, fuses, cuts and lowers; the device program tracks the float model", () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-compile-"));
    try {
      const g = makeModel();
      const messages: string[] = [];
      const r = prng(99);
      const samples = Array.from({ length: 6 }, () => [Float32Array.from({ length: 3 * 16 * 16 }, () => r())]);
      const res = compileGraph(g, join(dir, "m"), {
        inputShapes: { image: [1, 3, 16, 16] },
        calibration: samples,
        progress: (m) => messages.push(m),
      });
      const ops = res.lowered.program.json.ops.map((o) => o.op);
      // BN folded into conv1, Relu fused as a clamp, HardSwish pattern -> one Lut,
      // MatMul + Add -> Gemm, per-channel Sub -> preamble, Softmax -> postamble
      assert.deepEqual(ops, ["Conv", "Conv", "Lut", "Conv", "Add", "GlobalAveragePool", "Reshape", "Gemm"]);
      assert.ok(res.lowered.program.json.ops[0].clamp, "Relu fused into conv1 as a clamp");
      assert.deepEqual(res.lowered.preamble?.nodes.map((n) => n.op), ["Sub"]);
      assert.deepEqual(res.lowered.postamble?.nodes.map((n) => n.op), ["Softmax"]);
      assert.match(res.offDevice.get("norm") ?? "", /per-channel constant on a model input/);
      assert.match(res.offDevice.get("prob") ?? "", /Softmax/);
      assert.ok(messages.some((m) => m.startsWith("calibration 6/6")));
      assert.deepEqual(res.lowered.inputs, [{ name: "norm", shape: [1, 3, 16, 16] }]);
      assert.deepEqual(res.lowered.outputs, [{ name: "logits", shape: [1, 5] }]);

      const manifest = JSON.parse(readFileSync(join(dir, "m", "manifest.json"), "utf8"));
      assert.deepEqual(manifest.input_shapes, [[1, 16, 16, 4]]);
      assert.deepEqual(manifest.output_shapes, [[1, 1, 1, 16]]);
      assert.deepEqual(manifest.input_shapes_original, [[1, 3, 16, 16]]);
      assert.deepEqual(manifest.output_shapes_original, [[1, 5]]);

      // run: float preamble -> quantize -> reference device -> dequantize, vs float logits
      const prog = loadProgram(res.modelJson);
      const tin = prog.tensors[prog.inputs[0]], tout = prog.tensors[prog.outputs[0]];
      let worst = 0, span = 0;
      for (let k = 0; k < 4; k++) {
        const img = Float32Array.from({ length: 3 * 16 * 16 }, () => r());
        const vals = runFloat(g, img);
        const norm = vals.get("norm")!.data, logits = vals.get("logits")!.data;
        const dev = toDevice(norm, [1, 3, 16, 16], tin.scale, tin.zero_point, [1, 16, 16, 4]);
        const [out] = runReference(res.modelJson, [dev]);
        assert.equal(out.length, 16);
        for (let c = 0; c < 5; c++) {
          const v = (out[c] - tout.zero_point) * tout.scale;
          worst = Math.max(worst, Math.abs(v - logits[c]));
          span = Math.max(span, Math.abs(logits[c]));
        }
        for (let c = 5; c < 16; c++) assert.equal(out[c], tout.zero_point, "output padding holds the zero point");
      }
      if (process.env.AXR_VERBOSE) console.log({ worst, span, scale: tout.scale });
      assert.ok(span > 0.1, `logits are not trivial (${span})`);
      assert.ok(
        worst < 0.08 * span + 4 * tout.scale,
        `quantized logits within 8% of the float ones (worst ${worst}, span ${span})`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("names the node and the reason when nothing can go to the device", () => {
    const g = new Graph();
    g.inputs.push({ name: "x", shape: [1, 4] });
    g.nodes.push({ op: "Softmax", name: "sm", inputs: ["x"], outputs: ["y"], attrs: {} });
    g.outputs.push("y");
    const dir = mkdtempSync(join(tmpdir(), "axr-compile-"));
    try {
      assert.throws(
        () => compileGraph(g, dir, { randomSamples: 2 }),
        /sm \(Softmax: op Softmax has no device implementation\)/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A QDQ model: uint8 input Q/DQ, per-channel int8 Conv weights, int32 bias, int8 activations. */
function makeQdq(): { g: Graph; wq: number[] } {
  const r = prng(12);
  const g = new Graph();
  g.inputs.push({ name: "x", shape: [1, 3, 8, 8] });
  const f = (name: string, v: number[]) => g.consts.set(name, constant([], new Float32Array(v), "float32"));
  const q8 = (name: string, dims: number[], v: number[], dtype: "int8" | "uint8" | "int32") =>
    g.consts.set(name, constant(dims, Float64Array.from(v), dtype));
  f("sx", [0.02]);
  q8("zx", [], [128], "uint8");
  const wq = Array.from({ length: 4 * 3 * 9 }, () => Math.floor(r() * 255) - 127);
  q8("wq", [4, 3, 3, 3], wq, "int8");
  g.consts.set("ws", constant([4], new Float32Array([0.01, 0.02, 0.005, 0.03]), "float32"));
  q8("wz", [4], [0, 0, 0, 0], "int8");
  q8("bq", [4], [100, -50, 7, 0], "int32");
  g.consts.set(
    "bs",
    constant([4], Float32Array.from([0.01, 0.02, 0.005, 0.03], (s) => Math.fround(Math.fround(0.02) * s)), "float32"),
  );
  f("sy", [0.05]);
  q8("zy", [], [-10], "int8");
  f("sr", [0.03]);
  q8("zr", [], [-128], "int8");
  const node = (op: string, name: string, inputs: string[], attrs: Record<string, number | number[]> = {}) =>
    g.nodes.push({ op, name, inputs, outputs: [name], attrs });
  node("QuantizeLinear", "xq", ["x", "sx", "zx"]);
  node("DequantizeLinear", "xd", ["xq", "sx", "zx"]);
  node("DequantizeLinear", "w", ["wq", "ws", "wz"], { axis: 0 });
  node("DequantizeLinear", "b", ["bq", "bs"], { axis: 0 });
  node("Conv", "conv", ["xd", "w", "b"], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  node("QuantizeLinear", "cq", ["conv", "sy", "zy"]);
  node("DequantizeLinear", "cd", ["cq", "sy", "zy"]);
  node("Relu", "relu", ["cd"]);
  node("QuantizeLinear", "rq", ["relu", "sr", "zr"]);
  node("DequantizeLinear", "out", ["rq", "sr", "zr"]);
  g.outputs.push("out");
  return { g, wq };
}

describe("QDQ models", () => {
  test("keeps the model's activation scales and int8 weights (from the graph and from ONNX bytes)", async () => {
    const { g, wq } = makeQdq();
    const dir = mkdtempSync(join(tmpdir(), "axr-qdq-"));
    try {
      const res = compileGraph(g, dir, { randomSamples: 2 });
      const p = res.lowered.program;
      // the Conv output is rounded on its own grid (0.05, -10), then the Relu output on another
      // (0.03, -128): two roundings, so the Relu is a table (not a clamp of the Conv)
      assert.deepEqual(p.json.ops.map((o) => o.op), ["Conv", "Lut"]);
      const tin = p.json.tensors[p.json.inputs[0]], tout = p.json.tensors[p.json.outputs[0]];
      assert.deepEqual([tin.scale, tin.zero_point], [Math.fround(0.02), 0], "uint8 zero point 128 -> int8 0");
      assert.deepEqual([tout.scale, tout.zero_point], [Math.fround(0.03), -128], "Relu output quantization");
      const op = p.json.ops[0] as unknown as {
        weights: { offset: number; length: number };
        w_scale: { offset: number };
        bias: { offset: number };
        clamp: number[];
      };
      const w = new Int8Array(p.data.buffer, p.data.byteOffset + op.weights.offset, op.weights.length);
      for (let m = 0; m < 4; m++) {
        for (let c = 0; c < 3; c++) {
          for (let k = 0; k < 9; k++) assert.equal(w[(m * 9 + k) * 3 + c], wq[(m * 3 + c) * 9 + k]);
        }
      }
      const ws = new Float32Array(p.data.slice(op.w_scale.offset, op.w_scale.offset + 16).buffer);
      assert.deepEqual([...ws], [0.01, 0.02, 0.005, 0.03].map(Math.fround));
      const bias = new Int32Array(p.data.slice(op.bias.offset, op.bias.offset + 16).buffer);
      assert.deepEqual([...bias], [100, -50, 7, 0]);
      assert.equal(op.clamp, undefined, "no clamp: the Relu is not fused across a rounding point");
      const conv = p.json.tensors[p.json.ops[0].outputs[0]];
      assert.deepEqual([conv.scale, conv.zero_point], [Math.fround(0.05), -10], "the Conv output keeps its grid");
      const lut = p.json.ops[1] as unknown as { table: { offset: number } };
      const table = new Int8Array(p.data.buffer, p.data.byteOffset + lut.table.offset, 256);
      for (let c = -128; c < 128; c++) {
        const v = Math.max(0, Math.fround((c + 10) * Math.fround(0.05)));
        const want = Math.min(127, Math.max(-128, roundHalfEven(Math.fround(v / Math.fround(0.03))) - 128));
        assert.equal(table[c + 128], want, `Relu table at ${c}`);
      }
      // the same model as ONNX bytes (onnxruntime calibration runs the QDQ model): same program
      const fromOnnx = await compileOnnx(encodeOnnx(makeQdq().g, { opset: 13 }), join(dir, "onnx"), {
        randomSamples: 2,
        calibrator: "onnxruntime",
      });
      assert.deepEqual(fromOnnx.lowered.program.json, p.json);
      assert.deepEqual(fromOnnx.lowered.program.data, p.data);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("compile report", () => {
  test("warns loudly without calibration data, and names a tensor whose range clips the calibration set", () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-report-"));
    try {
      const messages: string[] = [];
      compileGraph(makeModel(), join(dir, "a"), {
        inputShapes: { image: [1, 3, 16, 16] },
        randomSamples: 2,
        progress: (m) => messages.push(m),
      });
      assert.ok(messages.some((m) => /^WARNING: no calibration data/.test(m)), messages.join("\n"));
      assert.ok(messages.some((m) => /multiply-accumulates on the device: [0-9.]+%/.test(m)));
      // percentile calibration drops the most extreme 0.01% of each sample (1 of 12288 values): the input grid clips it
      const r = prng(5);
      const samples = Array.from({ length: 3 }, () => {
        const x = Float32Array.from({ length: 3 * 64 * 64 }, () => r());
        x[7] = 40;
        return [x];
      });
      const res = compileGraph(makeModel(), join(dir, "b"), {
        inputShapes: { image: [1, 3, 64, 64] },
        calibration: samples,
        calibrationMethod: "percentile",
      });
      assert.ok(
        res.report.warnings.some((w) => /tensor norm: .* clips the float range/.test(w)),
        res.report.warnings.join("\n"),
      );
      const text = readFileSync(join(dir, "b", "compile_report.txt"), "utf8");
      assert.match(text, /^quantized: norm \[/m);
      assert.match(text, /^off the device: prob \(Softmax/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("constant folding", () => {
  test("folds a QuantizeLinear on .5 ties half to even, as onnxruntime", () => {
    const n = { op: "QuantizeLinear", name: "q", inputs: ["x", "s", "z"], outputs: ["y"], attrs: {} };
    const x = constant([6], new Float32Array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5]), "float32");
    const [y] = runNode(n, [
      x,
      constant([], new Float32Array([1]), "float32"),
      constant([], new Float64Array([0]), "int8"),
    ]);
    assert.deepEqual([...y.data], [0, 2, 2, 0, -2, -2]);
    assert.equal(y.dtype, "int8");
  });
});

describe("calibration data", () => {
  test("reads .npy, .f32 and .json samples from a directory, in name order, batches split", () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-calib-"));
    try {
      const g = new Graph();
      g.inputs.push({ name: "x", shape: [1, 2, 2, 1] });
      const npy = (values: number[], shape: number[]) => {
        let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${
          shape.length === 1 ? "," : ""
        }), }`;
        header += " ".repeat(63 - ((10 + header.length) % 64)) + "\n";
        const h = new TextEncoder().encode(header);
        const out = new Uint8Array(10 + h.length + 4 * values.length);
        out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
        out.set(h, 10);
        out.set(new Uint8Array(new Float32Array(values).buffer), 10 + h.length);
        return out;
      };
      writeFileSync(join(dir, "a.npy"), npy([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 2, 2, 1])); // a batch of 2
      writeFileSync(join(dir, "b.f32"), new Uint8Array(new Float32Array([9, 10, 11, 12]).buffer));
      writeFileSync(join(dir, "c.json"), JSON.stringify([[[[13], [14]], [[15], [16]]]]));
      writeFileSync(join(dir, "notes.txt"), "ignored");
      const samples = loadCalibration(dir, g);
      assert.deepEqual(samples.map((s) => [...s[0]]), [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]);
      writeFileSync(join(dir, "d.f32"), new Uint8Array(new Float32Array([1, 2, 3]).buffer));
      assert.throws(() => loadCalibration(dir, g), /d\.f32: 3 values, not a multiple of the input size 4/);
      const rc = new RangeCollector("mean");
      rc.note("t", new Float32Array([-1, 3]));
      rc.note("t", new Float32Array([-3, 1]));
      assert.deepEqual(rc.ranges(2).get("t"), { min: -2, max: 2 });
      const mm = new RangeCollector("minmax");
      mm.note("t", new Float32Array([-1, 3]));
      mm.note("t", new Float32Array([-3, 1]));
      assert.deepEqual(mm.ranges(2).get("t"), { min: -3, max: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("layout", () => {
  test("rank-3 and flattened outputs keep ONNX element order on the device (reshapes move NHWC to NCHW order)", () => {
    const r = prng(21);
    const g = new Graph();
    g.inputs.push({ name: "x", shape: [1, 3, 6, 6] });
    g.consts.set("w", constant([4, 3, 1, 1], Float32Array.from({ length: 12 }, () => r() - 0.5), "float32"));
    g.consts.set("s3", constant([3], new Float64Array([1, 4, 36]), "int64"));
    const node = (op: string, name: string, inputs: string[], attrs: Record<string, number | number[]> = {}) =>
      g.nodes.push({ op, name, inputs, outputs: [name], attrs });
    node("Conv", "c", ["x", "w"], { kernel_shape: [1, 1] });
    node("Reshape", "seq", ["c", "s3"]);
    node("Flatten", "flat", ["c"], { axis: 1 });
    g.outputs.push("seq", "flat");
    const samples = Array.from({ length: 4 }, () => [Float32Array.from({ length: 108 }, () => r() * 2 - 1)]);
    const dir = mkdtempSync(join(tmpdir(), "axr-layout-"));
    try {
      const res = compileGraph(g, dir, { calibration: samples, floatTail: false });
      assert.deepEqual(res.lowered.program.json.ops.map((o) => o.op), [
        "Conv",
        "Transpose",
        "Reshape",
        "Transpose",
        "Reshape",
      ]);
      const prog = loadProgram(res.modelJson);
      assert.deepEqual(prog.outputs.map((i) => prog.tensors[i].shape), [[1, 1, 4, 36], [1, 1, 1, 144]]);
      const img = samples[0][0];
      const want = runFloat(g, img);
      const tin = prog.tensors[prog.inputs[0]];
      const [seqOut, flatOut] = runReference(res.modelJson, [
        toDevice(img, [1, 3, 6, 6], tin.scale, tin.zero_point, [1, 6, 6, 4]),
      ]);
      for (const [k, out, name, n] of [[0, seqOut, "seq", 36], [1, flatOut, "flat", 144]] as const) {
        const t = prog.tensors[prog.outputs[k]];
        const padded = t.shape[3] + t.padding[3][1];
        const f = want.get(name)!.data;
        for (let i = 0; i < f.length; i++) {
          const row = Math.floor(i / n), col = i % n; // ONNX row-major order, rows of the last axis
          const q = out[row * padded + col];
          // input quantization error through the 1x1 conv is up to ~0.006 here: 3 output steps
          assert.ok(
            Math.abs((q - t.zero_point) * t.scale - f[i]) <= 3 * t.scale,
            `${name}[${i}]: ${(q - t.zero_point) * t.scale} vs ${f[i]}`,
          );
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
