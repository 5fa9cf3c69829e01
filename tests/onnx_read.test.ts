import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  decodeModel,
  decodeTensorProto,
  encodeModel,
  encodeTensorProto,
  float,
  floats,
  makeModel,
  makeNode,
  OnnxError,
  OnnxFormatError,
  OnnxUnsupportedError,
  tensor,
  valueInfo,
} from "../onnx/mod.ts";
import { ProtoWriter } from "../onnx/proto.ts";

function sampleModel() {
  return makeModel({
    name: "sample",
    opset: 13,
    nodes: [
      makeNode("Conv", ["x", "w", "b"], ["c"], { pads: [1, 1, 1, 1], strides: [1, 1], group: 1 }, "conv0"),
      makeNode("LeakyRelu", ["c"], ["l"], { alpha: float(0.25) }, "lrelu"),
      makeNode(
        "Resize",
        ["l", "", "sc"],
        ["y"],
        { mode: "nearest", coordinate_transformation_mode: "asymmetric" },
        "rs",
      ),
      makeNode("Constant", [], ["k"], { value: tensor("int64", [2], [-1, 9007199254740991]) }, "k"),
      makeNode("Dummy", [], ["z"], { fl: floats([0.5, -2]) }, "dummy"),
    ],
    inputs: [valueInfo("x", "float32", [1, 2, "H", "W"])],
    outputs: [valueInfo("y", "float32", [1, 4, null, null])],
    initializers: {
      w: tensor("float32", [4, 2, 3, 3], Array.from({ length: 72 }, (_, i) => i / 7)),
      b: tensor("float32", [4], [0.5, -1, 2, 1e-8]),
      sc: tensor("float32", [4], [1, 1, 2, 2]),
      i8: tensor("int8", [3], [-128, 0, 127]),
      flag: tensor("bool", [2], [1, 0]),
      big: tensor("int64", [2], [-9223372036854775808n, 9223372036854775807n]),
    },
  });
}

describe("onnx reader and writer", () => {
  test("round trip keeps the whole object model", () => {
    const m = sampleModel();
    const bytes = encodeModel(m);
    const back = decodeModel(bytes);
    assert.equal(back.irVersion, 8);
    assert.deepEqual(back.opsetImports, [{ domain: "", version: 13 }]);
    assert.equal(back.graph.name, "sample");
    assert.deepEqual(
      back.graph.nodes.map((n) => [n.name, n.opType, n.inputs, n.outputs]),
      m.graph.nodes.map((n) => [n.name, n.opType, n.inputs, n.outputs]),
    );
    assert.deepEqual(
      back.graph.nodes,
      m.graph.nodes.map((n) => ({ ...n, attributes: n.attributes.map((a) => a.t ? { ...a, t: { ...a.t } } : a) })),
    );
    assert.deepEqual(back.graph.inputs, m.graph.inputs);
    assert.deepEqual(back.graph.outputs, m.graph.outputs);
    assert.deepEqual(back.graph.initializers, m.graph.initializers);
    assert.equal(
      (back.graph.initializers.find((t) => t.name === "big")!.data as BigInt64Array)[0],
      -9223372036854775808n,
    );
    assert.deepEqual(encodeModel(back), bytes, "re-encoding is byte-identical");
  });

  test("typed (non-raw) tensor fields decode", () => {
    const w = new ProtoWriter();
    w.packedInts(1, [2, 2]).int(2, 1).packedFloats(4, [1.5, -2, 3, 4]).string(8, "f");
    const t = decodeTensorProto(w.finish());
    assert.equal(t.name, "f");
    assert.deepEqual(Array.from(t.data as Float32Array), [1.5, -2, 3, 4]);
    const w2 = new ProtoWriter();
    w2.int(1, 3).int(2, 7).int(7, -5).int(7, 0).int(7, 2 ** 40); // unpacked int64s, negative one
    assert.deepEqual(Array.from(decodeTensorProto(w2.finish()).data as BigInt64Array), [-5n, 0n, 2n ** 40n]);
    const w3 = new ProtoWriter();
    w3.packedInts(1, [3]).int(2, 3).packedInts(5, [-1, 5, -128]); // int8 in int32_data
    assert.deepEqual(Array.from(decodeTensorProto(w3.finish()).data as Int8Array), [-1, 5, -128]);
  });

  test("tensor .pb round trip", () => {
    const t = { name: "in", dataType: 1, dims: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) };
    assert.deepEqual(decodeTensorProto(encodeTensorProto(t)), t);
  });

  test("element count must match the dims", () => {
    const w = new ProtoWriter();
    w.packedInts(1, [2, 2]).int(2, 1).packedFloats(4, [1, 2, 3]);
    assert.throws(() => decodeTensorProto(w.finish()), OnnxFormatError);
  });

  test("external data is refused with a clear error", () => {
    const w = new ProtoWriter();
    w.packedInts(1, [4]).int(2, 1).string(8, "weights").message(13, (e) => e.string(1, "location").string(2, "w.bin"))
      .int(14, 1);
    assert.throws(
      () => decodeTensorProto(w.finish()),
      (e: Error) => e instanceof OnnxUnsupportedError && /external data/.test(e.message) && /weights/.test(e.message),
    );
  });

  test("every truncation gives a format error or a model, never a crash", () => {
    const bytes = encodeModel(sampleModel());
    let errors = 0;
    for (let n = 0; n < bytes.length; n++) {
      try {
        decodeModel(bytes.subarray(0, n));
      } catch (e) {
        assert.ok(e instanceof OnnxError, `prefix ${n}: ${e}`);
        errors++;
      }
    }
    assert.ok(errors > bytes.length / 2, `most truncations must be detected (${errors}/${bytes.length})`);
  });

  test("hostile bytes: huge lengths, bad wire types, endless varints, random flips", () => {
    assert.throws(() => decodeModel(new Uint8Array([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f])), OnnxFormatError); // graph len 4G
    assert.throws(() => decodeModel(new Uint8Array([0x08, ...new Array(12).fill(0xff)])), OnnxFormatError);
    assert.throws(() => decodeModel(new Uint8Array([0x0f])), OnnxFormatError); // wire type 7
    assert.throws(() => decodeModel(new Uint8Array(0)), OnnxFormatError);
    assert.throws(() => decodeModel(new TextEncoder().encode("not an onnx file at all")), OnnxFormatError);
    const good = encodeModel(sampleModel());
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let k = 0; k < 300; k++) {
      const b = good.slice();
      for (let j = 0; j < 4; j++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      try {
        decodeModel(b);
      } catch (e) {
        assert.ok(e instanceof OnnxError, `flip ${k}: ${e}`);
      }
    }
  });

  test("a model without a graph is rejected", () => {
    const w = new ProtoWriter();
    w.int(1, 8).string(2, "x");
    assert.throws(() => decodeModel(w.finish()), /no graph/);
  });
});
