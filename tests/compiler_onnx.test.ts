// The quantized ONNX form of device programs (compiler/qonnx.ts) run by onnxruntime-node
// with graph optimizations disabled: bit for bit equal to the reference executor (and so
// to the device) on the committed fixtures and on a compiled float model; the native
// library joins the comparison when it loads.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-node";
import { constant, Graph } from "../compiler/graph.ts";
import { compileGraph, compileOnnx } from "../compiler/compile.ts";
import { runNode } from "../compiler/evaluate.ts";
import { compileMain, parseInputShapes } from "../cli/compile.ts";
import { decodeOnnx, encodeOnnx } from "../compiler/onnx_io.ts";
import { loadProgram, runReference } from "./fixtures/reference.ts";
import { prng, randomInputs } from "./fixtures/make_fixtures.ts";
import { quantizedSession, runQuantizedOnnx } from "./fixtures/ort.ts";
import { openNative } from "./fixtures/native.ts";
import { encodeModel, makeModel, makeNode, OnnxGraph, tensor, valueInfo } from "../onnx/mod.ts";

const here = dirname(fileURLToPath(import.meta.url));

describe("quantized ONNX in onnxruntime matches the reference bit for bit", () => {
  for (const f of ["tiny", "ops", "uint8"]) {
    test(`fixture ${f}`, async () => {
      const path = join(here, "fixtures", f, "model.json");
      const prog = loadProgram(path);
      const session = await quantizedSession(new Uint8Array(readFileSync(join(here, "fixtures", f, "quantized.onnx"))));
      const rand = prng(0x0a7 + f.length);
      for (let k = 0; k < 6; k++) {
        const ins = randomInputs(prog, rand);
        const want = runReference(path, ins);
        const got = await runQuantizedOnnx(session, prog, ins);
        got.forEach((o, j) =>
          assert.deepEqual(o, want[j], `${f} run ${k} output ${j} (${prog.tensors[prog.outputs[j]].name})`)
        );
      }
    });
  }
});

/** A small float CNN: Conv+Relu, strided depthwise Conv + Sigmoid, Concat, MaxPool,
 *  AveragePool, Upsample, Add, GAP, Gemm, Softmax (postamble). */
