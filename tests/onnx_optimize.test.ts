// The runner's load-time optimization (onnx/optimize.ts): folded weights, fused
// ConvTranspose + activation, element-wise chains and kernel pipelines, each compared with
// the same graph run node by node (`{ optimize: false }`, the pre-optimization runner):
// bit for bit where the rewrite is exact, within the documented float32 bound where it
// folds Mul / BatchNormalization into weights.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type AttrValue, encodeModel, makeModel, OnnxGraph, type Tensor, tensor, valueInfo } from "../onnx/mod.ts";
import { both, f32, n, rand, sameBits } from "./helpers/optimize_cases.ts";
import { chain, convTranspose } from "../kernels/fused.ts";

describe("ConvTranspose + bias Add + activation (fused, bit-exact)", () => {
  const shapes: [string, number, number, number, number, Record<string, AttrValue>][] = [
    ["k2 s2 (tiles)", 24, 24, 20, 36, { kernel_shape: [2, 2], strides: [2, 2] }],
    ["k2 s2 to 1 channel", 24, 1, 20, 36, { kernel_shape: [2, 2], strides: [2, 2] }],
    ["k2x1 s2x1 (tiles)", 8, 5, 9, 19, { kernel_shape: [1, 2], strides: [1, 2] }],
    ["k2 s2 groups 2 (tiles of 5 and 4 columns)", 8, 8, 5, 9, { kernel_shape: [2, 2], strides: [2, 2], group: 2 }],
    ["k3 s2 pad 1, groups 2 (GEMM + col2im)", 8, 6, 10, 11, {
      kernel_shape: [3, 3],
      strides: [2, 2],
      pads: [1, 1, 1, 1],
      group: 2,
    }],
    ["k4 s2 dilation 2 output_padding", 4, 4, 9, 7, {
      kernel_shape: [2, 2],
      strides: [2, 2],
      dilations: [2, 2],
      output_padding: [1, 1],
    }],
    ["small (TypeScript path)", 2, 2, 3, 3, { kernel_shape: [2, 2], strides: [2, 2] }],
  ];
  for (const [name, c, m, h, w, attrs] of shapes) {
    for (const act of ["Relu", "Sigmoid", "Clip"]) {
      test(`${name} + ${act}`, () => {
        const group = (attrs.group as number | undefined) ?? 1;
        const ks = attrs.kernel_shape as number[];
        const nodes = [
          n("ConvTranspose", ["x", "w"], "c", attrs),
          n("Add", ["c", "b"], "a"),
          act === "Clip" ? n("Clip", ["a", "lo", "hi"], "y") : n(act, ["a"], "y"),
        ];
        const init: Record<string, Tensor> = {
          w: f32([c, m / group, ...ks], 2),
          b: f32([1, m, 1, 1], 3),
          lo: tensor("float32", [], [-0.5]),
          hi: tensor("float32", [], [1.25]),
        };
        const x = f32([1, c, h, w], 1);
        x.data[5] = NaN;
        (x.data as Float32Array)[7] = -0;
        const { opt, a, b } = both({ nodes, x, init });
        sameBits(a, b);
        assert.equal(opt.executionPlan().length, 1, JSON.stringify(opt.executionPlan()));
      });
    }
  }

  test("two fused ConvTransposes run as one pipeline (values in between in WASM memory)", () => {
    const nodes = [
      n("ConvTranspose", ["x", "w1"], "c1", { kernel_shape: [2, 2], strides: [2, 2] }),
      n("Add", ["c1", "b1"], "a1"),
      n("Relu", ["a1"], "r1"),
      n("ConvTranspose", ["r1", "w2"], "c2", { kernel_shape: [2, 2], strides: [2, 2] }),
      n("Add", ["c2", "b2"], "a2"),
      n("Sigmoid", ["a2"], "s"),
      n("Mul", ["s", "k"], "y"),
    ];
    const init = {
      w1: f32([16, 16, 2, 2], 4),
      b1: f32([1, 16, 1, 1], 5),
      w2: f32([16, 1, 2, 2], 6),
      b2: f32([1], 7),
      k: f32([], 8),
    };
    const { opt, a, b } = both({ nodes, x: f32([1, 16, 12, 24], 9), init });
    sameBits(a, b);
    assert.deepEqual(opt.executionPlan().map((s) => s.opType), ["KernelPipeline"]);
    // a pipeline whose later stage does not fit the kernel falls back to the nodes
    const small = both({ nodes, x: f32([1, 16, 1, 1], 10), init });
    sameBits(small.a, small.b);
  });
});

