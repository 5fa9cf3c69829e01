// The committed fixture models (tests/fixtures/): the program writer and the reference
// executor checked on their own, then the native library (through mod.ts) checked
// against the reference bit for bit on several random inputs.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { encodeProgram, ProgramBuilder, writeModelDirectory } from "../compiler/program.ts";
import { loadProgram, parseProgram, rne, runProgram, runReference } from "./fixtures/reference.ts";
import { CASES, makeFixtures, prng, randomInputs } from "./fixtures/make_fixtures.ts";
import { type NativeRunner, openNative } from "./fixtures/native.ts";

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = ["tiny", "ops", "uint8", "keras"];
const modelPath = (f: string) => join(here, "fixtures", f, "model.json");

describe("program writer", () => {
  test("header, 16-byte aligned data section, data refs aligned", () => {
    const p = new ProgramBuilder();
    const x = p.addInput({ name: "x", shape: [1, 1, 1, 3], scale: 0.1, zero_point: 0 });
    const y = p.addTensor({ name: "y", shape: [1, 1, 1, 2], scale: 0.3, zero_point: 1 });
    const w = p.addData(new Int8Array([1, 2, 3, 4, 5, 6]));
    const b = p.addData(new Int32Array([7, -8]));
    const s = p.addData(new Float32Array([0.5, 0.25]));
    p.addOp({ op: "Gemm", name: "fc", inputs: [x], outputs: [y], weights: w, bias: b, w_scale: s });
    p.markOutput(y);
    assert.deepEqual(w, { offset: 0, length: 6 });
    assert.deepEqual(b, { offset: 16, length: 8 });
    assert.deepEqual(s, { offset: 32, length: 8 });
    const bytes = encodeProgram(p.finish());
    assert.equal(new TextDecoder().decode(bytes.subarray(0, 8)), "AXRPROG\0");
    const v = new DataView(bytes.buffer);
    assert.equal(v.getUint32(8, true), 1);
    const jsonLen = v.getUint32(12, true);
    const dataStart = Math.ceil((16 + jsonLen) / 16) * 16;
    assert.equal(bytes.length, dataStart + 40);
    assert.equal(v.getInt32(dataStart + 20, true), -8);
    assert.equal(v.getFloat32(dataStart + 36, true), 0.25);
    for (let i = 16 + jsonLen; i < dataStart; i++) assert.equal(bytes[i], 0);
    const json = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + jsonLen)));
    assert.equal(json.tensors[1].scale, Math.fround(0.3));
    assert.deepEqual(json.outputs, [1]);
  });

  test("rejects bad tensors", () => {
    const p = new ProgramBuilder();
    assert.throws(() => p.addTensor({ name: "a", shape: [1, 2, 3], scale: 1, zero_point: 0 }), /4 dimensions/);
    assert.throws(() => p.addTensor({ name: "b", shape: [1, 1, 1, 1], scale: 0, zero_point: 0 }), /scale/);
    assert.throws(() => p.addTensor({ name: "c", shape: [1, 1, 1, 1], scale: 1, zero_point: 128 }), /zero point/);
    assert.throws(
      () => p.addTensor({ name: "d", shape: [1, 1, 1, 1], scale: 1, zero_point: -1, dtype: "uint8" }),
      /zero point/,
    );
  });

  test("model directory: model.json, manifest agree with the program", () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-prog-"));
    try {
      const p = new ProgramBuilder();
      const x = p.addInput({
        name: "x",
        shape: [1, 2, 3, 3],
        scale: 0.5,
        zero_point: -2,
        padding: [[0, 0], [1, 1], [0, 2], [0, 1]],
      });
      const y = p.addTensor({ name: "y", shape: [1, 2, 3, 3], scale: 0.5, zero_point: -2 });
      p.addOp({ op: "Relu", name: "relu", inputs: [x], outputs: [y] });
      p.markOutput(y, [[0, 0], [0, 0], [0, 0], [0, 13]]);
      const path = writeModelDirectory(dir, { name: "relu", program: p.finish(), postamble: new Uint8Array([8, 1]) });
      const model = JSON.parse(readFileSync(path, "utf8"));
      assert.equal(model.format, "axr-model");
      assert.equal(model.version, 1);
      assert.equal(model.postamble_graph, "postamble.onnx");
      assert.equal(model.preamble_graph, null);
      const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
      assert.deepEqual(m.input_shapes, [[1, 4, 5, 4]]);
      assert.deepEqual(m.output_shapes, [[1, 2, 3, 16]]);
      assert.deepEqual(m.n_padded_ch_inputs, [[0, 0, 1, 1, 0, 2, 0, 1]]);
      assert.deepEqual(m.n_padded_ch_outputs, [[0, 0, 0, 0, 0, 0, 0, 13]]);
      assert.deepEqual(m.quantize_params, [[0.5, -2]]);
      assert.deepEqual(m.input_shapes_original, [[1, 3, 2, 3]]);
      assert.equal(m.postprocess_graph, "postamble.onnx");
      assert.deepEqual([...readFileSync(join(dir, "postamble.onnx"))], [8, 1]);
      // the reference reads what the writer wrote; padding ignored on input, zp on output
      const input = new Int8Array(4 * 5 * 4).fill(100);
      const xs = [1, 4, 5, 4];
      const vals = [-5, -2, 0, 7, -128, 127];
      let k = 0;
      for (let h = 0; h < 2; h++) {
        for (let w = 0; w < 3; w++) {
          for (let c = 0; c < 3; c++) input[((h + 1) * xs[2] + w) * xs[3] + c] = vals[k++ % 6];
        }
      }
      const [out] = runReference(path, [input]);
      assert.equal(out.length, 2 * 3 * 16);
      k = 0;
      for (let px = 0; px < 6; px++) {
        for (let c = 0; c < 16; c++) {
          assert.equal(out[px * 16 + c], c < 3 ? Math.max(vals[k++ % 6], -2) : -2);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("reference executor", () => {
  test("rne rounds half to even", () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -2.6, 3.5].map((v) => rne(v) + 0), [
      0,
      2,
      2,
      0,
      -2,
      -2,
      2,
      -3,
      4,
    ]);
  });

  test("hand-computed conv with padding, zero points, requantization and clamp", () => {
    // x: 1x2x2x1, zp 1, scale 0.5; w: one 2x2 filter, pad bottom/right 1; y scale 1, zp -3
    const p = new ProgramBuilder();
    const x = p.addInput({ name: "x", shape: [1, 2, 2, 1], scale: 0.5, zero_point: 1 });
    const y = p.addTensor({ name: "y", shape: [1, 2, 2, 1], scale: 1, zero_point: -3 });
    p.addOp({
      op: "Conv",
      name: "c",
      inputs: [x],
      outputs: [y],
      kernel: [2, 2],
      pads: [0, 0, 1, 1],
      weights: p.addData(new Int8Array([1, 2, 3, 4])),
      bias: p.addData(new Int32Array([1])),
      w_scale: p.addData(new Float32Array([0.5])),
      clamp: [-128, 3],
    });
    p.markOutput(y);
    const prog = parseProgram(encodeProgram(p.finish()));
    // x - zp = [[2, 4], [-1, 0]]
    // (0,0): 1 + 2*1 + 4*2 + -1*3 + 0*4 = 8 -> 8*0.25 = 2 -> 2-3 = -1
    // (0,1): 1 + 4*1 + -1 already out... window (0,1),(0,2)pad,(1,1),(1,2)pad: 1 + 4*1 + 0*3 = 5 -> 1.25 -> 1 -> -2
    // (1,0): 1 + -1*1 + 0*2 = 0 -> -3; (1,1): 1 + 0 = 1 -> 0.25 -> 0 -> -3
    const out = runProgram(prog, [new Int8Array([3, 5, 0, 1])]).outputs[0];
    assert.deepEqual([...out], [-1, -2, -3, -3]);
    // ties to even: (0,0) acc 9 + 1 = 10 -> 2.5 -> 2 (not 3); (0,1) acc 5 + 1 = 6 -> 1.5 -> 2
    assert.deepEqual([...runProgram(prog, [new Int8Array([10, 1, 1, 1])]).outputs[0]], [-1, -3, -3, -3]);
    assert.deepEqual([...runProgram(prog, [new Int8Array([10, 6, 1, 1])]).outputs[0]], [2, -1, -3, -3]);
    const out3 = runProgram(prog, [new Int8Array([127, 127, 127, 127])]).outputs[0]; // clamp
    assert.equal(out3[0], 3);
  });

  test("committed golden cases still match the reference", () => {
    for (const f of fixtures) {
      const dir = join(here, "fixtures", f, "cases");
      const prog = loadProgram(modelPath(f));
      for (let k = 0; k < CASES; k++) {
        const ins = prog.inputs.map((_, i) =>
          new Int8Array(readFileSync(join(dir, `in_${k}_${i}.bin`)).buffer.slice(0))
        );
        const outs = runReference(modelPath(f), ins);
        outs.forEach((o, j) => {
          const want = new Int8Array(new Uint8Array(readFileSync(join(dir, `out_${k}_${j}.bin`))).buffer);
          assert.deepEqual(o, want, `${f} case ${k} output ${j}`);
        });
      }
    }
  });

  test("the generator is deterministic (regenerated fixtures equal the committed ones)", () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-fix-"));
    try {
      makeFixtures(dir, true);
      for (const f of fixtures) {
        const files = (d: string) => readdirSync(d, { recursive: true }).map(String).sort();
        const mine = join(dir, f), committed = join(here, "fixtures", f);
        assert.deepEqual(files(mine), files(committed), f);
        for (const name of files(mine)) {
          if (name === "cases") continue;
          assert.deepEqual(readFileSync(join(mine, name)), readFileSync(join(committed, name)), `${f}/${name}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("every op of the format is exercised by the fixtures", () => {
    const ops = new Set(fixtures.flatMap((f) => loadProgram(modelPath(f)).ops.map((o) => o.op)));
    for (
      const op of [
        "Conv",
        "Gemm",
        "Add",
        "Mul",
        "Concat",
        "Requantize",
        "MaxPool",
        "AveragePool",
        "GlobalAveragePool",
        "Relu",
        "Clip",
        "Lut",
        "Resize",
        "Reshape",
        "Transpose",
        "Slice",
        "Split",
        "Pad",
        "ChannelLut",
      ]
    ) assert.ok(ops.has(op), op);
  });
});

// ---- the native library through the public API, against the reference ----

const native = await openNative();
const why = typeof native === "string" ? native : "";
if (why) console.warn(`fixtures.test.ts: skipping the native-library checks: ${why}`);

describe("native library matches the reference bit for bit", () => {
  // on 1, 2 and 3 host threads: an explicit hostThreads splits every convolution and
  // lookup table of these small programs, so the split paths run on every fixture
  for (const f of fixtures) {
    for (const threads of [1, 2, 3]) {
      test(`${f}, ${threads} host thread(s)`, why ? { skip: why } : {}, () => {
        const n = native as NativeRunner;
        const prog = loadProgram(modelPath(f));
        const run = n.load(modelPath(f), threads);
        const rand = prng(0x5eed + f.length);
        for (let k = 0; k < 5; k++) {
          const ins = randomInputs(prog, rand);
          const want = runReference(modelPath(f), ins);
          run(ins).forEach((o, j) => assert.deepEqual(o, want[j], `${f} run ${k} output ${j} (${threads} threads)`));
        }
        // and the committed golden cases
        for (let k = 0; k < CASES; k++) {
          const dir = join(here, "fixtures", f, "cases");
          const ins = prog.inputs.map((_, i) =>
            new Int8Array(new Uint8Array(readFileSync(join(dir, `in_${k}_${i}.bin`))).buffer)
          );
          run(ins).forEach((o, j) => {
            const want = new Int8Array(new Uint8Array(readFileSync(join(dir, `out_${k}_${j}.bin`))).buffer);
            assert.deepEqual(o, want, `${f} case ${k} output ${j}`);
          });
        }
        assert.equal(n.hostThreads(), threads);
      });
    }
  }
  test("closes", why ? { skip: why } : {}, () => (native as NativeRunner).close());
});
