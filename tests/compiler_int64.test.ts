// int64 constants held as float64 by the compiler: INT64_MAX (torch's "to the end" Slice
// end, YOLOX's Focus) reads back as 2^63 and must saturate, not wrap to INT64_MIN (which
// made the Slice empty and the compile fail with "dimension 0 outside 1..65535").
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

/** YOLOX's Focus: four strided Slices (ends INT64_MAX) of the image, Concat, Conv. */
function focus(): Graph {
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
  g.consts.set("wc", constant([4, 12, 1, 1], Float32Array.from({ length: 48 }, (_, k) => ((k * 7) % 11) / 11 - 0.5)));
  g.nodes.push({ op: "Conv", name: "conv", inputs: ["cat", "wc"], outputs: ["y"], attrs: { kernel_shape: [1, 1] } });
  g.outputs.push("y");
  return g;
}

describe("int64 constants saturate at INT64_MAX", () => {
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
});
