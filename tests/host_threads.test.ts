// Host threads of a run on one sub-device (issue 22 goal 4, docs/emulator.md "Host
// threads"): the default choice (one per sub-device of the instance, at most the host's
// CPUs, only for programs with a convolution of 1M MACs or more), outputs equal to the
// reference executor's at 1, 2 and 3 threads and by default, the modelled device time
// unchanged, and the helper threads joined by release() of the instance, the connection
// or the context. (Every committed fixture at 1, 2, 3 threads: tests/fixtures.test.ts.)
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import * as axr from "../mod.ts";
import { ProgramBuilder, writeModelDirectory } from "../compiler/program.ts";
import { prng, randomInputs } from "./fixtures/make_fixtures.ts";
import { bufferSize, loadProgram, runReference } from "./fixtures/reference.ts";

/** Helper threads of this process (Linux; the library names them "axr-host"). */
const threadCount = () =>
  readdirSync("/proc/self/task").filter((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim() === "axr-host";
    } catch {
      return false; // a thread that ended meanwhile
    }
  }).length;

/**
 * A program big enough for the default split: Conv 3x3 (64x64x16 -> 32, 18.9M MACs),
 * Relu (131 KB), Add of both, MaxPool 2x2.
 */
function bigModel(dir: string): string {
  const r = prng(7);
  const i8 = (n: number) => Int8Array.from({ length: n }, () => Math.floor(r() * 255) - 127);
  const p = new ProgramBuilder();
  const x = p.addInput({ name: "x", shape: [1, 64, 64, 16], scale: 0.05, zero_point: 3 });
  const c = p.addTensor({ name: "conv", shape: [1, 64, 64, 32], scale: 0.4, zero_point: -5 });
  p.addOp({
    op: "Conv",
    name: "conv",
    inputs: [x],
    outputs: [c],
    kernel: [3, 3],
    pads: [1, 1, 1, 1],
    weights: p.addData(i8(32 * 3 * 3 * 16)),
    bias: p.addData(Int32Array.from({ length: 32 }, () => Math.floor(r() * 2000) - 1000)),
    w_scale: p.addData(Float32Array.from({ length: 32 }, () => 0.005 + 0.01 * r())),
  });
  const relu = p.addTensor({ name: "relu", shape: [1, 64, 64, 32], scale: 0.4, zero_point: -5 });
  p.addOp({ op: "Relu", name: "relu", inputs: [c], outputs: [relu] });
  const add = p.addTensor({ name: "add", shape: [1, 64, 64, 32], scale: 0.6, zero_point: 2 });
  p.addOp({ op: "Add", name: "add", inputs: [c, relu], outputs: [add] });
  const mp = p.addTensor({ name: "maxpool", shape: [1, 32, 32, 32], scale: 0.6, zero_point: 2 });
  p.addOp({ op: "MaxPool", name: "maxpool", inputs: [add], outputs: [mp], kernel: [2, 2], strides: [2, 2] });
  p.markOutput(mp);
  p.markOutput(relu);
  return writeModelDirectory(dir, { name: "big", program: p.finish() });
}

describe("host threads", () => {
  const dir = mkdtempSync(join(tmpdir(), "axr-threads-"));
  const bigJson = bigModel(dir);
  const tinyJson = new URL("./fixtures/tiny/model.json", import.meta.url).pathname;

  test("default: one per sub-device of the instance, at most the host's CPUs, for big programs only", () => {
    using ctx = new axr.Context();
    using conn = ctx.deviceConnect(0, 4);
    const big = ctx.loadModel(bigJson), tiny = ctx.loadModel(tinyJson);
    const cpus = availableParallelism();
    for (const cores of [1, 2, 4]) {
      const inst = conn.loadModelInstance(big, { aipuCores: cores });
      const small = conn.loadModelInstance(tiny, { aipuCores: cores });
      for (const [m, i] of [[big, inst], [tiny, small]] as const) {
        i.run(m.inputs().map((t) => new Int8Array(t.size)), m.outputs().map((t) => new Int8Array(t.size)));
      }
      assert.equal(inst.stats()?.hostThreads, Math.min(cores, cpus, 8), `aipuCores ${cores}`);
      assert.equal(small.stats()?.hostThreads, 1, `tiny, aipuCores ${cores}`);
      inst.release();
      small.release();
    }
  });

  test("outputs equal the reference's at 1, 2, 3 threads and by default; device time unchanged", () => {
    const prog = loadProgram(bigJson);
    const rand = prng(11);
    const inputs = [randomInputs(prog, rand), randomInputs(prog, rand)];
    const want = inputs.map((ins) => runReference(bigJson, ins));
    using ctx = new axr.Context();
    using conn = ctx.deviceConnect(0, 2);
    const model = ctx.loadModel(bigJson);
    let cycles: number | undefined;
    for (const opts of [{ hostThreads: 1 }, { hostThreads: 2 }, { hostThreads: 3 }, { aipuCores: 2 }]) {
      const inst = conn.loadModelInstance(model, { aipuCores: 1, ...opts });
      inputs.forEach((ins, k) => {
        const outs = prog.outputs.map((t) => new Int8Array(bufferSize(prog.tensors[t])).fill(0x55));
        inst.run(ins, outs);
        outs.forEach((o, j) => assert.deepEqual(o, want[k][j], `${JSON.stringify(opts)} input ${k} output ${j}`));
      });
      const st = inst.stats()!;
      cycles ??= st.lastDeviceCycles;
      assert.equal(st.lastDeviceCycles, cycles, `${JSON.stringify(opts)}: modelled cycles`);
      inst.release();
    }
  });

  test("helper threads start at load and are joined by release() of the instance, connection, context", () => {
    const base = threadCount();
    const ctx = new axr.Context();
    const conn = ctx.deviceConnect(0, 1);
    const model = ctx.loadModel(bigJson);
    const grown = () => threadCount() - base;
    const a = conn.loadModelInstance(model, { hostThreads: 4 });
    assert.equal(grown(), 3);
    const b = conn.loadModelInstance(model, { hostThreads: 3 });
    assert.equal(grown(), 5);
    a.release();
    assert.equal(grown(), 2, "instance release joins its helpers");
    b.run(model.inputs().map((t) => new Int8Array(t.size)), model.outputs().map((t) => new Int8Array(t.size)));
    conn.release();
    assert.equal(grown(), 0, "connection release joins its instances' helpers");
    const conn2 = ctx.deviceConnect(0, 1);
    conn2.loadModelInstance(model, { hostThreads: 2 });
    assert.equal(grown(), 1);
    ctx.release();
    assert.equal(grown(), 0, "context release joins them");
  });

  test("cleanup", () => rmSync(dir, { recursive: true, force: true }));
});