describe("pipeline plans are reused only for the same shapes and operands", () => {
  test("new shapes and a new non-constant operand give fresh results", () => {
    const nodes = [
      n("ConvTranspose", ["x", "w1"], "c1", { kernel_shape: [2, 2], strides: [2, 2] }),
      n("Add", ["c1", "b1"], "a1"),
      n("Relu", ["a1"], "r1"),
      n("ConvTranspose", ["r1", "w2"], "c2", { kernel_shape: [2, 2], strides: [2, 2] }),
      n("Sigmoid", ["c2"], "s2"),
      n("Mul", ["s2", "k"], "y"),
    ];
    const bytes = encodeModel(makeModel({
      opset: 17,
      nodes,
      inputs: [valueInfo("x", "float32", [1, 8, "h", "w"]), valueInfo("k", "float32", [1])],
      outputs: [valueInfo("y", "float32", null)],
      initializers: { w1: f32([8, 8, 2, 2], 11), b1: f32([1, 8, 1, 1], 13), w2: f32([8, 2, 2, 2], 12) },
    }));
    const opt = OnnxGraph.fromBytes(bytes), plain = OnnxGraph.fromBytes(bytes, { optimize: false });
    assert.deepEqual(opt.executionPlan().map((s) => s.opType), ["KernelPipeline"]);
    // the same k tensor for several runs (plans reused), a new shape, a new k, k changed in place
    const k2 = tensor("float32", [1], [2]), k3 = tensor("float32", [1], [-3]);
    const runs: [number, number, Tensor, number, number?][] = [
      [4, 16, k2, 1],
      [4, 16, k2, 2],
      [6, 8, k2, 3],
      [4, 16, k3, 4],
      [4, 16, k3, 5, 0.5],
      [4, 16, k3, 6],
    ];
    for (const [h, w, k, seed, set] of runs) {
      if (set !== undefined) k.data[0] = set;
      const feeds = { x: f32([1, 8, h, w], seed), k };
      const a = opt.run(feeds).y, b = plain.run(feeds).y;
      assert.deepEqual(a.shape, b.shape);
      sameBits(a.data as Float32Array, b.data as Float32Array);
    }
  });
});

