// YOLOX's Focus (four strided Slices of the image to INT64_MAX, Concat, Conv):
// - int64 constants held as float64 by the compiler: INT64_MAX reads back as 2^63 and must
//   saturate, not wrap to INT64_MIN (which made the Slice empty and the compile fail with
//   "dimension 0 outside 1..65535");
// - in a QDQ model the Slices read the float image and only the Concat is quantized: the
//   image takes the Concat's grid (rounding commutes with a selection) and the Slices run
//   on the device, instead of a float preamble whose outputs nothing in the model checks.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { constant, Graph } from "../compiler/graph.ts";
import { compileGraph } from "../compiler/compile.ts";
import { constData, decodeOnnx, encodeOnnx } from "../compiler/onnx_io.ts";
import { simplify } from "../compiler/simplify.ts";

const INT64_MAX = 9223372036854775807; // 2^63 as a number

/** YOLOX's Focus: four strided Slices (ends INT64_MAX) of the image, Concat, Conv; with `qdq`, the Concat and Conv outputs quantized as onnxruntime's quantize_static does. */
function focus(qdq = false): Graph {
  const g = new Graph();
  g.opset = 13;
  g.inputs.push({ name: "x", shape: [1, 3, 8, 8] });
  const i64 = (name: string, v: number[]) => g.consts.set(name, constant([v.length], Float64Array.from(v), "int64"));
  i64("zero", [0]);
  i64("one", [1]);
  i64("end", [INT64_MAX]);
  i64("h", [2]);
  i64("w", [3]);
  i64("two", [2]);
  const parts: string[] = [];
  for (const [sh, sw] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
    const rows = `r${sh}${sw}`, cols = `c${sh}${sw}`;
    g.nodes.push({
      op: "Slice",
      name: rows,
      inputs: ["x", sh ? "one" : "zero", "end", "h", "two"],
      outputs: [rows],
      attrs: {},
    });
    g.nodes.push({
      op: "Slice",
      name: cols,
      inputs: [rows, sw ? "one" : "zero", "end", "w", "two"],
      outputs: [cols],
      attrs: {},
    });
    parts.push(cols);
  }
  g.nodes.push({ op: "Concat", name: "cat", inputs: parts, outputs: ["cat"], attrs: { axis: 1 } });
  const w = Float32Array.from({ length: 48 }, (_, k) => ((k * 7) % 11) / 11 - 0.5);
  if (!qdq) {
    g.consts.set("wc", constant([4, 12, 1, 1], w));
    g.nodes.push({ op: "Conv", name: "conv", inputs: ["cat", "wc"], outputs: ["y"], attrs: { kernel_shape: [1, 1] } });
    g.outputs.push("y");
    return g;
  }
  const f = (name: string, v: number) => g.consts.set(name, constant([], new Float32Array([v])));
  const i8 = (name: string, dims: number[], v: number[]) =>
    g.consts.set(name, constant(dims, Float64Array.from(v), "int8"));
  f("sc", 1 / 255);
  i8("zc", [], [-128]);
  f("sw", 0.004);
  i8("zw", [], [0]);
  i8("wq", [4, 12, 1, 1], Array.from(w, (v) => Math.round(v / 0.004)));
  f("sy", 0.01);
  i8("zy", [], [3]);
  const node = (op: string, name: string, inputs: string[], out = name) =>
    g.nodes.push({ op, name, inputs, outputs: [out], attrs: op === "Conv" ? { kernel_shape: [1, 1] } : {} });
  node("QuantizeLinear", "catq", ["cat", "sc", "zc"]);
  node("DequantizeLinear", "catd", ["catq", "sc", "zc"]);
  node("DequantizeLinear", "wd", ["wq", "sw", "zw"]);
  node("Conv", "conv", ["catd", "wd"]);
  node("QuantizeLinear", "yq", ["conv", "sy", "zy"]);
  node("DequantizeLinear", "yd", ["yq", "sy", "zy"], "y");
  g.outputs.push("y");
  return g;
}

describe("YOLOX's Focus", () => {
  test("constData keeps INT64_MAX and INT64_MIN", () => {
    const c = constant([3], Float64Array.from([INT64_MAX, -INT64_MAX, 5.9]), "int64");
    assert.deepEqual([...(constData(c) as BigInt64Array)], [9223372036854775807n, -9223372036854775808n, 5n]);
  });

  test("a Slice to INT64_MAX keeps its extent through shape inference and an ONNX round trip", () => {
    const g = decodeOnnx(encodeOnnx(focus()));
    simplify(g, {});
    assert.deepEqual(g.shapes.get("r00"), [1, 3, 4, 8]);
    assert.deepEqual(g.shapes.get("c11"), [1, 3, 4, 4]);
    assert.deepEqual(g.shapes.get("y"), [1, 4, 4, 4]);
  });

  test("the Focus pattern compiles onto the device", () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-int64-"));
    try {
      const res = compileGraph(focus(), dir, { randomSamples: 2 });
      const ops = res.lowered.program.json.ops.map((o) => o.op);
      assert.equal(ops.filter((o) => o === "Slice").length, 8);
      assert.equal(res.offDevice.size, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("in a QDQ model, the image takes the Concat's grid and the Slices run on the device", () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-focus-"));
    try {
      const res = compileGraph(focus(true), dir, { randomSamples: 2 });
      const p = res.lowered.program.json;
      assert.ok(!res.lowered.preamble, "no float preamble");
      assert.equal(p.ops.filter((o) => o.op === "Slice").length, 8);
      assert.equal(res.offDevice.size, 0);
      const tin = p.tensors[p.inputs[0]];
      assert.deepEqual([tin.name, tin.scale, tin.zero_point], ["x", Math.fround(1 / 255), -128]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
