// Bad arguments everywhere in the public API (issue 8): one table, each case a real call
// that must throw the documented exception with a message naming the argument.
// Runs under deno test and bun test.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";

const TINY = fileURLToPath(new URL("./fixtures/tiny/model.json", import.meta.url));

interface World {
  ctx: axr.Context;
  other: axr.Context;
  model: axr.Model;
  conn: axr.Connection;
  inst: axr.ModelInstance;
  inSize: number;
  outSize: number;
}

type ErrorClass = new (...args: never[]) => Error;
const CASES: [string, (w: World) => unknown, ErrorClass, RegExp][] = [
  ["run: too few inputs", (w) => w.inst.run([], [new Int8Array(w.outSize)]), axr.InvalidArgument, /input/],
  [
    "run: too many outputs",
    (w) => w.inst.run([new Int8Array(w.inSize)], [new Int8Array(w.outSize), new Int8Array(w.outSize)]),
    axr.InvalidArgument,
    /output/,
  ],
  [
    "run: input one byte short",
    (w) => w.inst.run([new Int8Array(w.inSize - 1)], [new Int8Array(w.outSize)]),
    axr.InvalidArgument,
    /input 0 'input'.*bytes/,
  ],
  [
    "run: output too large",
    (w) => w.inst.run([new Int8Array(w.inSize)], [new Int8Array(w.outSize + 16)]),
    axr.InvalidArgument,
    /output 0/,
  ],
  [
    "run: a string instead of a buffer",
    (w) => w.inst.run(["x" as unknown as Int8Array], [new Int8Array(w.outSize)]),
    axr.InvalidArgument,
    /input 0/,
  ],
  [
    "run: inputs not an array",
    (w) => w.inst.run(new Int8Array(w.inSize) as unknown as Int8Array[], [new Int8Array(w.outSize)]),
    axr.InvalidArgument,
    /array/,
  ],
  [
    "run: an fd without inputDmabuf",
    (w) => w.inst.run([3 as unknown as Int8Array], [new Int8Array(w.outSize)]),
    axr.InvalidArgument,
    /inputDmabuf/,
  ],
  [
    "run: a closed fd with inputDmabuf",
    (w) => {
      using conn = w.ctx.deviceConnect(0, 1);
      const inst = conn.loadModelInstance(w.model, { inputDmabuf: true });
      const fd = openSync(TINY, "r");
      closeSync(fd);
      inst.run([fd], [new Int8Array(w.outSize)]);
    },
    axr.InvalidArgument,
    /input 0|fd|descriptor/,
  ],
  [
    "run: a negative fd",
    (w) => {
      using conn = w.ctx.deviceConnect(0, 1);
      conn.loadModelInstance(w.model, { inputDmabuf: true }).run([-5], [new Int8Array(w.outSize)]);
    },
    axr.InvalidArgument,
    /input 0/,
  ],
  [
    "loadModelInstance: unknown option",
    (w) => w.conn.loadModelInstance(w.model, { aipuCorez: 1 } as never),
    axr.InvalidArgument,
    /aipuCorez/,
  ],
  [
    "loadModelInstance: aipuCores 99",
    (w) => w.conn.loadModelInstance(w.model, { aipuCores: 99 }),
    axr.InvalidArgument,
    /aipu_cores|aipuCores/,
  ],
  [
    "loadModelInstance: aipuCores -1",
    (w) => w.conn.loadModelInstance(w.model, { aipuCores: -1 }),
    axr.InvalidArgument,
    /aipu_cores|aipuCores/,
  ],
  [
    "loadModelInstance: aipuCores 1.5",
    (w) => w.conn.loadModelInstance(w.model, { aipuCores: 1.5 }),
    axr.InvalidArgument,
    /aipu_cores|aipuCores/,
  ],
  [
    "loadModelInstance: hostThreads 9",
    (w) => w.conn.loadModelInstance(w.model, { hostThreads: 9 }),
    axr.InvalidArgument,
    /host_threads=9: expected an integer 0\.\.8/,
  ],
  [
    "loadModelInstance: hostThreads -1",
    (w) => w.conn.loadModelInstance(w.model, { hostThreads: -1 }),
    axr.InvalidArgument,
    /host_threads|hostThreads/,
  ],
  [
    "loadModelInstance: a model of another context",
    (w) => w.conn.loadModelInstance(w.other.loadModel(TINY)),
    axr.InvalidArgument,
    /context/i,
  ],
  [
    "configureDevice: unknown option",
    (w) => w.ctx.configureDevice(0, { clockProfil: 400 } as never),
    axr.InvalidArgument,
    /clockProfil/,
  ],
  [
    "configureDevice: clock 5000 MHz",
    (w) => w.ctx.configureDevice(0, { clockProfile: 5000 }),
    axr.InvalidConfiguration,
    /clock_profile/,
  ],
  [
    "configureDevice: clock -100",
    (w) => w.ctx.configureDevice(0, { clockProfile: -100 }),
    axr.InvalidConfiguration,
    /clock_profile/,
  ],
  [
    "configureDevice: MVM utilisation 0",
    (w) => w.ctx.configureDevice(0, { mvmUtilisationCore0: 0 }),
    axr.InvalidConfiguration,
    /mvm_utilisation_core_0/,
  ],
  [
    "configureDevice: MVM utilisation 101",
    (w) => w.ctx.configureDevice(0, { mvmUtilisationCore2: 101 }),
    axr.InvalidConfiguration,
    /mvm_utilisation_core_2/,
  ],
  [
    "configureDevice: ddr size beyond the board",
    (w) => w.ctx.configureDevice(0, { ddrSize: 2 ** 40 }),
    axr.InvalidConfiguration,
    /ddr_size/,
  ],
  [
    "deviceConnect: 5 sub-devices of a 4-core device",
    (w) => w.ctx.deviceConnect(0, 5),
    axr.InvalidArgument,
    /5|sub-device/,
  ],
  [
    "deviceConnect: numSubDevices -1",
    (w) => w.ctx.deviceConnect(0, -1),
    axr.InvalidArgument,
    /numSubDevices|sub-device/,
  ],
  ["deviceConnect: device index 7", (w) => w.ctx.deviceConnect(7), axr.ConnectionError, /7/],
  ["deviceConnect: unknown device name", (w) => w.ctx.deviceConnect("metis-9:9:0"), axr.ConnectionError, /metis-9:9:0/],
  [
    "deviceReady: a device of nowhere",
    (w) => w.ctx.deviceReady({ name: "nope" } as unknown as axr.DeviceInfo),
    axr.AxeleraError,
    /nope|device/,
  ],
  ["loadModel: a missing file", (w) => w.ctx.loadModel("/nonexistent/model.json"), axr.InvalidArgument, /nonexistent/],
  [
    "loadModel: a directory",
    (w) => w.ctx.loadModel(fileURLToPath(new URL("./fixtures/", import.meta.url))),
    axr.InvalidArgument,
    /fixtures/,
  ],
  ["loadModel: not a string", (w) => w.ctx.loadModel(42 as unknown as string), axr.InvalidArgument, /path/],
  [
    "TensorInfo.quantize: dst of another length",
    () => new axr.TensorInfo([1, 2, 2, 3]).quantize(new Float32Array(12), new Int8Array(5)),
    axr.InvalidArgument,
    /dst.*12 elements/,
  ],
  [
    "TensorInfo.quantizePad: src of the padded size",
    () =>
      new axr.TensorInfo([1, 2, 2, 4], { padding: [[0, 0], [0, 0], [0, 0], [0, 1]] }).quantizePad(new Float32Array(16)),
    axr.InvalidArgument,
    /src|12/,
  ],
  [
    "TensorInfo: negative dimension",
    () => new axr.TensorInfo([1, -2, 2, 3]),
    axr.InvalidArgument,
    /shape \[1,-2,2,3\]/,
  ],
  ["infer: wrong element count", (w) => w.inst.infer(new Float32Array(7)), axr.InvalidArgument, /input 'input'/],
];

