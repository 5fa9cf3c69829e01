// LSTM, GRU and RNN in the graph runner (onnx/ops/rnn.ts) against onnxruntime-node on the
// cases the ONNX backend tests leave out: bidirectional, reverse, sequence_lens shorter than
// the sequence, initial states, peepholes, clip, GRU's linear_before_reset both ways, a non-
// default activation, only Y_h asked for. Then what is refused at load, with the reason.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import { encodeModel, makeModel, makeNode, OnnxGraph, type Tensor, valueInfo } from "../onnx/mod.ts";
import type { AttrValue } from "../onnx/build.ts";
import { OnnxUnsupportedAttributeError } from "../onnx/errors.ts";
import { prng } from "./fixtures/make_fixtures.ts";

const S = 5, N = 3, I = 4, H = 6;

function rand(shape: number[], seed: number, scale = 1): Tensor {
  const r = prng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale), shape, dtype: "float32" };
}

interface Case {
  name: string;
  op: "LSTM" | "GRU" | "RNN";
  attrs: Record<string, AttrValue>;
  /** Optional inputs beyond X, W, R: B, sequence_lens, initial_h, initial_c, P ("" = absent). */
  extra: ("B" | "seq" | "h0" | "c0" | "P" | "")[];
  outputs: string[];
  layout?: 1;
}

const GATES = { LSTM: 4, GRU: 3, RNN: 1 };

async function check(c: Case): Promise<void> {
  const nd = c.attrs.direction === "bidirectional" ? 2 : 1, G = GATES[c.op];
  const xShape = c.layout ? [N, S, I] : [S, N, I];
  const stateShape = c.layout ? [N, nd, H] : [nd, N, H];
  const init: Record<string, Tensor> = {
    W: rand([nd, G * H, I], 2, 0.6),
    R: rand([nd, G * H, H], 3, 0.6),
    B: rand([nd, 2 * G * H], 4, 0.3),
    seq: { data: Int32Array.from([3, 5, 1]), shape: [N], dtype: "int32" },
    h0: rand(stateShape, 5, 0.5),
    c0: rand(stateShape, 6, 0.5),
    P: rand([nd, 3 * H], 7, 0.4),
  };
  const ins = ["X", "W", "R", ...c.extra];
  const used = Object.fromEntries(Object.entries(init).filter(([k]) => ins.includes(k)));
  const attrs = { hidden_size: H, ...c.attrs, ...(c.layout ? { layout: 1 } : {}) };
  const outs = c.outputs;
  const bytes = encodeModel(makeModel({
    nodes: [makeNode(c.op, ins, outs, attrs)],
    inputs: [valueInfo("X", "float32", xShape)],
    outputs: outs.filter((o) => o).map((o) => valueInfo(o, "float32", null)),
    initializers: used,
    opset: c.layout ? 14 : 13,
  }));
  const x = rand(xShape, 1, 1.5);
  const ours = OnnxGraph.fromBytes(bytes).run({ X: x });
  const sess = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: "disabled" });
  const theirs = await sess.run({ X: new ort.Tensor("float32", x.data as Float32Array, x.shape) });
  await sess.release();
  for (const o of outs.filter((o) => o)) {
    const a = ours[o].data as Float32Array, b = theirs[o].data as Float32Array;
    assert.deepEqual(ours[o].shape, [...theirs[o].dims], `${c.name}: shape of ${o}`);
    let worst = 0;
    for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst < 2e-6, `${c.name}: ${o} differs from onnxruntime by ${worst}`);
  }
}

