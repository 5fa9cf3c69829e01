// Real onnxruntime quantize_static QDQ models (built by tests/qdq/make_models.py with the
// pinned onnxruntime and onnx wheels from PyPI, cached outside the repository) compiled
// and run end to end by infer() on the emulated device, against onnxruntime (1 thread,
// graph optimizations off: the integer reference). Covers x*HardSigmoid(x) and
// x*Sigmoid(x) (two roundings), Relu removed by the quantizer (the Q clamp), a detector
// whose box decode was excluded from quantization (float head kept on the host), and a
// Keras/TF-style graph (NHWC Transposes, Casts, per-channel Sub/Mul/Add, Pad) as QDQ and
// as a float model.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import * as ort from "onnxruntime-node";
import * as axr from "../mod.ts";
import { compileOnnx } from "../compiler/compile.ts";
import { decodeOnnx } from "../compiler/onnx_io.ts";
import { simplify } from "../compiler/simplify.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";
import { prng } from "./fixtures/make_fixtures.ts";
import { PY_PINS, pythonPath } from "./helpers/python.ts";

const script = fileURLToPath(new URL("./qdq/make_models.py", import.meta.url));

/** Builds (once, cached by the script's and the Python pins' hash) the float and QDQ models. */
function models(): string {
  const cache = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "axr-runtime");
  const py = pythonPath();
  const hash = createHash("sha256").update(readFileSync(script)).update(PY_PINS.join(" ")).digest("hex").slice(0, 16);
  const dir = join(cache, `qdq-models-${hash}`);
  if (!existsSync(join(dir, "done"))) {
    mkdirSync(dir, { recursive: true });
    execFileSync("python3", [script, dir], {
      env: { ...process.env, PYTHONPATH: py },
      stdio: ["ignore", "ignore", "inherit"],
    });
    writeFileSync(join(dir, "done"), "");
  }
  return dir;
}

const SHAPES: Record<string, number[]> = {
  mbv3: [1, 3, 32, 32],
  det: [1, 3, 32, 32],
  keras: [1, 24, 24, 3],
  chan: [1, 3, 16, 16],
};

/** Image-like test inputs (not the calibration samples). */
function inputs(name: string, n: number): Float32Array[] {
  const r = prng(11);
  const dims = SHAPES[name], last = dims[dims.length - 1], size = dims.reduce((a, b) => a * b);
  return Array.from({ length: n }, () => {
    const k = r();
    return Float32Array.from({ length: size }, (_, i) => Math.min(1, r() * 0.3 + ((i % last) / last) * 0.7 * k));
  });
}