function smallModel(): Graph {
  const r = prng(31);
  const rnd = (n: number, s: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const g = new Graph();
  g.inputs.push({ name: "x", shape: [1, 3, 12, 12] });
  const c = (name: string, dims: number[], data: Float32Array) => g.consts.set(name, constant(dims, data, "float32"));
  c("w1", [8, 3, 3, 3], rnd(216, 0.5));
  c("b1", [8], rnd(8, 0.1));
  c("w2", [8, 1, 3, 3], rnd(72, 0.5));
  c("w3", [8, 16, 1, 1], rnd(128, 0.4));
  c("fc", [4, 8], rnd(32, 0.7));
  c("fcb", [4], rnd(4, 0.1));
  g.consts.set("up", constant([4], new Float32Array([1, 1, 2, 2]), "float32"));
  const node = (op: string, name: string, inputs: string[], attrs: Record<string, number | number[] | string> = {}) =>
    g.nodes.push({ op, name, inputs, outputs: [name], attrs });
  node("Conv", "c1", ["x", "w1", "b1"], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  node("Relu", "r1", ["c1"]);
  node("Conv", "dw", ["r1", "w2"], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], group: 8 });
  node("Sigmoid", "sg", ["dw"]);
  node("Concat", "cat", ["r1", "sg"], { axis: 1 });
  node("MaxPool", "mp", ["cat"], { kernel_shape: [2, 2], strides: [2, 2] });
  node("AveragePool", "ap", ["cat"], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  node("Add", "sum", ["mp", "ap"]);
  node("Conv", "pw", ["sum", "w3"], { kernel_shape: [1, 1] });
  node("Resize", "upx", ["pw", "", "up"], {
    mode: "nearest",
    coordinate_transformation_mode: "asymmetric",
    nearest_mode: "floor",
  });
  node("GlobalAveragePool", "gap", ["upx"]);
  node("Flatten", "flat", ["gap"], { axis: 1 });
  node("Gemm", "logits", ["flat", "fc", "fcb"], { transB: 1 });
  node("Softmax", "prob", ["logits"], { axis: 1 });
  g.outputs.push("prob");
  return g;
}

describe("a compiled float model", () => {
  test("quantized.onnx == reference (== native library when it loads); postamble runs in onnxruntime", async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-qonnx-"));
    try {
      const r = prng(5);
      const samples = Array.from({ length: 6 }, () => [Float32Array.from({ length: 3 * 144 }, () => r() * 2 - 1)]);
      const floatModel = encodeOnnx(smallModel());
      const res = compileGraph(smallModel(), join(dir, "m"), {
        calibration: samples,
        floatTail: false,
      });
      assert.deepEqual(res.lowered.program.json.ops.map((o) => o.op), [
        "Conv",
        "Conv",
        "Lut",
        "Concat",
        "MaxPool",
        "AveragePool",
        "Add",
        "Conv",
        "Resize",
        "GlobalAveragePool",
        "Reshape",
        "Gemm",
      ]);
      const m = join(dir, "m");
      for (const f of ["model.json", "manifest.json", "program.axp", "quantized.onnx", "postamble.onnx"]) {
        assert.ok(existsSync(join(m, f)), f);
      }
      assert.ok(!existsSync(join(m, "preamble.onnx")));
      const prog = loadProgram(res.modelJson);
      const session = await quantizedSession(new Uint8Array(readFileSync(join(m, "quantized.onnx"))));
      const post = await ort.InferenceSession.create(new Uint8Array(readFileSync(join(m, "postamble.onnx"))));
      const fsess = await ort.InferenceSession.create(floatModel);
      const tout = prog.tensors[prog.outputs[0]];
      const tin = prog.tensors[prog.inputs[0]];
      const opened = await openNative();
      const native = typeof opened === "string" ? undefined : opened.load(res.modelJson);
      if (typeof opened === "string") console.warn(`compiler_onnx.test.ts: native library not compared: ${opened}`);
      for (let k = 0; k < 5; k++) {
        const img = Float32Array.from({ length: 3 * 144 }, () => r() * 2 - 1);
        // quantize + pad the float input as the host does
        const dev = new Int8Array(12 * 12 * 4).fill(tin.zero_point);
        for (let h = 0; h < 12; h++) {
          for (let w = 0; w < 12; w++) {
            for (let ch = 0; ch < 3; ch++) {
              const q = Math.round(img[(ch * 12 + h) * 12 + w] / tin.scale) + tin.zero_point;
              dev[(h * 12 + w) * 4 + ch] = Math.max(-128, Math.min(127, q));
            }
          }
        }
        const want = runReference(res.modelJson, [dev]);
        const got = await runQuantizedOnnx(session, prog, [dev]);
        assert.deepEqual(got[0], want[0], `run ${k}: onnxruntime vs reference`);
        if (native) assert.deepEqual(native([dev])[0], want[0], `run ${k}: native vs reference`);
        // dequantize -> postamble (Softmax) in onnxruntime; compare with the float model
        const logits = Float32Array.from({ length: 4 }, (_, c) => (want[0][c] - tout.zero_point) * tout.scale);
        const probs =
          (await post.run({ [post.inputNames[0]]: new ort.Tensor("float32", logits, [1, 4]) }))[post.outputNames[0]]
            .data as Float32Array;
        const ref = (await fsess.run({ x: new ort.Tensor("float32", img, [1, 3, 12, 12]) })).prob.data as Float32Array;
        assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
        for (let c = 0; c < 4; c++) {
          assert.ok(Math.abs(probs[c] - ref[c]) < 0.05, `run ${k} class ${c}: ${probs[c]} vs float ${ref[c]}`);
        }
      }
      if (typeof opened !== "string") opened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("from ONNX bytes and the command line", () => {
  test("decode(encode(model)) compiles to the same program as the graph itself; onnxruntime calibration agrees", async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-dec-"));
    try {
      const r = prng(8);
      const samples = Array.from({ length: 3 }, () => [Float32Array.from({ length: 3 * 144 }, () => r())]);
      const a = compileGraph(smallModel(), join(dir, "a"), { calibration: samples });
      const b = await compileOnnx(encodeOnnx(smallModel()), join(dir, "b"), {
        calibration: samples,
        calibrator: "typescript",
      });
      assert.deepEqual(b.lowered.program.json, a.lowered.program.json);
      assert.deepEqual(b.lowered.program.data, a.lowered.program.data);
      // onnxruntime calibration: same program structure, scales within float rounding
      const c = await compileOnnx(encodeOnnx(smallModel()), join(dir, "c"), {
        calibration: samples,
        calibrator: "onnxruntime",
      });
      assert.deepEqual(c.lowered.program.json.ops.map((o) => o.op), a.lowered.program.json.ops.map((o) => o.op));
      c.lowered.program.json.tensors.forEach((t, i) => {
        const u = a.lowered.program.json.tensors[i];
        assert.equal(t.name, u.name);
        assert.ok(Math.abs(t.scale - u.scale) <= 1e-5 * u.scale, `${t.name}: ${t.scale} vs ${u.scale}`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("compileMain: usage errors exit 2, compile errors name the node and exit 1, success writes the directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-cli-"));
    try {
      const errs: string[] = [];
      const io = { out: () => {}, err: (s: string) => void errs.push(s) };
      assert.equal(await compileMain([], io), 2);
      assert.match(errs.join(""), /missing MODEL\.onnx[\s\S]*Usage: axr compile/);
      assert.equal(await compileMain(["a.onnx", "--bogus"], io), 2);
      assert.equal(await compileMain(["a.onnx", "--calibration-method", "median"], io), 2);
      assert.equal(await compileMain(["a.onnx", "b.onnx"], io), 2);
      errs.length = 0;
      const helpOut: string[] = [];
      assert.equal(await compileMain(["--help", "--bogus"], { out: (s) => void helpOut.push(s), err: io.err }), 0);
      assert.match(helpOut.join(""), /Usage: axr compile/, "--help prints the usage and does no work");
      assert.equal(await compileMain(["a.onnx", "--input-shape", "1,a,3"], io), 2);
      assert.equal(await compileMain([join(dir, "missing.onnx"), "-q"], io), 3);
      const g = smallModel();
      g.inputs[0].shape = [1, 3, "h", "w"];
      const path = join(dir, "m.onnx");
      writeFileSync(path, encodeOnnx(g));
      errs.length = 0;
      assert.equal(
        await compileMain([path, "-o", join(dir, "out"), "-q"], io),
        2,
        "dynamic shape without --input-shape: a missing option, a usage error",
      );
      assert.match(errs.join(""), /input x has a dynamic shape .*give --input-shape/);
      const outs: string[] = [];
      assert.equal(
        await compileMain([path, "-o", join(dir, "out"), "-q", "--input-shape", "x:1,3,12,12", "--samples", "2"], {
          out: (s) => void outs.push(s),
          err: () => {},
        }),
        0,
      );
      assert.equal(outs.join("").trim(), join(dir, "out", "model.json"));
      const prog = loadProgram(join(dir, "out", "model.json"));
      assert.equal(prog.ops.length, 12);
      assert.deepEqual(parseInputShapes(["1,3,8,8", "y=2x4"]), { "": [1, 3, 8, 8], y: [2, 4] });
      // a float head after the last Conv: the clamp and the global pool stay on the device
      // (it sends 4 pooled values, not 4x6x6 features) and the final Sigmoid stays float on
      // the host, the compile report says why; --no-float-tail puts the Sigmoid on the device
      const h = new Graph();
      h.inputs.push({ name: "x", shape: [1, 3, 8, 8] });
      h.consts.set("w", constant([4, 3, 3, 3], Float32Array.from({ length: 108 }, (_, i) => ((i % 7) - 3) / 8)));
      h.nodes.push({ op: "Conv", name: "c", inputs: ["x", "w"], outputs: ["c"], attrs: { kernel_shape: [3, 3] } });
      h.nodes.push({ op: "Relu", name: "r", inputs: ["c"], outputs: ["r"], attrs: {} });
      h.nodes.push({ op: "GlobalAveragePool", name: "p", inputs: ["r"], outputs: ["p"], attrs: {} });
      h.nodes.push({ op: "Sigmoid", name: "s", inputs: ["p"], outputs: ["y"], attrs: {} });
      h.outputs.push("y");
      const headPath = join(dir, "head.onnx");
      writeFileSync(headPath, encodeOnnx(h));
      const quiet = { out: () => {}, err: () => {} };
      assert.equal(await compileMain([headPath, "-o", join(dir, "tail"), "-q", "--samples", "2"], quiet), 0);
      assert.equal(
        await compileMain([headPath, "-o", join(dir, "dev"), "-q", "--samples", "2", "--no-float-tail"], quiet),
        0,
      );
      const progOf = (d: string) => loadProgram(join(dir, d, "model.json"));
      const ops = (d: string) => progOf(d).ops.map((o) => o.op);
      assert.ok(ops("tail").includes("GlobalAveragePool"), `default: the pool is on the device (${ops("tail")})`);
      assert.deepEqual(
        progOf("tail").tensors[progOf("tail").outputs[0]].shape,
        [1, 1, 1, 4],
        "the device sends 4 values",
      );
      assert.ok(!ops("tail").includes("Lut"), `default: the Sigmoid is on the host (${ops("tail")})`);
      assert.match(
        readFileSync(join(dir, "tail", "compile_report.txt"), "utf8"),
        /off the device: s \(Sigmoid: after the last Conv\/Gemm of its path: kept float/,
      );
      assert.ok(ops("dev").includes("Lut"), `--no-float-tail: the Sigmoid is on the device (${ops("dev")})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("pre/postamble ONNX", () => {
  test("keeps the model's opset and writes fused activations back as ops of that opset", async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-amble-"));
    try {
      const r = prng(3);
      const g = new Graph();
      g.opset = 9;
      g.inputs.push({ name: "x", shape: [1, 4, 6, 6] });
      g.consts.set("w", constant([4, 4, 1, 1], Float32Array.from({ length: 16 }, () => r() - 0.5), "float32"));
      g.consts.set("three", constant([], new Float32Array([3]), "float32"));
      g.consts.set("sixth", constant([], new Float32Array([1 / 6]), "float32"));
      const node = (op: string, name: string, inputs: string[], attrs: Record<string, number | number[]> = {}) =>
        g.nodes.push({ op, name, inputs, outputs: [name], attrs });
      node("Conv", "c", ["x", "w"], { kernel_shape: [1, 1] });
      node("Softmax", "sm", ["c"], { axis: 1 });
      // after the Softmax: postamble; HardSwish as x * clip(x + 3, 0, 6) / 6 and SiLU as x * sigmoid(x)
      node("Add", "a3", ["sm", "three"]);
      node("Clip", "cl", ["a3"], { min: 0, max: 6 });
      node("Mul", "m", ["sm", "cl"]);
      node("Mul", "hs", ["m", "sixth"]);
      node("Sigmoid", "sg", ["hs"]);
      node("Mul", "silu", ["hs", "sg"]);
      g.outputs.push("silu");
      const res = compileGraph(g, join(dir, "m"), { randomSamples: 2 });
      assert.deepEqual(res.lowered.postamble?.nodes.map((n) => n.op), ["Softmax", "HardSwish", "SiLU"]);
      const bytes = new Uint8Array(readFileSync(join(dir, "m", "postamble.onnx")));
      const back = decodeOnnx(bytes);
      assert.equal(back.opset, 9);
      assert.deepEqual(back.nodes.map((n) => n.op), ["Softmax", "HardSigmoid", "Mul", "Sigmoid", "Mul"]);
      const sess = await ort.InferenceSession.create(bytes);
      const x = Float32Array.from({ length: 144 }, () => r() * 4 - 2);
      const y = (await sess.run({ c: new ort.Tensor("float32", x, [1, 4, 6, 6]) })).silu.data as Float32Array;
      // float reference of the same chain (opset 9 Softmax: over all of C*H*W)
      const e = Array.from(x, Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      for (let i = 0; i < 144; i++) {
        const v = e[i] / s;
        const h = v * Math.min(Math.max(v + 3, 0), 6) / 6;
        assert.ok(Math.abs(y[i] - h / (1 + Math.exp(-h))) < 1e-6, `${i}: ${y[i]}`);
      }
      // the compiler's own float executor follows the opset (calibration ranges)
      const sm = runNode({ op: "Softmax", name: "s", inputs: ["c"], outputs: ["y"], attrs: { axis: 1 }, opset: 9 }, [
        constant([1, 4, 6, 6], x, "float32"),
      ])[0];
      assert.ok(Math.abs(Array.from(sm.data).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** More lowering paths: auto_pad SAME_UPPER with stride 2, a fused Clip(0, 6), an SE block
 *  (GAP -> 1x1 convs -> HardSigmoid -> Mul broadcast over HxW), LeakyRelu, MaxPool with
 *  ceil_mode, Concat of differently quantized tensors, channel Slice, Split, Transpose,
 *  Flatten of a 4-D tensor, Gemm with transB/alpha/beta; two outputs. */
function pathsModel(): Graph {
  const r = prng(77);
  const rnd = (n: number, s: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const g = new Graph();
  g.inputs.push({ name: "x", shape: [1, 3, 12, 12] });
  const c = (name: string, dims: number[], data: Float32Array) => g.consts.set(name, constant(dims, data, "float32"));
  c("w1", [8, 3, 3, 3], rnd(216, 0.5));
  c("se1", [2, 8, 1, 1], rnd(16, 0.6));
  c("se2", [8, 2, 1, 1], rnd(16, 0.6));
  c("w2", [8, 8, 1, 1], rnd(64, 0.4));
  c("fc", [3, 45], rnd(135, 0.3));
  c("fcb", [3], rnd(3, 0.2));
  c("zero", [], new Float32Array([0]));
  c("six", [], new Float32Array([6]));
  const i64 = (name: string, v: number[]) => g.consts.set(name, constant([v.length], Float64Array.from(v), "int64"));
  i64("st", [2]);
  i64("en", [10]);
  i64("ax", [1]);
  i64("sp", [3, 5]);
  const node = (op: string, outs: string[], inputs: string[], attrs: Record<string, number | number[] | string> = {}) =>
    g.nodes.push({ op, name: outs[0], inputs, outputs: outs, attrs });
  node("Conv", ["c1"], ["x", "w1"], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: "SAME_UPPER" }); // 6x6
  node("Clip", ["r6"], ["c1", "zero", "six"]);
  node("GlobalAveragePool", ["sq"], ["r6"]);
  node("Conv", ["e1"], ["sq", "se1"], { kernel_shape: [1, 1] });
  node("Relu", ["e1r"], ["e1"]);
  node("Conv", ["e2"], ["e1r", "se2"], { kernel_shape: [1, 1] });
  node("HardSigmoid", ["gate"], ["e2"], { alpha: 0.2, beta: 0.5 });
  node("Mul", ["se"], ["r6", "gate"]);
  node("Conv", ["c2"], ["se", "w2"], { kernel_shape: [1, 1] });
  node("LeakyRelu", ["lr"], ["c2"], { alpha: 0.1 });
  node("MaxPool", ["mp"], ["lr"], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }); // 3x3
  node("MaxPool", ["mp2"], ["se"], { kernel_shape: [2, 2], strides: [2, 2] }); // 3x3
  node("Concat", ["cat"], ["mp", "mp2"], { axis: 1 }); // 16 channels
  node("Slice", ["sl"], ["cat", "st", "en", "ax"]); // channels 2..9
  node("Split", ["s0", "s1"], ["sl", "sp"], { axis: 1 }); // 3 + 5 channels
  node("Transpose", ["tr"], ["s0"], { perm: [0, 1, 3, 2] });
  node("Flatten", ["flat"], ["s1"], { axis: 1 }); // [1, 45]
  node("Gemm", ["logits"], ["flat", "fc", "fcb"], { transB: 1, alpha: 0.5, beta: 2 });
  g.outputs.push("tr", "logits");
  return g;
}

describe("lowering paths", () => {
  test("SE block, SAME padding, ceil-mode pool, Concat/Slice/Split/Transpose/Flatten, Gemm: bit-exact and close to float", async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-paths-"));
    try {
      const r = prng(6);
      const samples = Array.from({ length: 6 }, () => [Float32Array.from({ length: 432 }, () => r() * 2 - 1)]);
      const res = await compileOnnx(encodeOnnx(pathsModel(), { opset: 13 }), join(dir, "m"), {
        calibration: samples,
        floatTail: false,
      });
      const ops = res.lowered.program.json.ops.map((o) => o.op);
      assert.deepEqual(ops, [
        "Conv",
        "GlobalAveragePool",
        "Conv",
        "Conv",
        "Lut",
        "Mul",
        "Conv",
        "Lut",
        "MaxPool",
        "MaxPool",
        "Concat",
        "Slice",
        "Split",
        "Transpose",
        "Transpose",
        "Reshape",
        "Gemm",
      ]);
      assert.equal(res.lowered.postamble, null);
      assert.deepEqual(
        res.lowered.program.json.ops[0].pads,
        [0, 0, 1, 1],
        "SAME_UPPER (12 -> 6, stride 2): the odd pad at the end",
      );
      const prog = loadProgram(res.modelJson);
      const session = await quantizedSession(new Uint8Array(readFileSync(join(dir, "m", "quantized.onnx"))));
      const float = await ort.InferenceSession.create(encodeOnnx(pathsModel(), { opset: 13 }));
      const opened = await openNative();
      const native = typeof opened === "string" ? undefined : opened.load(res.modelJson);
      const tin = prog.tensors[prog.inputs[0]];
      for (let k = 0; k < 4; k++) {
        const img = Float32Array.from({ length: 432 }, () => r() * 2 - 1);
        const dev = new Int8Array(12 * 12 * 4).fill(tin.zero_point);
        for (let h = 0; h < 12; h++) {
          for (let w = 0; w < 12; w++) {
            for (let ch = 0; ch < 3; ch++) {
              dev[(h * 12 + w) * 4 + ch] = Math.max(
                -128,
                Math.min(127, Math.round(img[(ch * 12 + h) * 12 + w] / tin.scale) + tin.zero_point),
              );
            }
          }
        }
        const want = runReference(res.modelJson, [dev]);
        const got = await runQuantizedOnnx(session, prog, [dev]);
        got.forEach((o, j) => assert.deepEqual(o, want[j], `run ${k} output ${j}: onnxruntime vs reference`));
        if (native) {
          native([dev]).forEach((o, j) => assert.deepEqual(o, want[j], `run ${k} output ${j}: native vs reference`));
        }
        const f = await float.run({ x: new ort.Tensor("float32", img, [1, 3, 12, 12]) });
        // tr: NCHW [1,3,3,3] float vs device NHWC [1,3,3,3] (padded to 16 channels)
        const tt = prog.tensors[prog.outputs[0]], fl = f.tr.data as Float32Array;
        for (let c = 0; c < 3; c++) {
          for (let h = 0; h < 3; h++) {
            for (let w = 0; w < 3; w++) {
              const q = want[0][(h * 3 + w) * 16 + c];
              const v = (q - tt.zero_point) * tt.scale, e = fl[(c * 3 + h) * 3 + w];
              assert.ok(Math.abs(v - e) < 0.06 + 2 * tt.scale, `tr[${c},${h},${w}]: ${v} vs float ${e}`);
            }
          }
        }
        const tl = prog.tensors[prog.outputs[1]], lg = f.logits.data as Float32Array;
        for (let c = 0; c < 3; c++) {
          assert.ok(Math.abs((want[1][c] - tl.zero_point) * tl.scale - lg[c]) < 0.1, `logits[${c}]`);
        }
      }
      if (typeof opened !== "string") opened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Keras/TF ops on the device", () => {
  test("Pad (reflect, edge, constant) and per-channel Mul/Add (ChannelLut): byte-exact in onnxruntime, reference and native", async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-pad-"));
    try {
      const r = prng(21);
      const rnd = (n: number, s: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
      const g = new Graph();
      g.inputs.push({ name: "x", shape: [1, 3, 10, 10] });
      const c = (name: string, dims: number[], data: Float32Array) =>
        g.consts.set(name, constant(dims, data, "float32"));
      const i64 = (name: string, v: number[]) =>
        g.consts.set(name, constant([v.length], Float64Array.from(v), "int64"));
      c("w1", [8, 3, 3, 3], rnd(216, 0.5));
      c("w2", [8, 8, 3, 3], rnd(576, 0.3));
      c("w3", [8, 8, 1, 1], rnd(64, 0.4));
      c("s", [1, 8, 1, 1], Float32Array.from(rnd(8, 0.5), (v) => 1 + v));
      c("t", [1, 8, 1, 1], rnd(8, 0.3));
      c("half", [], new Float32Array([0.5]));
      i64("p_reflect", [0, 0, 1, 1, 0, 0, 1, 1]);
      i64("p_edge", [0, 0, 0, 1, 0, 0, 2, 0]);
      i64("p_const", [0, 0, 1, 0, 0, 0, 0, 1]);
      const node = (
        op: string,
        out: string,
        inputs: string[],
        attrs: Record<string, number | number[] | string> = {},
      ) => g.nodes.push({ op, name: out, inputs, outputs: [out], attrs });
      node("Conv", "c1", ["x", "w1"], { kernel_shape: [3, 3] }); // 8x8
      node("Pad", "pr", ["c1", "p_reflect"], { mode: "reflect" }); // 10x10
      node("Conv", "c2", ["pr", "w2"], { kernel_shape: [3, 3] }); // 8x8
      node("Pad", "pe", ["c2", "p_edge"], { mode: "edge" }); // 10x9
      node("MaxPool", "mp", ["pe"], { kernel_shape: [2, 2], strides: [2, 2] }); // 5x4
      node("Mul", "bn_s", ["mp", "s"]);
      node("Add", "bn_t", ["bn_s", "t"]);
      node("Pad", "pc", ["bn_t", "p_const", "half"]); // 6x5, border 0.5
      node("Conv", "y", ["pc", "w3"], { kernel_shape: [1, 1] });
      g.outputs.push("y");
      g.opset = 13;
      const samples = Array.from({ length: 4 }, () => [rnd(300, 1)]);
      const res = await compileOnnx(encodeOnnx(g, { opset: 13 }), join(dir, "m"), {
        calibration: samples,
        floatTail: false,
      });
      const ops = res.lowered.program.json.ops.map((o) => o.op);
      assert.deepEqual(ops, ["Conv", "Pad", "Conv", "Pad", "MaxPool", "ChannelLut", "Pad", "Conv"]);
      assert.equal(res.offDevice.size, 0);
      const prog = loadProgram(res.modelJson);
      const session = await quantizedSession(new Uint8Array(readFileSync(join(dir, "m", "quantized.onnx"))));
      const opened = await openNative();
      const native = typeof opened === "string" ? undefined : opened.load(res.modelJson);
      const tin = prog.tensors[prog.inputs[0]];
      for (let k = 0; k < 3; k++) {
        const dev = Int8Array.from(
          { length: 10 * 10 * 4 },
          (_, i) => (i % 4 === 3 ? tin.zero_point : Math.floor(r() * 256) - 128),
        );
        const want = runReference(res.modelJson, [dev]);
        const got = await runQuantizedOnnx(session, prog, [dev]);
        got.forEach((o, j) => assert.deepEqual(o, want[j], `run ${k} output ${j}: onnxruntime vs reference`));
        if (native) native([dev]).forEach((o, j) => assert.deepEqual(o, want[j], `run ${k}: native vs reference`));
      }
      if (typeof opened !== "string") opened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("postamble ops beyond the compiler's own float executor", () => {
  test("ArgMax and TopK run through the host graph runner's ops for shapes and calibration; int64 outputs typed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-host-"));
    try {
      const r = prng(4);
      const g = new Graph();
      g.opset = 13;
      g.inputs.push({ name: "x", shape: [1, 3, 4, 4] });
      g.consts.set("w", constant([6, 3, 1, 1], Float32Array.from({ length: 18 }, () => r() - 0.5), "float32"));
      g.consts.set("k", constant([1], new Float64Array([2]), "int64"));
      const node = (op: string, outs: string[], inputs: string[], attrs: Record<string, number | number[]> = {}) =>
        g.nodes.push({ op, name: outs[0], inputs, outputs: outs, attrs });
      node("Conv", ["c"], ["x", "w"], { kernel_shape: [1, 1] });
      node("GlobalAveragePool", ["p"], ["c"]);
      node("Flatten", ["f"], ["p"], { axis: 1 });
      node("ArgMax", ["best"], ["f"], { axis: 1, keepdims: 0 });
      node("TopK", ["top", "topi"], ["f", "k"], { axis: 1 });
      g.outputs.push("best", "top", "topi");
      const res = compileGraph(g, join(dir, "m"), { randomSamples: 3, floatTail: false });
      assert.deepEqual(res.lowered.postamble?.nodes.map((n) => n.op), ["ArgMax", "TopK"]);
      assert.deepEqual(res.lowered.outputs, [{ name: "f", shape: [1, 6] }]);
      const post = await ort.InferenceSession.create(new Uint8Array(readFileSync(join(dir, "m", "postamble.onnx"))));
      const v = new Float32Array([0.1, 0.7, -0.2, 0.9, 0.3, 0.0]);
      const out = await post.run({ f: new ort.Tensor("float32", v, [1, 6]) });
      assert.deepEqual(Array.from(out.best.data as BigInt64Array, Number), [3]);
      assert.deepEqual(Array.from(out.top.data as Float32Array), [0.9, 0.7].map(Math.fround));
      assert.deepEqual(Array.from(out.topi.data as BigInt64Array, Number), [3, 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("TopK indices divided by an integer (a YOLO one-to-one head: index // classes) stay an integer Div; onnxruntime calibrates the model", async () => {
    // before: onnxruntime refused the calibration model (TopK's int64 indices declared as
    // float outputs) and the Div by the int64 constant became a Mul by 1/3 (every index 0)
    const dir = mkdtempSync(join(tmpdir(), "axr-host-"));
    try {
      const r = prng(6);
      const w = Float32Array.from({ length: 6 * 3 }, () => r() - 0.5);
      const bytes = encodeModel(makeModel({
        nodes: [
          makeNode("Conv", ["x", "w"], ["c"], { kernel_shape: [1, 1] }),
          makeNode("GlobalAveragePool", ["c"], ["p"]),
          makeNode("Flatten", ["p"], ["f"], { axis: 1 }),
          makeNode("TopK", ["f", "k"], ["top", "topi"], { axis: 1 }),
          makeNode("Div", ["topi", "three"], ["q"]),
          makeNode("Mod", ["topi", "three"], ["m"]),
        ],
        inputs: [valueInfo("x", "float32", [1, 3, 4, 4])],
        outputs: [valueInfo("top", "float32", null), valueInfo("q", "int64", null), valueInfo("m", "int64", null)],
        initializers: {
          w: tensor("float32", [6, 3, 1, 1], w),
          k: tensor("int64", [1], new BigInt64Array([4n])),
          three: tensor("int64", [], new BigInt64Array([3n])),
        },
        opset: 13,
      }));
      const x = Float32Array.from({ length: 48 }, () => r() * 2 - 1);
      const res = await compileOnnx(bytes, join(dir, "m"), {
        calibration: [[x], [x.map((v) => -v)]],
        calibrator: "onnxruntime",
        floatTail: false,
      });
      const post = new Uint8Array(readFileSync(join(dir, "m", "postamble.onnx")));
      assert.ok(res.lowered.postamble?.nodes.some((n) => n.op === "Div"), "the integer Div is kept");
      const v = new Float32Array([0.1, 0.7, -0.2, 0.9, 0.3, 0.8]);
      const ours = OnnxGraph.fromBytes(post).run({ f: { data: v, shape: [1, 6], dtype: "float32" } });
      const session = await ort.InferenceSession.create(post, { graphOptimizationLevel: "disabled" });
      const theirs = await session.run({ f: new ort.Tensor("float32", v, [1, 6]) });
      // top-4 indices 3, 5, 1, 4: // 3 and % 3
      for (const [name, want] of [["q", [1, 1, 0, 1]], ["m", [0, 2, 1, 1]]] as const) {
        assert.deepEqual(Array.from(ours[name].data as BigInt64Array, Number), want, `ours ${name}`);
        assert.deepEqual(Array.from(theirs[name].data as BigInt64Array, Number), want, `onnxruntime ${name}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a CRNN's LSTM stays on the host, with the reason, and the host part runs as onnxruntime runs it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-host-"));
    try {
      const r = prng(5);
      const g = new Graph();
      g.opset = 13;
      g.inputs.push({ name: "x", shape: [1, 2, 4, 6] });
      const rnd = (shape: number[]) =>
        constant(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => r() - 0.5), "float32");
      g.consts.set("w", rnd([3, 2, 1, 1]));
      g.consts.set("shape", constant([3], new Float64Array([1, 12, 6]), "int64"));
      g.consts.set("W", rnd([1, 20, 12]));
      g.consts.set("R", rnd([1, 20, 5]));
      const node = (
        op: string,
        outs: string[],
        inputs: string[],
        attrs: Record<string, number | number[] | string> = {},
      ) => g.nodes.push({ op, name: outs.find((o) => o) ?? op, inputs, outputs: outs, attrs });
      node("Conv", ["c"], ["x", "w"], { kernel_shape: [1, 1] });
      node("Reshape", ["rs"], ["c", "shape"]);
      node("Transpose", ["seq"], ["rs"], { perm: [2, 0, 1] }); // [6 steps, batch 1, 12]
      node("LSTM", ["Y", "Y_h"], ["seq", "W", "R"], { hidden_size: 5, direction: "reverse" });
      g.outputs.push("Y", "Y_h");
      const res = compileGraph(g, join(dir, "m"), { randomSamples: 3, floatTail: false });
      assert.match(res.offDevice.get("Y") ?? "", /LSTM.*no device implementation/);
      const post = res.lowered.postamble!;
      assert.ok(post.nodes.some((n) => n.op === "LSTM"), post.nodes.map((n) => n.op).join());
      const bytes = new Uint8Array(readFileSync(join(dir, "m", "postamble.onnx")));
      const feeds = Object.fromEntries(res.lowered.outputs.map((o) => {
        const n = o.shape.reduce((a, b) => a * b, 1);
        return [o.name, { data: Float32Array.from({ length: n }, () => r() * 4 - 2), shape: o.shape }];
      }));
      const ours = OnnxGraph.fromBytes(bytes).run(
        Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, { ...v, dtype: "float32" as const }])),
      );
      const session = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "disabled" });
      const theirs = await session.run(
        Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor("float32", v.data, v.shape)])),
      );
      for (const o of ["Y", "Y_h"]) {
        const a = ours[o].data as Float32Array, b = theirs[o].data as Float32Array;
        assert.equal(a.length, b.length);
        for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 2e-6, `${o}[${i}]: ${a[i]} vs ${b[i]}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