describe("recurrent ops against onnxruntime-node", () => {
  const cases: Case[] = [
    {
      name: "LSTM bidirectional, sequence_lens, initial states, peepholes",
      op: "LSTM",
      attrs: { direction: "bidirectional" },
      extra: ["B", "seq", "h0", "c0", "P"],
      outputs: ["Y", "Y_h", "Y_c"],
    },
    {
      name: "LSTM reverse with clip, only Y_h",
      op: "LSTM",
      attrs: { direction: "reverse", clip: { float: 0.75 } },
      extra: ["B"],
      outputs: ["", "Y_h"],
    },
    {
      name: "GRU bidirectional, linear_before_reset 0, sequence_lens",
      op: "GRU",
      attrs: { direction: "bidirectional" },
      extra: ["B", "seq", "h0"],
      outputs: ["Y", "Y_h"],
    },
    {
      name: "GRU reverse, linear_before_reset 1",
      op: "GRU",
      attrs: { direction: "reverse", linear_before_reset: 1 },
      extra: ["B", "", "h0"],
      outputs: ["Y", "Y_h"],
    },
    {
      name: "RNN forward with Relu",
      op: "RNN",
      attrs: { activations: { strings: ["Relu"] } },
      extra: ["B", "seq"],
      outputs: ["Y", "Y_h"],
    },
  ];
  for (const c of cases) test(c.name, () => check(c));

  test("layout 1 (batch first) gives layout 0's values, transposed", () => {
    const W = rand([1, 4 * H, I], 2, 0.6), R = rand([1, 4 * H, H], 3, 0.6), x0 = rand([S, N, I], 1, 1.5);
    const x1: Tensor = { data: new Float32Array(S * N * I), shape: [N, S, I], dtype: "float32" };
    for (let t = 0; t < S; t++) {
      for (let n = 0; n < N; n++) {
        for (let i = 0; i < I; i++) {
          (x1.data as Float32Array)[(n * S + t) * I + i] = x0.data[(t * N + n) * I + i] as number;
        }
      }
    }
    const run = (layout: number, x: Tensor) =>
      OnnxGraph.fromModel(makeModel({
        nodes: [makeNode("LSTM", ["X", "W", "R"], ["Y", "Y_h"], { hidden_size: H, layout })],
        inputs: [valueInfo("X", "float32", x.shape)],
        outputs: [valueInfo("Y", "float32", null), valueInfo("Y_h", "float32", null)],
        initializers: { W, R },
        opset: 14,
      })).run({ X: x });
    const a = run(0, x0), b = run(1, x1);
    assert.deepEqual(b.Y.shape, [N, S, 1, H]);
    for (let t = 0; t < S; t++) {
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < H; k++) assert.equal(b.Y.data[(n * S + t) * H + k], a.Y.data[(t * N + n) * H + k]);
      }
    }
    assert.deepEqual(Array.from(b.Y_h.data as Float32Array), Array.from(a.Y_h.data as Float32Array));
  });

  /** An LSTM graph whose W and R are initializers (`constant`) or graph inputs. */
  function lstmGraph(h: number, i: number, constant: boolean, W: Tensor, R: Tensor): OnnxGraph {
    return OnnxGraph.fromModel(makeModel({
      nodes: [makeNode("LSTM", ["X", "W", "R"], ["Y", "Y_h"], { hidden_size: h, direction: "bidirectional" })],
      inputs: [
        valueInfo("X", "float32", [S, 1, i]),
        ...(constant ? [] : [valueInfo("W", "float32", W.shape), valueInfo("R", "float32", R.shape)]),
      ],
      outputs: [valueInfo("Y", "float32", null), valueInfo("Y_h", "float32", null)],
      initializers: constant ? { W, R } : {},
      opset: 14,
    }));
  }

  test("weights that are not constants are read afresh on every run (the same array, new values)", () => {
    const W = rand([2, 4 * H, I], 2, 0.6), R = rand([2, 4 * H, H], 3, 0.6), x = rand([S, 1, I], 1, 1.5);
    const g = lstmGraph(H, I, false, W, R);
    const first = g.run({ X: x, W, R }).Y.data;
    // new values in the same arrays: a transposition kept from the first run would be stale
    (W.data as Float32Array).set(rand(W.shape, 12, 0.6).data as Float32Array);
    (R.data as Float32Array).set(rand(R.shape, 13, 0.6).data as Float32Array);
    const second = g.run({ X: x, W, R }).Y.data;
    const fresh = lstmGraph(H, I, true, W, R).run({ X: x }).Y.data;
    assert.deepEqual(second, fresh);
    assert.notDeepEqual(second, first);
  });

  test("large constant weights, packed once on the kernel, give the unpacked products' bits", () => {
    // hidden 96, input 160: X W^T and every H R^T are big enough for the gemm kernel
    const h = 96, i = 160;
    const W = rand([2, 4 * h, i], 22, 0.2), R = rand([2, 4 * h, h], 23, 0.2), x = rand([S, 1, i], 21, 1.5);
    const packed = lstmGraph(h, i, true, W, R), plain = lstmGraph(h, i, false, W, R);
    const want = plain.run({ X: x, W, R });
    for (let run = 0; run < 2; run++) {
      const got = packed.run({ X: x });
      assert.deepEqual(got.Y.data, want.Y.data, `run ${run}`);
      assert.deepEqual(got.Y_h.data, want.Y_h.data, `run ${run}`);
    }
  });

  test("refused at load: an activation with parameters, input_forget", () => {
    const load = (attrs: Record<string, AttrValue>) =>
      OnnxGraph.fromModel(makeModel({
        nodes: [makeNode("LSTM", ["X", "W", "R"], ["Y"], { hidden_size: H, ...attrs })],
        inputs: [valueInfo("X", "float32", [S, N, I])],
        outputs: [valueInfo("Y", "float32", null)],
        initializers: { W: rand([1, 4 * H, I], 2), R: rand([1, 4 * H, H], 3) },
      }));
    assert.throws(
      () => load({ activations: { strings: ["HardSigmoid", "Tanh", "Tanh"] } }),
      (e) => e instanceof OnnxUnsupportedAttributeError && /activation 'HardSigmoid' is not supported/.test(e.message),
    );
    assert.throws(
      () => load({ input_forget: 1 }),
      (e) => e instanceof OnnxUnsupportedAttributeError && /input_forget is not supported/.test(e.message),
    );
    assert.throws(
      () => load({ direction: "sideways" }),
      (e) => e instanceof OnnxUnsupportedAttributeError && /direction 'sideways'/.test(e.message),
    );
  });
});
