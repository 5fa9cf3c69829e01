// Graphs run optimized and node by node (`{ optimize: false }`, the pre-optimization
// runner) and compared bit for bit (tests/onnx_optimize.test.ts, tests/onnx_qdq_chain.test.ts).
import assert from "node:assert/strict";
import {
  type AttrValue,
  encodeModel,
  makeModel,
  makeNode,
  type NodeProto,
  OnnxGraph,
  type Tensor,
  tensor,
  valueInfo,
} from "../../onnx/mod.ts";
import { seededFloats } from "./kernel_data.ts";

export const rand = (n: number, seed: number, scale = 2): Float32Array => seededFloats(n, seed, scale);

export const f32 = (shape: number[], seed: number, scale = 2) =>
  tensor("float32", shape, rand(shape.reduce((a, b) => a * b, 1), seed, scale));

export interface Case {
  nodes: NodeProto[];
  x: Tensor;
  init: Record<string, Tensor>;
  extra?: Record<string, Tensor>;
}

export function both(c: Case): { opt: OnnxGraph; plain: OnnxGraph; a: Float32Array; b: Float32Array } {
  const feeds = { x: c.x, ...(c.extra ?? {}) };
  const bytes = encodeModel(makeModel({
    opset: 17,
    nodes: c.nodes,
    inputs: Object.entries(feeds).map(([k, t]) => valueInfo(k, "float32", t.shape)),
    outputs: [valueInfo("y", "float32", null)],
    initializers: c.init,
  }));
  const opt = OnnxGraph.fromBytes(bytes), plain = OnnxGraph.fromBytes(bytes, { optimize: false });
  // twice: the second run reuses pooled buffers and kernel scratch
  opt.run(feeds);
  const a = opt.run(feeds).y.data as Float32Array, b = plain.run(feeds).y.data as Float32Array;
  return { opt, plain, a, b };
}

export function sameBits(a: Float32Array, b: Float32Array): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) assert.fail(`element ${i}: ${a[i]} vs ${b[i]} (node by node)`);
  }
}

export const n = (op: string, ins: string[], out: string, attrs: Record<string, AttrValue> = {}) =>
  makeNode(op, ins, [out], attrs, `${op}_${out}`);
