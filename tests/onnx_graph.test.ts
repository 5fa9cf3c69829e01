import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  encodeModel,
  makeModel,
  makeNode,
  OnnxGraph,
  OnnxGraphError,
  OnnxUnsupportedAttributeError,
  OnnxUnsupportedError,
  tensor,
  toNumbers,
  valueInfo,
} from "../onnx/mod.ts";

function chain() {
  // y = Softmax(Relu(x) * w + b), reordered on purpose in the file
  return makeModel({
    nodes: [
      makeNode("Softmax", ["s"], ["y"], { axis: -1 }, "softmax"),
      makeNode("Add", ["m", "b"], ["s"], {}, "add"),
      makeNode("Relu", ["x"], ["r"], {}, "relu"),
      makeNode("Mul", ["r", "w"], ["m"], {}, "mul"),
    ],
    inputs: [valueInfo("x", "float32", ["N", 3])],
    outputs: [valueInfo("y", "float32", ["N", 3])],
    initializers: { w: tensor("float32", [3], [1, 2, 3]), b: tensor("float32", [3], [0, 0, Math.log(2)]) },
  });
}

describe("onnx graph runner", () => {
  test("runs nodes in topological order; inputs/outputs with symbolic dims", async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-onnx-"));
    const path = join(dir, "chain.onnx");
    writeFileSync(path, encodeModel(chain()));
    const g = await OnnxGraph.load(path);
    assert.deepEqual(g.inputs, [{ name: "x", dtype: "float32", shape: ["N", 3] }]);
    assert.deepEqual(g.outputs, [{ name: "y", dtype: "float32", shape: ["N", 3] }]);
    const out = g.run({ x: tensor("float32", [2, 3], [0, 0, 0, -1, 0, 0]) });
    assert.deepEqual(out.y.shape, [2, 3]);
    const v = toNumbers(out.y);
    // row 0: logits [0,0,ln2] -> [1,1,2]/4
    [0.25, 0.25, 0.5, 0.25, 0.25, 0.5].forEach((e, i) => assert.ok(Math.abs(v[i] - e) < 1e-6));
  });

  test("outputs stay valid across runs while buffers are reused", () => {
    const m = makeModel({
      nodes: [
        makeNode("Add", ["x", "x"], ["a"]),
        makeNode("Mul", ["a", "x"], ["b"]),
        makeNode("Sub", ["b", "a"], ["c"]),
        makeNode("Neg", ["c"], ["y"]),
      ],
      inputs: [valueInfo("x", "float32", [4])],
      outputs: [valueInfo("y", "float32", [4])],
    });
    const g = OnnxGraph.fromBytes(encodeModel(m));
    const x1 = tensor("float32", [4], [1, 2, 3, 4]);
    const y1 = g.run({ x: x1 }).y;
    const want1 = [1, 2, 3, 4].map((v) => -(2 * v * v - 2 * v));
    assert.deepEqual(toNumbers(y1), want1);
    const y2 = g.run({ x: tensor("float32", [4], [5, 6, 7, 8]) }).y;
    assert.deepEqual(toNumbers(y2), [5, 6, 7, 8].map((v) => -(2 * v * v - 2 * v)));
    assert.deepEqual(toNumbers(y1), want1, "first output untouched by the second run");
    assert.deepEqual(toNumbers(x1), [1, 2, 3, 4], "inputs are never written");
    assert.notEqual(y1.data, y2.data);
  });

  test("buffers are released after their last use, planned at load: dead outputs, repeated and shared inputs", () => {
    // d is nothing's input (released at once); a is read twice by one node and by a later one;
    // y is a graph output read by a later node; r shares a's data (Reshape); w is an output
    const m = makeModel({
      nodes: [
        makeNode("Add", ["x", "x"], ["a"]),
        makeNode("Neg", ["a"], ["d"]),
        makeNode("Mul", ["a", "a"], ["y"]),
        makeNode("Reshape", ["a", "s"], ["r"]),
        makeNode("Sub", ["y", "r"], ["b"]),
        makeNode("Add", ["b", "y"], ["z"]),
      ],
      inputs: [valueInfo("x", "float32", [4])],
      outputs: [valueInfo("y", "float32", [4]), valueInfo("z", "float32", [4]), valueInfo("w", "float32", [2])],
      initializers: { s: tensor("int64", [1], [4]), w: tensor("float32", [2], [7, 8]) },
    });
    const want = (x: number[]) => {
      const a = x.map((v) => 2 * v), y = a.map((v) => v * v);
      return { y, z: y.map((v, i) => v - a[i] + v) };
    };
    for (const optimize of [true, false]) {
      const g = OnnxGraph.fromModel(m, { optimize });
      const first = g.run({ x: tensor("float32", [4], [1, 2, 3, 4]) });
      for (const x of [[5, 6, 7, 8], [-1, 0.5, 2, 9]]) {
        const out = g.run({ x: tensor("float32", [4], x) });
        assert.deepEqual(toNumbers(out.y), want(x).y);
        assert.deepEqual(toNumbers(out.z), want(x).z);
        assert.deepEqual(toNumbers(out.w), [7, 8]);
      }
      assert.deepEqual(toNumbers(first.y), want([1, 2, 3, 4]).y, "outputs of an earlier run untouched");
      assert.deepEqual(toNumbers(first.z), want([1, 2, 3, 4]).z);
    }
  });

  test("cycles are errors at load", () => {
    const m = makeModel({
      nodes: [
        makeNode("Add", ["x", "c"], ["a"], {}, "n1"),
        makeNode("Relu", ["a"], ["c"], {}, "n2"),
        makeNode("Neg", ["a"], ["y"], {}, "n3"),
      ],
      inputs: [valueInfo("x", "float32", [1])],
      outputs: [valueInfo("y", "float32", [1])],
    });
    assert.throws(() => OnnxGraph.fromModel(m), (e: Error) => e instanceof OnnxGraphError && /cycle/.test(e.message));
    const self = makeModel({
      nodes: [makeNode("Relu", ["y"], ["y"], {}, "me")],
      inputs: [],
      outputs: [valueInfo("y", "float32", [1])],
    });
    assert.throws(() => OnnxGraph.fromModel(self), /cycle/);
  });

  test("missing inputs are errors: at load (dangling edge) and at run (feed)", () => {
    const m = makeModel({
      nodes: [makeNode("Add", ["x", "nowhere"], ["y"], {}, "adder")],
      inputs: [valueInfo("x", "float32", [1])],
      outputs: [valueInfo("y", "float32", [1])],
    });
    assert.throws(
      () => OnnxGraph.fromModel(m),
      (e: Error) => e instanceof OnnxGraphError && /nowhere/.test(e.message) && /adder/.test(e.message),
    );
    const g = OnnxGraph.fromModel(chain());
    assert.throws(() => g.run({}), (e: Error) => e instanceof OnnxGraphError && /missing input 'x'/.test(e.message));
    assert.throws(() => g.run({ x: tensor("float32", [2, 4], new Array(8).fill(0)) }), /dimension 1 must be 3/);
    assert.throws(() => g.run({ x: tensor("int32", [1, 3], [1, 2, 3]) }), /must be float32/);
    const noOut = makeModel({
      nodes: [],
      inputs: [valueInfo("x", "float32", [1])],
      outputs: [valueInfo("y", "float32", [1])],
    });
    assert.throws(() => OnnxGraph.fromModel(noOut), /produced by no node/);
  });

  test("unsupported op or attribute fails at load, naming the op and the node", () => {
    const m = makeModel({
      nodes: [makeNode("Relu", ["x"], ["r"], {}, "ok"), makeNode("NonMaxSuppression", ["r"], ["y"], {}, "nms_node")],
      inputs: [valueInfo("x", "float32", [1])],
      outputs: [valueInfo("y", "float32", [1])],
    });
    assert.throws(
      () => OnnxGraph.fromModel(m),
      (e: Error) =>
        e instanceof OnnxUnsupportedError && /NonMaxSuppression/.test(e.message) && /nms_node/.test(e.message),
    );
    const cubic = makeModel({
      nodes: [makeNode("Resize", ["x", "", "s"], ["y"], { mode: "cubic" }, "rs")],
      inputs: [valueInfo("x", "float32", [1])],
      outputs: [valueInfo("y", "float32", [1])],
      initializers: { s: tensor("float32", [1], [2]) },
    });
    assert.throws(
      () => OnnxGraph.fromModel(cubic),
      (e: Error) => e instanceof OnnxUnsupportedAttributeError && /cubic/.test(e.message) && /'rs'/.test(e.message),
    );
    const custom = makeModel({
      nodes: [{ ...makeNode("Foo", ["x"], ["y"], {}, "f"), domain: "com.example" }],
      inputs: [valueInfo("x", "float32", [1])],
      outputs: [valueInfo("y", "float32", [1])],
    });
    assert.throws(() => OnnxGraph.fromModel(custom), /com\.example\.Foo/);
  });

  test("run-time shape errors name the node", () => {
    const m = makeModel({
      nodes: [makeNode("Add", ["x", "z"], ["y"], {}, "bad_add")],
      inputs: [valueInfo("x", "float32", null), valueInfo("z", "float32", null)],
      outputs: [valueInfo("y", "float32", null)],
    });
    const g = OnnxGraph.fromModel(m);
    assert.throws(
      () => g.run({ x: tensor("float32", [2], [1, 2]), z: tensor("float32", [3], [1, 2, 3]) }),
      (e: Error) => e instanceof OnnxGraphError && /bad_add/.test(e.message),
    );
  });

  test("mixed input types of one-type ops are errors naming the node (Pow's exponent may differ)", () => {
    const feeds = { i: tensor("int64", [2], [6n, 9n]), f: tensor("float32", [2], [0.5, 3]) };
    for (const op of ["Mul", "Div", "Add", "Equal", "Less"]) {
      const m = makeModel({
        nodes: [makeNode(op, ["i", "f"], ["y"], {}, `mixed_${op}`)],
        inputs: [valueInfo("i", "int64", [2]), valueInfo("f", "float32", [2])],
        outputs: [valueInfo("y", op === "Equal" || op === "Less" ? "bool" : "int64", [2])],
      });
      assert.throws(
        () => OnnxGraph.fromModel(m).run(feeds),
        (e: Error) =>
          e instanceof OnnxGraphError && e.message.includes(`mixed_${op}`) && /int64 and float32/.test(e.message),
        op,
      );
    }
    const pow = makeModel({
      nodes: [makeNode("Pow", ["f", "i"], ["y"], {}, "pow")],
      inputs: [valueInfo("i", "int64", [2]), valueInfo("f", "float32", [2])],
      outputs: [valueInfo("y", "float32", [2])],
    });
    assert.deepEqual([...OnnxGraph.fromModel(pow).run(feeds).y.data as Float32Array], [0.5 ** 6, 3 ** 9]);
  });

  test("opset-dependent forms in one graph (Unsqueeze/ReduceSum axes as inputs at opset 13)", () => {
    const m = makeModel({
      opset: 13,
      nodes: [makeNode("ReduceSum", ["x", "ax"], ["s"], { keepdims: 0 }), makeNode("Unsqueeze", ["s", "ax"], ["y"])],
      inputs: [valueInfo("x", "float32", [2, 2])],
      outputs: [valueInfo("y", "float32", [2, 1])],
      initializers: { ax: tensor("int64", [1], [1]) },
    });
    const y = OnnxGraph.fromModel(m).run({ x: tensor("float32", [2, 2], [1, 2, 3, 4]) }).y;
    assert.deepEqual(y.shape, [2, 1]);
    assert.deepEqual(toNumbers(y), [3, 7]);
  });
});

describe("onnx graph runner: data ownership", () => {
  test("outputs never alias initializers or inputs; wrong array types are refused", () => {
    const m = makeModel({
      nodes: [makeNode("Identity", ["w"], ["y"], {}, "id"), makeNode("Reshape", ["x", "s"], ["z"], {}, "rs")],
      inputs: [valueInfo("x", "float32", [2])],
      outputs: [valueInfo("y", "float32", [2]), valueInfo("z", "float32", [1, 2])],
      initializers: { w: tensor("float32", [2], [1, 2]), s: tensor("int64", [2], [1, 2]) },
    });
    const g = OnnxGraph.fromModel(m);
    const x = tensor("float32", [2], [5, 6]);
    const out = g.run({ x });
    (out.y.data as Float32Array)[0] = 100;
    (out.z.data as Float32Array)[0] = 100;
    assert.deepEqual(toNumbers(g.run({ x }).y), [1, 2]);
    assert.deepEqual(toNumbers(x), [5, 6]);
    assert.throws(() => g.run({ x: { data: new Float64Array(2), shape: [2], dtype: "float32" } }), /Float32Array/);
  });
});