describe("bad arguments", () => {
  let env: EmulatorEnv;
  let w: World;
  before(() => {
    env = useEmulatorEnv({ devices: "pcie", settleMs: 0 });
    const ctx = new axr.Context();
    const model = ctx.loadModel(TINY);
    const conn = ctx.deviceConnect(0, 2);
    w = {
      ctx,
      other: new axr.Context(),
      model,
      conn,
      inst: conn.loadModelInstance(model),
      inSize: model.inputs()[0].size,
      outSize: model.outputs()[0].size,
    };
  });
  after(() => {
    w.ctx.release();
    w.other.release();
    env.restore();
  });

  for (const [name, call, cls, pattern] of CASES) {
    test(name, () => {
      assert.throws(() => call(w), (e: unknown) => {
        assert.ok(
          e instanceof cls,
          `${name}: expected ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`,
        );
        assert.match((e as Error).message, pattern);
        return true;
      });
    });
  }

  test("every class refuses calls after release, naming the class and method", () => {
    const ctx = new axr.Context();
    const model = ctx.loadModel(TINY);
    const conn = ctx.deviceConnect(0, 1);
    const inst = conn.loadModelInstance(model);
    inst.release();
    assert.throws(() => inst.run([], []), /ModelInstance.*run|released/);
    conn.release();
    assert.throws(() => conn.loadModelInstance(model), /Connection.*loadModelInstance|released/);
    ctx.release();
    assert.throws(() => model.inputs(), /Model.*inputs|released/);
    assert.throws(() => ctx.listDevices(), /Context.*listDevices|released/);
    ctx.release(); // idempotent
  });
});