describe("folding into Conv / ConvTranspose / Gemm weights", () => {
  // |y' - y| <= (k + 2) * 2^-24 * sum |terms| with k products: checked against the
  // magnitude of the float64 sum of |w x| per output, bounded here by a scale.
  function near(a: Float32Array, b: Float32Array, k: number, mag: number): void {
    assert.equal(a.length, b.length);
    const tol = (k + 8) * 2 ** -24 * mag;
    for (let i = 0; i < a.length; i++) {
      if (!(Math.abs(a[i] - b[i]) <= tol)) assert.fail(`element ${i}: ${a[i]} vs ${b[i]} (tolerance ${tol})`);
    }
  }
  const bn = (x: string, out: string) =>
    n("BatchNormalization", [x, "sc", "bi", "mean", "var"], out, { epsilon: 1e-3 });
  const bnInit = (m: number) => ({
    sc: f32([m], 11),
    bi: f32([m], 12),
    mean: f32([m], 13),
    var: tensor("float32", [m], rand(m, 14).map((v) => Math.abs(v) + 0.1)),
  });

  test("Conv + Add + BatchNormalization + Mul + Sub + Relu", () => {
    const nodes = [
      n("Conv", ["x", "w", "b0"], "c", { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
      n("Add", ["c", "b"], "a"),
      bn("a", "n"),
      n("Mul", ["n", "s"], "m"),
      n("Sub", ["m", "t"], "z"),
      n("Relu", ["z"], "y"),
    ];
    const init = {
      w: f32([6, 4, 3, 3], 1),
      b0: f32([6], 2),
      b: f32([6, 1, 1], 3),
      s: f32([1, 6, 1, 1], 4),
      t: f32([], 5),
      ...bnInit(6),
    };
    const { opt, a, b } = both({ nodes, x: f32([1, 4, 16, 16], 6), init });
    near(a, b, 36, 400);
    assert.deepEqual(opt.executionPlan().map((s) => s.opType), ["Conv", "Relu"]);
  });

  test("ConvTranspose (groups) + BatchNormalization + Relu + ConvTranspose + Add + Sigmoid: the demo's head", () => {
    const nodes = [
      n("ConvTranspose", ["x", "w1"], "c1", { kernel_shape: [2, 2], strides: [2, 2], group: 2 }),
      n("Add", ["c1", "b1"], "a1"),
      bn("a1", "n1"),
      n("Relu", ["n1"], "r1"),
      n("ConvTranspose", ["r1", "w2"], "c2", { kernel_shape: [2, 2], strides: [2, 2] }),
      n("Add", ["c2", "b2"], "a2"),
      n("Sigmoid", ["a2"], "y"),
    ];
    const init = {
      w1: f32([8, 4, 2, 2], 1),
      b1: f32([1, 8, 1, 1], 2),
      w2: f32([8, 1, 2, 2], 3),
      b2: f32([1, 1, 1, 1], 4),
      ...bnInit(8),
    };
    const { opt, a, b } = both({ nodes, x: f32([1, 8, 16, 16], 5), init });
    near(a, b, 8, 200);
    assert.deepEqual(opt.executionPlan().map((s) => s.opType), ["KernelPipeline"]);
  });

  test("Gemm (transB) + Add + Mul", () => {
    const nodes = [n("Gemm", ["x", "w"], "g", { transB: 1 }), n("Add", ["g", "b"], "a"), n("Mul", ["a", "s"], "y")];
    const init = { w: f32([7, 32], 1), b: f32([7], 2), s: f32([1, 7], 3) };
    const { opt, a, b } = both({ nodes, x: f32([5, 32], 4), init });
    near(a, b, 32, 300);
    assert.deepEqual(opt.executionPlan().map((s) => s.opType), ["Gemm"]);
  });

  test("a single bias Add into a node without bias is bit-exact; shared or output values are not folded", () => {
    const nodes = [n("Conv", ["x", "w"], "c", { kernel_shape: [1, 1] }), n("Add", ["c", "b"], "y")];
    const init = { w: f32([8, 8, 1, 1], 1), b: f32([1, 8, 1, 1], 2) };
    const r = both({ nodes, x: f32([1, 8, 20, 20], 3), init });
    sameBits(r.a, r.b);
    assert.deepEqual(r.opt.executionPlan().map((s) => s.opType), ["Conv"]);
    // c also feeds a second node: nothing folds, results are unchanged
    const shared = [...nodes.slice(0, 1), n("Add", ["c", "b"], "a"), n("Mul", ["a", "c"], "y")];
    const s = both({ nodes: shared, x: f32([1, 8, 20, 20], 3), init });
    sameBits(s.a, s.b);
    // (the 1x1 Conv, unfolded, heads a pipeline with the chain after it)
    assert.equal(s.opt.executionPlan()[0].name.split("|")[0], "Conv_c");
    assert.deepEqual(s.opt.executionPlan()[0].inputs.slice(0, 2), ["x", "w"]);
  });
});

describe("element-wise chains (one pass on the kernels, bit-exact)", () => {
  const chainNodes = [
    n("Add", ["b", "x"], "a"), // constant first: the chain's value is x
    n("Mul", ["a", "t"], "m"), // a runtime tensor of the same shape
    n("Relu", ["m"], "r"),
    n("Sub", ["s", "r"], "d"), // reversed: s - r
    n("Div", ["d", "k"], "q"),
    n("Clip", ["q", "lo", "hi"], "c"),
    n("Sigmoid", ["c"], "y"),
  ];
  const init = {
    b: f32([1, 6, 1, 1], 1),
    s: f32([], 2),
    k: f32([6, 1, 1], 3),
    lo: tensor("float32", [], [-1.5]),
    hi: tensor("float32", [], [2]),
  };
  test("channel, scalar and tensor operands, reversed Sub, Clip, Sigmoid", () => {
    const x = f32([2, 6, 9, 7], 4), t = f32([2, 6, 9, 7], 5);
    x.data[3] = NaN;
    x.data[4] = Infinity;
    (x.data as Float32Array)[5] = -0;
    const { opt, a, b } = both({ nodes: chainNodes, x, init, extra: { t } });
    sameBits(a, b);
    assert.deepEqual(opt.executionPlan().map((s) => s.opType), ["ElementwiseChain"]);
  });
  test("operands that broadcast the value, small tensors: the nodes one by one", () => {
    // t broadcasts over two axes: not a kernel operand, the chain runs its nodes
    const wide = both({ nodes: chainNodes, x: f32([2, 6, 9, 7], 4), init, extra: { t: f32([2, 1, 9, 1], 6) } });
    sameBits(wide.a, wide.b);
    const small = both({ nodes: chainNodes, x: f32([1, 6, 2, 2], 4), init, extra: { t: f32([1, 6, 2, 2], 6) } });
    sameBits(small.a, small.b);
  });
  test("a value used twice ends the chain", () => {
    const nodes = [n("Relu", ["x"], "r"), n("Mul", ["r", "r"], "m"), n("Sigmoid", ["m"], "y")];
    const { opt, a, b } = both({ nodes, x: f32([1, 4, 30, 30], 7), init: {} });
    sameBits(a, b);
    assert.equal(opt.executionPlan().length, 3);
  });
});

describe("fused kernels' argument checks", () => {
  test("chain and convTranspose reject sizes that do not fit", () => {
    assert.throws(() => chain(new Float32Array(6), new Float32Array(6), 4, 1, [{ kind: "relu" }]), RangeError);
    assert.throws(() => chain(new Float32Array(4), new Float32Array(3), 4, 1, [{ kind: "relu" }]), RangeError);
    assert.throws(
      () =>
        chain(new Float32Array(8), new Float32Array(8), 4, 2, [{
          op: "add",
          b: { kind: "channel", values: new Float32Array(3) },
        }]),
      RangeError,
    );
    const g = {
      n: 1,
      c: 1,
      m: 1,
      group: 1,
      inSp: [2, 2] as [number, number],
      outSp: [4, 4] as [number, number],
      kSp: [2, 2] as [number, number],
      strides: [2, 2] as [number, number],
      dil: [1, 1] as [number, number],
      pads: [0, 0] as [number, number],
    };
    assert.throws(
      () => convTranspose(new Float32Array(4), new Float32Array(4), null, new Float32Array(15), g),
      RangeError,
    );
    assert.throws(
      () => convTranspose(new Float32Array(4), new Float32Array(3), null, new Float32Array(16), g),
      RangeError,
    );
    assert.deepEqual(
      Array.from(
        convTranspose(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 2, 3, 4]), null, new Float32Array(16), g),
      ),
      [1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16],
    );
  });
});

