// ModelInstance.infer()/inferAsync(): the whole host path against an independent
// computation: the numpy recipe in plain TypeScript (transpose, np.round quantize,
// np.pad with the zero point, depad, dequantize) around the reference executor of
// tests/fixtures/reference.ts, and a postamble (Softmax) computed by hand.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { encodeModel, makeModel, makeNode, valueInfo } from "../onnx/mod.ts";
import { prng } from "./fixtures/make_fixtures.ts";
import { rne, runReference } from "./fixtures/reference.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";

const tinyDir = fileURLToPath(new URL("./fixtures/tiny/", import.meta.url));

/** The numpy recipe of the reference, for the tiny fixture: NCHW float in, NCHW float out. */
function recipe(dir: string, x: Float32Array): Float32Array {
  const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  const [n, c, h, w] = m.input_shapes_original[0];
  const [scale, zp] = m.quantize_params[0];
  const [pn, ph, pw, pc] = m.input_shapes[0];
  const pad = m.n_padded_ch_inputs[0];
  assert.equal(n, 1);
  const q = new Int8Array(pn * ph * pw * pc).fill(zp);
  for (let ci = 0; ci < c; ci++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        const v = rne(Math.fround(x[(ci * h + y) * w + xx] / Math.fround(scale))) + zp;
        q[((y + pad[2]) * pw + (xx + pad[4])) * pc + ci + pad[6]] = Math.min(127, Math.max(-128, v));
      }
    }
  }
  const [out] = runReference(join(dir, "model.json"), [q]);
  const [oscale, ozp] = m.dequantize_params[0];
  const [, oc] = m.output_shapes_original[0];
  const opad = m.n_padded_ch_outputs[0];
  const y = new Float32Array(oc);
  for (let k = 0; k < oc; k++) y[k] = Math.fround(Math.fround(out[k + opad[6]] - ozp) * Math.fround(oscale));
  return y;
}

describe("ModelInstance.infer", () => {
  let env: EmulatorEnv;
  let ctx: axr.Context;
  let work: string;
  before(() => {
    env = useEmulatorEnv({ devices: "pcie" });
    ctx = new axr.Context();
    work = mkdtempSync(join(tmpdir(), "axr-infer-"));
  });
  after(() => {
    ctx.release();
    env.restore();
    rmSync(work, { recursive: true, force: true });
  });

  test("float NCHW in, float out, equal to the numpy recipe around the reference executor", () => {
    const model = ctx.loadModel(join(tinyDir, "model.json"));
    using conn = ctx.deviceConnect();
    const inst = conn.loadModelInstance(model);
    const rand = prng(7);
    for (let k = 0; k < 5; k++) {
      const x = new Float32Array(3 * 8 * 8).map(() => (rand() - 0.5) * 6);
      const out = inst.infer(x);
      assert.deepEqual(Object.keys(out), ["fc"]);
      assert.deepEqual(out.fc.shape, [1, 10, 1, 1]);
      assert.deepEqual(Array.from(out.fc.data as Float32Array), Array.from(recipe(tinyDir, x)));
      // the other input forms give the same answer
      assert.deepEqual(inst.infer([x]).fc.data, out.fc.data);
      assert.deepEqual(inst.infer({ input: x }).fc.data, out.fc.data);
    }
  });

  test("inferAsync equals infer, also with several calls in flight", async () => {
    const model = ctx.loadModel(join(tinyDir, "model.json"));
    using conn = ctx.deviceConnect();
    const inst = conn.loadModelInstance(model);
    const rand = prng(11);
    const xs = Array.from({ length: 6 }, () => new Float32Array(3 * 8 * 8).map(() => (rand() - 0.5) * 6));
    const got = await Promise.all(xs.map((x) => inst.inferAsync(x)));
    xs.forEach((x, i) => assert.deepEqual(got[i].fc.data, inst.infer(x).fc.data));
  });

  test("a postamble graph runs after the device", () => {
    const dir = join(work, "with_post");
    cpSync(tinyDir, dir, { recursive: true });
    const post = makeModel({
      nodes: [
        makeNode("Flatten", ["fc"], ["flat"], { axis: 1 }),
        makeNode("Softmax", ["flat"], ["probs"], { axis: 1 }),
      ],
      inputs: [valueInfo("fc", "float32", [1, 10, 1, 1])],
      outputs: [valueInfo("probs", "float32", [1, 10])],
    });
    writeFileSync(join(dir, "postamble.onnx"), encodeModel(post));
    const mj = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
    mj.postamble_graph = "postamble.onnx";
    writeFileSync(join(dir, "model.json"), JSON.stringify(mj));
    const model = ctx.loadModel(join(dir, "model.json"));
    assert.equal(model.properties.postambleGraph, "postamble.onnx");
    using conn = ctx.deviceConnect();
    const inst = conn.loadModelInstance(model);
    const x = new Float32Array(3 * 8 * 8).map((_, i) => Math.sin(i));
    const out = inst.infer(x);
    assert.deepEqual(Object.keys(out), ["probs"]);
    assert.deepEqual(out.probs.shape, [1, 10]);
    const logits = recipe(tinyDir, x);
    const max = Math.max(...logits);
    const e = Array.from(logits, (v) => Math.exp(v - max));
    const sum = e.reduce((a, b) => a + b, 0);
    const probs = out.probs.data as Float32Array;
    e.forEach((v, i) => assert.ok(Math.abs(probs[i] - v / sum) < 1e-6, `probs[${i}] ${probs[i]} != ${v / sum}`));
  });

  test("bad inputs name the input and the expected size", () => {
    const model = ctx.loadModel(join(tinyDir, "model.json"));
    using conn = ctx.deviceConnect();
    const inst = conn.loadModelInstance(model);
    assert.throws(
      () => inst.infer(new Float32Array(5)),
      (e: unknown) => e instanceof axr.InvalidArgument && /input 'input' needs 192 elements/.test(e.message),
    );
    assert.throws(
      () => inst.infer({ nope: new Float32Array(192) }),
      (e: unknown) => e instanceof axr.InvalidArgument && /unknown input 'nope'/.test(e.message),
    );
    assert.throws(
      () => inst.infer([]),
      (e: unknown) => e instanceof axr.InvalidArgument && /1 input\(s\)/.test(e.message),
    );
    inst.release();
    assert.throws(() => inst.infer(new Float32Array(192)), /released/);
  });
});
