// The compile report's range warnings (compiler/report.ts): a calibrated grid that clips
// the float graph, a QDQ model's own saturation, and a Relu folded into a grid.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Graph } from "../compiler/graph.ts";
import { compileReport } from "../compiler/report.ts";
import type { LowerResult } from "../compiler/lower.ts";

/** A lowering whose program holds these tensors (grid only: the report reads nothing else). */
function lowered(tensors: { name: string; scale: number; zero_point: number }[]): LowerResult {
  return { program: { json: { tensors } }, offDevice: new Map() } as unknown as LowerResult;
}

describe("compile report warnings", () => {
  const g = new Graph();
  g.quant.set("given_relu", { scale: 0.0683, zeroPoint: -128 });
  g.quant.set("given", { scale: 0.1, zeroPoint: 0 });
  const grids = lowered([
    { name: "given_relu", scale: 0.0683, zero_point: -128 }, // [0, 17.4]
    { name: "given", scale: 0.1, zero_point: 0 }, // [-12.8, 12.7]
    { name: "calibrated_relu", scale: 0.0683, zero_point: -128 },
    { name: "calibrated", scale: 0.1, zero_point: 0 },
    { name: "fits", scale: 0.1, zero_point: 0 },
  ]);

  test("a QDQ model's grid: its own saturation, named as such; below a folded Relu nothing is reported", () => {
    const ranges = new Map([
      ["given_relu", { min: -50.3, max: 39.9 }],
      ["given", { min: -20, max: 3 }],
      ["calibrated_relu", { min: -50.3, max: 10 }], // below 0 only: the Relu's to remove
      ["calibrated", { min: -1, max: 20 }],
      ["fits", { min: -12.8, max: 12.75 }], // within a step
    ]);
    const w = compileReport(g, ranges, grids).warnings;
    assert.equal(w.length, 3, w.join("\n"));
    assert.match(w[0], /tensor given_relu: the QDQ model's quantization \[0\.0000, 17\.416\] saturates values/);
    assert.match(w[0], /\[0\.0000, 39\.900\] after the Relu the grid folds in \(onnxruntime saturates them/);
    assert.match(
      w[1],
      /tensor given: the QDQ model's quantization \[-12\.800, 12\.700\] saturates .*\[-20\.000, 3\.0000\]/,
    );
    assert.doesNotMatch(w[1], /Relu/);
    assert.match(
      w[2],
      /tensor calibrated: its quantization \[-12\.800, 12\.700\] \(calibrated\) clips the float range/,
    );
  });
});