describe("OnnxGraph.fallbacks", () => {
  test("counts the runs in which a fused node ran its nodes one by one, by fused node", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const bytes = encodeModel(makeModel({
        opset: 17,
        nodes: [n("Relu", ["x"], "r"), n("Sigmoid", ["r"], "y")],
        inputs: [valueInfo("x", dtype, [1, "n"])],
        outputs: [valueInfo("y", dtype, null)],
        initializers: {},
      }));
      const g = OnnxGraph.fromBytes(bytes), plain = OnnxGraph.fromBytes(bytes, { optimize: false });
      assert.deepEqual(g.executionPlan().map((s) => s.name), ["Relu_r+Sigmoid_y"]);
      const feed = (len: number) => {
        const d = rand(len, len);
        return { x: tensor(dtype, [1, len], dtype === "float32" ? d : Float64Array.from(d)) };
      };
      // a large float32 input takes the kernel; a float64 one, or a few elements, do not
      const big = feed(4096);
      assert.deepEqual(g.run(big).y.data, plain.run(big).y.data);
      const once = dtype === "float32" ? 0 : 1;
      assert.deepEqual([...g.fallbacks], once ? [["Relu_r+Sigmoid_y", 1]] : []);
      const small = feed(3);
      assert.deepEqual(g.run(small).y.data, plain.run(small).y.data);
      g.run(small);
      assert.deepEqual([...g.fallbacks], [["Relu_r+Sigmoid_y", once + 2]]);
      assert.equal(plain.fallbacks.size, 0, "a graph run as written has no fused node");
    }
  });
});
