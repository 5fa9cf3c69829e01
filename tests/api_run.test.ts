// The public API running models: run() with every kind of buffer checked
// against the independent reference executor (tests/fixtures/reference.ts),
// runAsync() on several instances at once, dmabuf fds, stats, TensorInfo's
// conversions against plain-TS numpy recipes, and the quickstart under both
// runtimes. Runs unchanged under `deno test -A` and `bun test`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { prng } from "./fixtures/make_fixtures.ts";
import { loadProgram, runReference } from "./fixtures/reference.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";
import { runScript } from "./helpers/runtime_child.ts";
import { nativeLibrary } from "../ffi/library.ts";
import { decodeTensorInfo, TENSOR_INFO_BYTES } from "../ffi/structs.ts";
import { runGateSettings } from "../runtime/run_gate.ts";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}/model.json`, import.meta.url));

function randomBytes(n: number, rand: () => number): Int8Array {
  const b = new Int8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256) - 128;
  return b;
}

/** Round half to even in float32 (numpy's np.round on float32). */
function rne(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The numpy recipe of the Python docs, element by element, in plain TS. */
function numpyQuantizePad(src: Float32Array, info: axr.TensorInfo): number[] {
  const lo = info.dtype === "uint8" ? 0 : -128;
  const hi = info.dtype === "uint8" ? 255 : 127;
  const q = Array.from(
    src,
    (x) => Math.min(hi, Math.max(lo, rne(Math.fround(Math.fround(x) / Math.fround(info.scale))) + info.zeroPoint)),
  );
  const shape = info.shape;
  const inner = info.unpaddedShape;
  const out = new Array<number>(info.length).fill(info.zeroPoint);
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < q.length; k++) {
    let rem = k;
    for (let a = inner.length - 1; a >= 0; a--) {
      idx[a] = rem % inner[a];
      rem = Math.floor(rem / inner[a]);
    }
    let off = 0;
    for (let a = 0; a < shape.length; a++) off = off * shape[a] + idx[a] + info.padding[a][0];
    out[off] = q[k];
  }
  return out;
}

/** out[tuple(slice(b, -e or None))] then (q - zp) * scale, in plain TS. */
function numpyDepadDequantize(src: ArrayLike<number>, info: axr.TensorInfo): number[] {
  const shape = info.shape;
  const inner = info.unpaddedShape;
  const n = inner.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    let rem = k;
    const idx: number[] = new Array(inner.length);
    for (let a = inner.length - 1; a >= 0; a--) {
      idx[a] = rem % inner[a];
      rem = Math.floor(rem / inner[a]);
    }
    let off = 0;
    for (let a = 0; a < shape.length; a++) off = off * shape[a] + idx[a] + info.padding[a][0];
    out.push(Math.fround(Math.fround(src[off] - info.zeroPoint) * Math.fround(info.scale)));
  }
  return out;
}

let env: EmulatorEnv;

describe("run() against the reference executor", () => {
  before(() => (env = useEmulatorEnv({ settleMs: 0 })));
  after(() => env.restore());

  for (const name of ["tiny", "ops", "uint8"]) {
    test(`${name}: typed arrays, offset views, DataViews and WasmBuffers give the reference's bytes`, () => {
      using ctx = new axr.Context();
      const model = ctx.loadModel(fixture(name));
      using conn = ctx.deviceConnect(0, 1);
      const inst = conn.loadModelInstance(model, { aipuCores: 1 });
      const prog = loadProgram(fixture(name));
      const ins = model.inputs();
      const outs = model.outputs();
      assert.equal(ins.length, prog.inputs.length);
      assert.equal(outs.length, prog.outputs.length);
      const rand = prng(1234 + name.length);
      for (let k = 0; k < 4; k++) {
        const inputs = ins.map((t) => randomBytes(t.size, rand));
        const want = runReference(fixture(name), inputs);
        const asType = (b: Int8Array, t: axr.TensorInfo) =>
          t.dtype === "uint8" ? new Uint8Array(b.buffer, b.byteOffset, b.length) : b;
        let args: axr.TensorArgument[];
        let results: axr.TensorArgument[];
        let read: (i: number) => Int8Array;
        if (k === 0) { // plain typed arrays of the tensor's dtype
          args = inputs.map((b, i) => asType(b, ins[i]));
          const o = outs.map((t) => new Int8Array(t.size).fill(0x55));
          results = o.map((b, j) => asType(b, outs[j]));
          read = (j) => o[j];
        } else if (k === 1) { // views at odd offsets inside one big buffer
          const big = new ArrayBuffer(1 + [...ins, ...outs].reduce((a, t) => a + t.size + 3, 0));
          let off = 1;
          args = inputs.map((b) => {
            const v = new Int8Array(big, off, b.length);
            v.set(b);
            off += b.length + 3;
            return v;
          });
          const o = outs.map((t) => {
            const v = new Int8Array(big, off, t.size);
            off += t.size + 3;
            return v;
          });
          results = o;
          read = (j) => o[j];
        } else if (k === 2) { // DataViews
          args = inputs.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength));
          const o = outs.map((t) => new Int8Array(t.size));
          results = o.map((b) => new DataView(b.buffer));
          read = (j) => o[j];
        } else { // buffers in the kernels' WASM memory
          const wb = inputs.map((b, i) => {
            const w = ins[i].allocate();
            w.i8().set(b);
            return w;
          });
          const o = outs.map((t) => t.allocate());
          args = wb;
          results = o;
          read = (j) => o[j].i8().slice();
        }
        inst.run(args, results);
        want.forEach((w, j) => assert.deepEqual(read(j), w, `${name} case ${k} output ${j}`));
      }
    });
  }

  test("float in, float out: quantizePad -> run -> depadDequantize equals the numpy recipe on the reference", () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(fixture("tiny"));
    using conn = ctx.deviceConnect(0, 1);
    const inst = conn.loadModelInstance(model);
    const [iInfo] = model.inputs();
    const [oInfo] = model.outputs();
    const rand = prng(99);
    const image = new Float32Array(iInfo.unpaddedLength).map(() => (rand() - 0.5) * 3);
    const input = iInfo.quantizePad(image);
    assert.deepEqual(Array.from(input), numpyQuantizePad(image, iInfo));
    const output = new Int8Array(oInfo.size);
    inst.run([input], [output]);
    const [want] = runReference(fixture("tiny"), [input]);
    assert.deepEqual(output, want);
    const scores = oInfo.depadDequantize(output);
    assert.equal(scores.length, 10);
    assert.deepEqual(Array.from(scores), numpyDepadDequantize(want, oInfo));
  });

  test("the vendor-library path: struct-returning axr_get_model_input/output equals the extension", () => {
    // Deno: a struct result; Bun on x86_64: the hidden result pointer of the System V ABI.
    const lib = nativeLibrary();
    assert.ok(lib.hasExtension("axr_ext_get_model_input"));
    if (lib.runtime === "bun" && process.arch !== "x64") return; // documented: Bun needs the extension there
    using ctx = new axr.Context();
    for (const name of ["tiny", "ops", "uint8"]) {
      const model = ctx.loadModel(fixture(name));
      for (const output of [false, true]) {
        const infos = output ? model.outputs() : model.inputs();
        infos.forEach((info, n) => {
          const viaExt = new Uint8Array(TENSOR_INFO_BYTES);
          const byValue = new Uint8Array(TENSOR_INFO_BYTES).fill(0xee);
          assert.equal(lib.tensorInfo(model.node.handle, output, n, viaExt), 0);
          lib.tensorInfoByValue(model.node.handle, output, n, byValue);
          const a = decodeTensorInfo(viaExt);
          assert.deepEqual(decodeTensorInfo(byValue), a, `${name} ${output ? "output" : "input"} ${n}`);
          assert.equal(a.name, info.name);
          assert.deepEqual(a.dims, info.shape);
        });
      }
    }
  });

  test("counts and sizes are checked before the native call, naming the tensor", () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(fixture("ops"));
    using conn = ctx.deviceConnect(0, 1);
    const inst = conn.loadModelInstance(model);
    const ins = model.inputs().map((t) => new Int8Array(t.size));
    const outs = model.outputs().map((t) => new Int8Array(t.size));
    const [i0, i1] = model.inputs();
    assert.throws(
      () => inst.run([ins[0]], outs),
      (e: unknown) => e instanceof axr.InvalidArgument && /has 2 input\(s\).*got 1/.test(e.message),
    );
    assert.throws(
      () => inst.run(ins, outs.slice(1)),
      (e: unknown) => e instanceof axr.InvalidArgument && /output\(s\)/.test(e.message),
    );
    const short = new Int8Array(i1.size - 1);
    assert.throws(
      () => inst.run([ins[0], short], outs),
      (e: unknown) =>
        e instanceof axr.InvalidArgument && e.message.includes(`input 1 '${i1.name}' needs ${i1.size} bytes`) &&
        e.message.includes(`got ${i1.size - 1} bytes`),
    );
    // a Float32Array of the right element count is 4x too many bytes
    assert.throws(
      () => inst.run([new Float32Array(i0.size), ins[1]], outs),
      (e: unknown) => e instanceof axr.InvalidArgument && /needs \d+ bytes/.test(e.message),
    );
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => inst.run(["nope" as any, ins[1]], outs),
      (e: unknown) => e instanceof axr.InvalidArgument && /must be a typed array, got string/.test(e.message),
    );
    assert.throws(
      () => inst.run([3, ins[1]], outs),
      (e: unknown) => e instanceof axr.InvalidArgument && /inputDmabuf/.test(e.message),
    );
    inst.run(ins, outs); // still usable
  });

  test("dmabuf: inputs and outputs as file descriptors", () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(fixture("tiny"));
    using conn = ctx.deviceConnect(0, 1);
    const inst = conn.loadModelInstance(model, { inputDmabuf: true, outputDmabuf: true });
    const [iInfo] = model.inputs();
    const [oInfo] = model.outputs();
    const input = randomBytes(iInfo.size, prng(5));
    const files = [join(tmpdir(), `axr-api-in-${process.pid}`), join(tmpdir(), `axr-api-out-${process.pid}`)];
    const fdIn = openSync(files[0], "w+");
    const fdOut = openSync(files[1], "w+");
    try {
      writeSync(fdIn, input, 0, input.length, 0);
      writeSync(fdOut, new Uint8Array(oInfo.size), 0, oInfo.size, 0);
      inst.run([fdIn], [fdOut]);
      const got = new Int8Array(oInfo.size);
      readSync(fdOut, got, 0, got.length, 0);
      assert.deepEqual(got, runReference(fixture("tiny"), [input])[0]);
      assert.throws(
        () => inst.run([input], [fdOut]),
        (e: unknown) => e instanceof axr.InvalidArgument && /file descriptor/.test(e.message),
      );
    } finally {
      closeSync(fdIn);
      closeSync(fdOut);
      files.forEach((f) => unlinkSync(f));
    }
  });

  test("stats(): modelled device time, per-op cycles with deviceProfiling", () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(fixture("tiny"));
    using conn = ctx.deviceConnect(0, 1);
    const inst = conn.loadModelInstance(model, { deviceProfiling: true });
    const ins = model.inputs().map((t) => new Int8Array(t.size));
    const outs = model.outputs().map((t) => new Int8Array(t.size));
    inst.run(ins, outs);
    inst.run(ins, outs);
    const s = inst.stats();
    assert.ok(s, "libaxr has axr_ext_instance_stats");
    assert.equal(s.runs, 2);
    assert.ok(s.lastDeviceCycles > 0 && s.lastDeviceUs > 0);
    assert.deepEqual(s.clockMhz.slice(0, 1), [800]);
    assert.ok(s.ops.length >= 4, "one span per op");
    assert.ok(s.ops.every((o) => typeof o.startCycle === "number" && o.cycles > 0));
  });
});