async function ortRun(path: string, x: Float32Array, dims: number[]): Promise<Record<string, Float32Array>> {
  const s = await ort.InferenceSession.create(readFileSync(path), {
    graphOptimizationLevel: "disabled",
    intraOpNumThreads: 1,
  });
  const out = await s.run({ [s.inputNames[0]]: new ort.Tensor("float32", x, dims) });
  await s.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

describe("onnxruntime quantize_static QDQ models", () => {
  let env: EmulatorEnv, ctx: axr.Context, conn: axr.Connection, dir: string, work: string;
  before(() => {
    dir = models();
    env = useEmulatorEnv({ devices: "pcie" });
    ctx = new axr.Context();
    conn = ctx.deviceConnect();
    work = mkdtempSync(join(tmpdir(), "axr-qdq-"));
  });
  after(() => {
    conn.release();
    ctx.release();
    env.restore();
    rmSync(work, { recursive: true, force: true });
  });

  async function compileAndRun(name: string, variant: string) {
    const out = join(work, `${name}.${variant}`);
    const log: string[] = [];
    const res = await compileOnnx(join(dir, `${name}.${variant}.onnx`), out, {
      calibration: join(dir, `${name}.calib.npy`),
      progress: (m) => log.push(m),
    });
    const inst = conn.loadModelInstance(ctx.loadModel(res.modelJson));
    const xs = inputs(name, 3);
    const got = xs.map((x) => inst.infer(x));
    return { res, log, xs, got };
  }

  for (const name of ["mbv3", "det", "keras", "chan"]) {
    for (const variant of ["qdq", "qdqu8"]) {
      test(`${name} (${variant === "qdq" ? "int8" : "uint8"} activations): infer() equals onnxruntime`, async () => {
        const { res, xs, got } = await compileAndRun(name, variant);
        let n = 0, bad = 0;
        for (const [i, x] of xs.entries()) {
          const ref = await ortRun(join(dir, `${name}.${variant}.onnx`), x, SHAPES[name]);
          for (const [k, want] of Object.entries(ref)) {
            const have = got[i][k].data as Float32Array;
            assert.equal(have.length, want.length, k);
            for (let j = 0; j < want.length; j++) {
              n++;
              if (Math.abs(have[j] - want[j]) > 1e-5 * Math.max(1, Math.abs(want[j]))) bad++;
            }
          }
        }
        assert.ok(bad === 0, `${bad} of ${n} output elements differ from onnxruntime`);
        const p = res.lowered.program.json;
        assert.ok(p.ops.length > 0);
        if (name === "mbv3") {
          // every Conv and the Gemm on the device; the two-rounding activations as tables
          assert.equal(res.offDevice.size, 0, [...res.offDevice.keys()].join(", "));
          assert.ok(p.ops.some((o) => o.op === "Lut"));
        }
        if (name === "chan") {
          // BatchNormalization (rounded apart from its Conv) and PRelu: per-channel tables (chains composed)
          assert.equal(res.offDevice.size, 0, [...res.offDevice.entries()].join("; "));
          assert.ok(p.ops.filter((o) => o.op === "ChannelLut").length >= 2, p.ops.map((o) => o.op).join(","));
        }
        if (name === "det") {
          // the excluded box decode stays float on the host
          const post = res.lowered.postamble!.nodes.map((nd) => nd.op);
          for (const op of ["Reshape", "Concat", "Split", "Sigmoid"]) assert.ok(post.includes(op), post.join(","));
          assert.ok(!p.ops.some((o) => o.op === "Concat" || o.op === "Split"));
        }
      });
    }
  }

  test("float models get quantize_static's grids and weight scales from the same calibration data", async () => {
    // quantize_static (MinMax) and a float compile with the same samples choose the same
    // scale and zero point, bit for bit, for every tensor both quantize (compiler/quantize.ts
    // activationParams), and the same per-channel weight scales; deliberate differences:
    // an AveragePool output takes its own range (onnxruntime: its input's grid), a PRelu
    // (a table here, float in onnxruntime) its own, affines folded into a Conv
    for (const name of ["mbv3", "det", "keras", "chan"]) {
      const { res } = await compileAndRun(name, "float");
      const q = decodeOnnx(readFileSync(join(dir, `${name}.qdq.onnx`)));
      simplify(q, {});
      const fl = decodeOnnx(readFileSync(join(dir, `${name}.float.onnx`)));
      // grids that are ours to choose: an AveragePool's output and a PRelu's (onnxruntime
      // leaves PRelu float), and what layout ops and MaxPool pass on from them
      const pooled = new Set<string>();
      for (const n of fl.nodes) {
        const passOn = ["Transpose", "Reshape", "Flatten", "MaxPool"].includes(n.op) && pooled.has(n.inputs[0]);
        if (n.op === "AveragePool" || n.op === "PRelu" || passOn) n.outputs.forEach((o) => pooled.add(o));
      }
      const p = res.lowered.program;
      let same = 0;
      const differ: string[] = [];
      for (const t of p.json.tensors) {
        const given = q.quant.get(t.name);
        if (!given || pooled.has(t.name)) continue;
        if (given.scale === t.scale && given.zeroPoint === t.zero_point) same++;
        else differ.push(`${t.name}: ${t.scale}/${t.zero_point}, quantize_static ${given.scale}/${given.zeroPoint}`);
      }
      assert.deepEqual(differ, [], name);
      assert.ok(same >= 4, `${name}: ${same} tensors compared`);
      // weight scales, op by op (a Conv that quantize_static left float has none); keras
      // and chan fold their per-channel affines and batch norms into the Conv weights (one
      // rounding less than quantize_static, which quantizes them apart), so theirs differ
      if (name === "keras" || name === "chan") continue;
      let convs = 0;
      for (const o of p.json.ops.filter((o) => o.w_scale)) {
        const node = q.nodes.find((nd) => nd.name === o.name);
        const theirs = node && q.weightScales.get(node.inputs[1]);
        if (!theirs) continue;
        const r = o.w_scale as { offset: number; length: number };
        const mine = new Float32Array(p.data.slice(r.offset, r.offset + r.length).buffer);
        assert.deepEqual(Array.from(mine), Array.from(theirs), `${name}: weight scales of ${o.name}`);
        convs++;
      }
      assert.ok(convs >= 2, `${name}: ${convs} weighted ops compared`);
    }
  });

  test("keras float model: Casts removed, Pad and affines folded into the Conv, Transpose pair cancelled", async () => {
    const { res, log, xs, got } = await compileAndRun("keras", "float");
    const off = [...res.offDevice.entries()].map(([k, v]) => `${k} (${v})`).join("; ");
    // left on the host: the input Transpose and the mean Sub before a padded Conv (preamble), Softmax
    assert.ok(!/\((Cast|Pad|Mul|Relu|MaxPool|MatMul|Conv):/.test(off), off);
    assert.ok(!/\(Transpose: (?!only host ops)/.test(off), off);
    assert.ok(!log.some((l) => l.startsWith("WARNING")), "calibration data was given");
    assert.ok(res.report.deviceMacShare > 0.99, `${res.report.deviceMacShare}`);
    // close to the float model (the device quantizes it)
    for (const [i, x] of xs.entries()) {
      const ref = await ortRun(join(dir, "keras.float.onnx"), x, SHAPES.keras);
      const a = ref.probs, b = got[i].probs.data as Float32Array;
      let d = 0;
      for (let j = 0; j < a.length; j++) d = Math.max(d, Math.abs(a[j] - b[j]));
      assert.ok(d < 0.05, `max |p - p_float| ${d}`);
    }
  });

  test("chan float model: the BatchNormalization after a Conv folds, the others and PRelu are tables", async () => {
    const { res, xs, got } = await compileAndRun("chan", "float");
    assert.equal(res.offDevice.size, 0, [...res.offDevice.entries()].join("; "));
    const ops = res.lowered.program.json.ops.map((o) => o.op);
    assert.equal(ops.filter((o) => o === "Conv").length, 3, ops.join(","));
    for (const [i, x] of xs.entries()) {
      const ref = (await ortRun(join(dir, "chan.float.onnx"), x, SHAPES.chan)).logits;
      const have = got[i].logits.data as Float32Array;
      let d = 0, m = 0;
      for (let j = 0; j < ref.length; j++) {
        d = Math.max(d, Math.abs(have[j] - ref[j]));
        m = Math.max(m, Math.abs(ref[j]));
      }
      assert.ok(d < 0.05 * m, `max |y - y_float| ${d} of ${m}`);
    }
  });

  test("det float model: the box decode after the last Conv stays float; scores track the float model", async () => {
    const { res, xs, got } = await compileAndRun("det", "float");
    const post = res.lowered.postamble!.nodes.map((nd) => nd.op);
    for (const op of ["Concat", "Split", "Sigmoid"]) assert.ok(post.includes(op), post.join(","));
    for (const [i, x] of xs.entries()) {
      const ref = (await ortRun(join(dir, "det.float.onnx"), x, SHAPES.det)).output0;
      const have = got[i].output0.data as Float32Array;
      let zeros = 0, dScore = 0;
      for (let j = 4 * 80; j < 7 * 80; j++) {
        if (have[j] === 0) zeros++;
        dScore = Math.max(dScore, Math.abs(have[j] - ref[j]));
      }
      assert.equal(zeros, 0, "no score is exactly 0");
      assert.ok(dScore < 0.1, `max score difference ${dScore}`);
    }
  });
});
