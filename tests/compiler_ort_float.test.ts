// The compiler's tables use onnxruntime's own Sigmoid (compiler/ort_float.ts, MLAS's
// logistic): bit for bit what onnxruntime-node computes, so a QDQ model's Sigmoid table
// gives onnxruntime's int8 values even at a tiny output scale (YOLOX's objectness).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { constant, Graph } from "../compiler/graph.ts";
import { encodeOnnx } from "../compiler/onnx_io.ts";
import { ortSigmoid } from "../compiler/ort_float.ts";
import { unaryTable } from "../compiler/activations.ts";

async function ortRun(op: string, xs: Float32Array): Promise<Float32Array> {
  const g = new Graph();
  g.opset = 13;
  g.inputs.push({ name: "x", shape: [xs.length] });
  g.nodes.push({ op, name: "s", inputs: ["x"], outputs: ["y"], attrs: {} });
  g.outputs.push("y");
  g.shapes.set("x", [xs.length]);
  g.shapes.set("y", [xs.length]);
  const s = await ort.InferenceSession.create(encodeOnnx(g), { graphOptimizationLevel: "disabled" });
  const r = await s.run({ x: new ort.Tensor("float32", xs, [xs.length]) });
  return r.y.data as Float32Array;
}

/** Inputs over the whole range, with every int8 grid of a few QDQ scales. */
function inputs(): Float32Array {
  const xs: number[] = [0, -0, 1e-30, -1e-30, 17.99, 18, 18.01, -18, -18.5, -40, 40, 1e6, -1e6];
  for (let i = -200000; i <= 200000; i++) xs.push(i * 1e-4);
  for (const s of [0.0414243, 0.03693483, 0.1, 1 / 255]) for (let q = -128; q < 128; q++) xs.push(Math.fround(q * s));
  return Float32Array.from(xs);
}

describe("onnxruntime's Sigmoid", () => {
  test("ortSigmoid is onnxruntime-node's Sigmoid bit for bit", async () => {
    const xs = inputs();
    const want = await ortRun("Sigmoid", xs), got = ortSigmoid(xs);
    let bad = 0, first = -1;
    for (let i = 0; i < xs.length; i++) {
      if (!Object.is(want[i], got[i])) {
        bad++;
        if (first < 0) first = i;
      }
    }
    assert.equal(bad, 0, `${bad} of ${xs.length} differ; first x=${xs[first]}: ort ${want[first]}, ours ${got[first]}`);
  });

  test("it is not the correctly rounded sigmoid (the test can tell them apart)", () => {
    const x = -10, exact = Math.fround(1 / (1 + Math.exp(10)));
    assert.notEqual(ortSigmoid(new Float32Array([x]))[0], exact);
  });

  test("a Sigmoid table uses it", () => {
    const g = new Graph();
    g.opset = 13;
    g.inputs.push({ name: "x", shape: [4] });
    g.shapes.set("x", [4]);
    g.nodes.push({ op: "Sigmoid", name: "s", inputs: ["x"], outputs: ["y"], attrs: {} });
    g.consts.set("unused", constant([1], new Float32Array([0])));
    const xs = Float32Array.from({ length: 256 }, (_, q) => Math.fround((q - 255) * 0.0414243));
    assert.deepEqual(unaryTable(g, g.nodes[0])!(xs), ortSigmoid(xs));
  });
});