describe("runAsync() handed off to another thread", () => {
  // every call hands off (short runs would run inline: tests/run_gate.test.ts)
  const inlineMaxMs = runGateSettings.inlineMaxMs;
  before(() => {
    env = useEmulatorEnv({ settleMs: 0 });
    runGateSettings.inlineMaxMs = 0;
  });
  after(() => {
    runGateSettings.inlineMaxMs = inlineMaxMs;
    env.restore();
  });

  test("four instances at once (one per sub-device), bit-equal to run()", async () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(fixture("ops"));
    using conn = ctx.deviceConnect(0, 4);
    const insts = Array.from({ length: 4 }, () => conn.loadModelInstance(model, { aipuCores: 1, numSubDevices: 1 }));
    const rand = prng(77);
    const jobs = Array.from({ length: 12 }, (_, j) => ({
      inst: insts[j % 4],
      ins: model.inputs().map((t) => randomBytes(t.size, rand)),
      outs: model.outputs().map((t) => new Int8Array(t.size)),
      sync: model.outputs().map((t) => new Int8Array(t.size)),
    }));
    for (const j of jobs) j.inst.run(j.ins, j.sync);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const pending = jobs.map((j) => j.inst.runAsync(j.ins, j.outs));
    assert.ok(insts.some((i) => i.pendingRuns > 0));
    await Promise.all(pending);
    clearInterval(timer);
    for (const [k, j] of jobs.entries()) {
      j.outs.forEach((o, n) => assert.deepEqual(o, j.sync[n], `job ${k} output ${n}`));
    }
    for (const i of insts) assert.equal(i.pendingRuns, 0);
    assert.equal(insts[0].stats()?.runs, 6);
  });

  test("calls on one instance run in order; a bad size rejects with InvalidArgument", async () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(fixture("tiny"));
    using conn = ctx.deviceConnect(0, 1);
    const inst = conn.loadModelInstance(model);
    const [iInfo] = model.inputs();
    const [oInfo] = model.outputs();
    const rand = prng(3);
    const ins = Array.from({ length: 6 }, () => randomBytes(iInfo.size, rand));
    const outs = ins.map(() => new Int8Array(oInfo.size));
    const order: number[] = [];
    await Promise.all(ins.map((b, k) => inst.runAsync([b], [outs[k]]).then(() => order.push(k))));
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5]);
    outs.forEach((o, k) => assert.deepEqual(o, runReference(fixture("tiny"), [ins[k]])[0]));
    // a second wave reuses the first wave's argument arrays with other buffers
    const outs2 = ins.map(() => new Int8Array(oInfo.size));
    await Promise.all(ins.map((_, k) => inst.runAsync([ins[5 - k]], [outs2[k]])));
    outs2.forEach((o, k) => assert.deepEqual(o, outs[5 - k]));
    await assert.rejects(inst.runAsync([new Int8Array(1)], [outs[0]]), axr.InvalidArgument);
    // run() while a runAsync is in flight is refused, not raced
    const p = inst.runAsync([ins[0]], [outs[0]]);
    assert.throws(
      () => inst.run([ins[0]], [outs[1]]),
      (e: unknown) => e instanceof axr.InvalidArgument && /in flight/.test(e.message),
    );
    await p;
    inst.run([ins[0]], [outs[1]]);
  });
});

describe("TensorInfo (Python's examples)", () => {
  test("constructor, size, unpaddedShape", () => {
    const input = new axr.TensorInfo([1, 230, 240, 3], { padding: [[0, 0], [3, 3], [3, 13], [0, 1]] });
    assert.deepEqual(input.shape, [1, 230, 240, 3]);
    assert.equal(input.dtype, "int8");
    assert.equal(input.name, "");
    assert.equal(input.scale, 1);
    assert.equal(input.zeroPoint, 0);
    assert.equal(input.size, 230 * 240 * 3);
    assert.deepEqual(input.unpaddedShape, [1, 224, 224, 2]);
    const output = new axr.TensorInfo([1, 1, 1, 1024], {
      padding: [[0, 0], [0, 0], [0, 0], [0, 24]],
      dtype: "uint8",
      name: "logits",
    });
    assert.deepEqual(output.unpaddedShape, [1, 1, 1, 1000]);
    assert.equal(new axr.TensorInfo([2, 3], { dtype: "float32" }).size, 24);
    assert.throws(() => new axr.TensorInfo([1, 4], { padding: [[0, 0], [3, 2]] }), axr.InvalidArgument);
    assert.throws(() => new axr.TensorInfo([1, 4], { padding: [[0, 0], [0, 0], [0, 0]] }), axr.InvalidArgument);
  });

  test("quantizePad and quantize + pad equal numpy's round/clip/pad", () => {
    const info = new axr.TensorInfo([1, 230, 240, 3], {
      padding: [[0, 0], [3, 3], [3, 13], [0, 1]],
      scale: 0.0173,
      zeroPoint: -5,
    });
    const rand = prng(11);
    const src = new Float32Array(info.unpaddedLength).map(() => (rand() - 0.5) * 6);
    const want = numpyQuantizePad(src, info);
    assert.deepEqual(Array.from(info.quantizePad(src)), want);
    assert.deepEqual(Array.from(info.pad(info.quantize(src))), want);
    const buf = info.allocate();
    try {
      info.quantizePad(src, buf);
      assert.deepEqual(Array.from(buf.i8()), want);
    } finally {
      buf.free();
    }
  });

  test("depadDequantize and depad + dequantize equal numpy's slicing and (q - zp) * scale", () => {
    const info = new axr.TensorInfo([1, 1, 1, 1024], {
      padding: [[0, 0], [0, 0], [0, 0], [0, 24]],
      scale: 0.0625,
      zeroPoint: 7,
    });
    const q = randomBytes(info.size, prng(12));
    const want = numpyDepadDequantize(q, info);
    assert.deepEqual(Array.from(info.depadDequantize(q)), want);
    assert.deepEqual(Array.from(info.dequantize(info.depad(q))), want);
    assert.equal(info.depad(q).length, 1000);
    // padding on every axis, rank 3
    const t3 = new axr.TensorInfo([4, 5, 6], { padding: [[1, 0], [2, 1], [0, 3]], scale: 0.5, zeroPoint: -2 });
    const q3 = randomBytes(t3.size, prng(13));
    assert.deepEqual(Array.from(t3.depadDequantize(q3)), numpyDepadDequantize(q3, t3));
    const f3 = new Float32Array(t3.unpaddedLength).map((_, i) => (i % 17) - 8.3);
    assert.deepEqual(Array.from(t3.quantizePad(f3)), numpyQuantizePad(f3, t3));
  });

  test("uint8 tensors clamp to 0..255", () => {
    const info = new axr.TensorInfo([1, 2, 2, 2], { dtype: "uint8", scale: 0.1, zeroPoint: 128 });
    const q = info.quantize(new Float32Array([-100, -1, 0, 1, 12.7, 12.8, 100, 0.05]), new Uint8Array(8));
    assert.deepEqual(Array.from(q), [0, 118, 128, 138, 255, 255, 255, 128]);
  });

  test("wrong sizes name the tensor", () => {
    const info = new axr.TensorInfo([1, 4, 4, 4], { name: "img", padding: [[0, 0], [0, 0], [0, 0], [0, 1]] });
    assert.throws(
      () => info.quantizePad(new Float32Array(64)),
      (e: unknown) => e instanceof axr.InvalidArgument && /'img'.*48 elements/.test(e.message),
    );
    assert.throws(
      () => info.depad(new Int8Array(10)),
      (e: unknown) => e instanceof axr.InvalidArgument && /'img'/.test(e.message),
    );
  });
});

describe("the same script under Deno and Bun", () => {
  before(() => (env = useEmulatorEnv({ settleMs: 0 })));
  after(() => env.restore());

  test("examples/quickstart.ts prints the same under `deno run -A` and `bun`", () => {
    const deno = runScript("deno", "examples/quickstart.ts", { env: env.childEnv(), timeoutMs: 120000 });
    const bun = runScript("bun", "examples/quickstart.ts", { env: env.childEnv(), timeoutMs: 120000 });
    assert.equal(deno.status, 0, deno.stderr);
    assert.equal(bun.status, 0, bun.stderr);
    assert.match(deno.stdout, /best class: \d/);
    assert.match(deno.stdout, /runAsync matches run: true/);
    assert.equal(bun.stdout, deno.stdout);
  });
});
