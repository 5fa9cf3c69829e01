// The public API (mod.ts) against the emulated device: devices and their
// configuration, every error type the emulator can produce, object lifetimes.
// Runs unchanged under `deno test -A` and `bun test`.
// Model runs, runAsync, TensorInfo and the quickstart are in api_run.test.ts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";
import { currentRuntime, runScript, startUntilLine } from "./helpers/runtime_child.ts";
import { runGateSettings } from "../runtime/run_gate.ts";

const tiny = fileURLToPath(new URL("./fixtures/tiny/model.json", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let env: EmulatorEnv;

describe("devices (AXR_EMU_DEVICES=pcie,m2)", () => {
  before(() => (env = useEmulatorEnv({ devices: "pcie,m2", settleMs: 150 })));
  after(() => env.restore());

  test("listDevices: every DeviceInfo field", () => {
    using ctx = new axr.Context();
    const devs = ctx.listDevices();
    assert.equal(devs.length, 2);
    const [d0, d1] = devs;
    assert.ok(d0 instanceof axr.DeviceInfo);
    assert.equal(d0.name, "metis-0:1:0");
    assert.equal(d1.name, "metis-1:2:0");
    assert.equal(d0.boardType, axr.BoardType.pcie);
    assert.equal(d1.boardType, axr.BoardType.m2);
    assert.equal(axr.boardTypeName(d1.boardType), "m2");
    assert.equal(d0.subdeviceCount, 4);
    assert.equal(d0.maxMemory, 0x80000000);
    assert.equal(d1.maxMemory, 0x40000000);
    assert.equal(d0.inUse, 0);
    assert.equal(d0.inUseBy, "");
    assert.match(d0.firmwareVersion, /^v\d+\.\d+\.\d+/);
    assert.equal(typeof d0.boardRevision, "number");
    assert.match(d0.flashedFirmwareVersion, /^v\d/);
    assert.match(d0.boardControllerFirmwareVersion, /^v\d/);
    assert.ok(d0.boardControllerBoardType.length > 0);
    assert.ok(Object.isFrozen(d0));
    // snake_case view for Python users
    const j = d1.toJSON();
    assert.equal(j.subdevice_count, 4);
    assert.equal(j.board_type, 3);
    assert.equal(j.name, "metis-1:2:0");
  });

  test("BoardType has Python's values", () => {
    assert.deepEqual({ ...axr.BoardType }, {
      alphaPcie: 0,
      alphaM2: 1,
      pcie: 2,
      m2: 3,
      devboard: 4,
      sbc: 5,
      unknown: 6,
    });
  });

  test("configureDevice on two devices, polling deviceReady as in the Python example", async () => {
    using ctx = new axr.Context();
    const [dev0, dev1] = ctx.listDevices();
    const t0 = performance.now();
    let res0 = ctx.configureDevice(dev0, { clockProfile: 400 });
    let res1 = ctx.configureDevice(dev1, { clockProfile: 600, mvmUtilisationCore1: 50 });
    // 150 ms settle time: both are pending at first.
    assert.equal(res0, false);
    assert.equal(res1, false);
    let polls = 0;
    while (!res0 || !res1) {
      await sleep(20);
      res0 = ctx.deviceReady(dev0);
      res1 = ctx.deviceReady(dev1);
      polls++;
      assert.ok(polls < 200, "devices never became ready");
    }
    // the settle time was observed: not ready before it (a slow machine only waits longer;
    // counting polls failed under load, where one 20 ms sleep can outlast the settle time)
    const waited = performance.now() - t0;
    assert.ok(waited >= 140, `ready after ${waited.toFixed(0)} ms (${polls} polls): the settle time was not observed`);
    const c0 = ctx.readDeviceConfiguration(dev0);
    const c1 = ctx.readDeviceConfiguration("metis-1:2:0");
    assert.equal(c0.clock_profile, "400");
    assert.equal(c0.clock_profile_core_3, "400");
    assert.equal(c1.clock_profile, "600");
    assert.equal(c1.mvm_utilisation_core_1, "50");
    assert.equal(c1.mvm_utilisation_core_0, "100");
    // by index too, and a per-core clock
    assert.equal(ctx.configureDevice(0, { clockProfileCore2: 200 }), false);
    while (!ctx.deviceReady(0)) await sleep(20);
    const again = ctx.readDeviceConfiguration(0);
    assert.equal(again.clock_profile_core_2, "200");
    assert.equal(again.clock_profile_core_1, "400");
  });

  test("configureDevice: unknown option -> InvalidArgument naming it, before any native call", () => {
    using ctx = new axr.Context();
    const before = ctx.readDeviceConfiguration(1);
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => ctx.configureDevice(1, { clockProfile: 100, clokProfile: 200 } as any),
      (e: unknown) =>
        e instanceof axr.InvalidArgument && /unknown option 'clokProfile'/.test(e.message) && e.code === 3,
    );
    assert.deepEqual(ctx.readDeviceConfiguration(1), before, "the valid key must not have been applied");
  });

  test("InvalidConfiguration: a clock out of range (the library's own message)", () => {
    using ctx = new axr.Context();
    assert.throws(
      () => ctx.configureDevice(0, { clockProfile: 5000 }),
      (e: unknown) =>
        e instanceof axr.InvalidConfiguration && e instanceof axr.AxeleraError && e.code === 7 &&
        /5000/.test(e.nativeMessage) && e.message.startsWith("Context.configureDevice(): "),
    );
    assert.throws(() => ctx.configureDevice(0, { mvmUtilisationCore0: 0 }), axr.InvalidConfiguration);
  });

  test("deviceConnect accepts a DeviceInfo, an index, a name, or nothing", () => {
    using ctx = new axr.Context();
    const [d0, d1] = ctx.listDevices();
    const a = ctx.deviceConnect(d1, 1);
    assert.equal(a.device?.name, "metis-1:2:0");
    const b = ctx.deviceConnect(1, 1);
    const c = ctx.deviceConnect("metis-1:2:0", 2);
    assert.equal(c.numSubDevices, 2);
    // all 4 sub-devices of device 1 are now taken
    assert.throws(() => ctx.deviceConnect(d1, 1), axr.DeviceInUse);
    const first = ctx.deviceConnect();
    assert.equal(first.device, null);
    assert.equal(first.context, ctx);
    for (const x of [a, b, c, first]) assert.ok(x instanceof axr.Connection);
    void d0;
  });

  test("ConnectionError: a device that does not exist (by name and by index)", () => {
    using ctx = new axr.Context();
    assert.throws(
      () => ctx.deviceConnect("metis-9:9:0"),
      (e: unknown) => e instanceof axr.ConnectionError && /metis-9:9:0/.test(e.message) && e.code === 4,
    );
    assert.throws(
      () => ctx.deviceConnect(7),
      (e: unknown) => e instanceof axr.ConnectionError && /index 7/.test(e.message),
    );
  });

  test("ConnectionError from the library: the device state cannot be reached (child process)", () => {
    const r = runScript(currentRuntime, "tests/helpers/hold_device.ts", {
      env: env.childEnv({ AXR_EMU_STATE_DIR: "/dev/null/axr-state" }),
    });
    assert.match(r.stdout, /^error ConnectionError .*\/dev\/null\/axr-state/m, r.stderr);
    assert.equal(r.status, 1);
  });

  test("DeviceInUse: another process holds the sub-devices; free again when it exits", async () => {
    const child = await startUntilLine("tests/helpers/hold_device.ts", env.childEnv(), ["4"]);
    try {
      assert.match(child.line, /^ready \d+$/, child.line);
      const pid = child.line.split(" ")[1];
      using ctx = new axr.Context();
      assert.throws(
        () => ctx.deviceConnect(0, 1),
        (e: unknown) => e instanceof axr.DeviceInUse && e.code === 5 && e.nativeMessage.includes(pid),
      );
      // the other device is free
      ctx.deviceConnect(1, 4).release();
    } finally {
      assert.equal(await child.stop(), 0);
    }
    using ctx = new axr.Context();
    const conn = ctx.deviceConnect(0, 4);
    conn.release();
  });
});

describe("models and errors", () => {
  before(() => (env = useEmulatorEnv({ settleMs: 0 })));
  after(() => env.restore());

  test("InvalidArgument from the library: a missing and a corrupt model", () => {
    using ctx = new axr.Context();
    assert.throws(
      () => ctx.loadModel("/nonexistent/dir/model.json"),
      (e: unknown) => e instanceof axr.InvalidArgument && e.code === 3 && /nonexistent/.test(e.nativeMessage),
    );
    const dir = mkdtempSync(join(tmpdir(), "axr-bad-model-"));
    try {
      writeFileSync(
        join(dir, "model.json"),
        '{"format": "axr-model", "version": 1, "manifest": "manifest.json", "program": "program.axp"}',
      );
      writeFileSync(join(dir, "manifest.json"), "{ not json");
      assert.throws(
        () => ctx.loadModel(join(dir, "model.json")),
        (e: unknown) => e instanceof axr.InvalidArgument && /manifest/.test(e.message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("Pending is the code behind configureDevice() === false (not raised)", () => {
    // Python raises nothing either: configure_device returns False while pending.
    const e = new axr.Pending("x", 10);
    assert.ok(e instanceof axr.AxeleraError && e.code === 10 && e.name === "Pending");
  });

  test("every error class: name, code, inheritance", () => {
    const classes = [
      [axr.RuntimeError, 1],
      [axr.ValueError, 2],
      [axr.InvalidArgument, 3],
      [axr.ConnectionError, 4],
      [axr.DeviceInUse, 5],
      [axr.IncompatibleDevice, 6],
      [axr.InvalidConfiguration, 7],
      [axr.NotImplemented, 8],
      [axr.InternalError, 9],
      [axr.Pending, 10],
      [axr.UnknownError, 11],
    ] as const;
    for (const [Cls, code] of classes) {
      const e = new Cls("m", code);
      assert.ok(e instanceof axr.AxeleraError && e instanceof Error);
      assert.equal(e.name, Cls.name);
    }
    assert.ok(new axr.ReleasedError("x") instanceof axr.InvalidArgument);
  });

  test("Model: inputs, outputs, properties, path", () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(tiny);
    assert.equal(model.path, tiny);
    assert.equal(model.directory, tiny.slice(0, tiny.lastIndexOf("/")));
    assert.equal(model.context, ctx);
    const [i] = model.inputs();
    const [o] = model.outputs();
    assert.equal(model.inputs().length, 1);
    assert.ok(i instanceof axr.TensorInfo);
    assert.equal(i.name, "input");
    assert.deepEqual(i.shape, [1, 8, 8, 4]);
    assert.deepEqual(i.unpaddedShape, [1, 8, 8, 3]);
    assert.deepEqual(i.padding, [[0, 0], [0, 0], [0, 0], [0, 1]]);
    assert.equal(i.dtype, "int8");
    assert.equal(i.size, 256);
    assert.equal(i.zeroPoint, 3);
    assert.equal(Math.fround(i.scale), Math.fround(0.02));
    assert.equal(o.name, "fc");
    assert.deepEqual(o.shape, [1, 1, 1, 16]);
    assert.deepEqual(o.unpaddedShape, [1, 1, 1, 10]);
    assert.equal(o.zeroPoint, 4);
    const p = model.properties;
    assert.equal(p.inputTensorLayout, "NHWC");
    assert.equal(p.input_tensor_layout, "NHWC");
    assert.equal(p.preambleGraph, undefined); // the tiny model has none
    assert.equal(p.postambleGraph, undefined);
  });

  test("setLogger: the library's messages at the level and above, until removed", () => {
    using ctx = new axr.Context();
    const got: [number, string][] = [];
    ctx.setLogger(axr.LogLevel.info, (level, msg) => got.push([level, msg]));
    const conn = ctx.deviceConnect(0, 1);
    assert.ok(got.some(([l, m]) => l === axr.LogLevel.info && /connected to metis-0:1:0/.test(m)), JSON.stringify(got));
    assert.throws(() => ctx.loadModel("/nonexistent/model.json"));
    assert.ok(got.some(([l, m]) => l === axr.LogLevel.error && /nonexistent/.test(m)), JSON.stringify(got));
    assert.ok(got.every(([l]) => l >= axr.LogLevel.info), "nothing below the level");
    ctx.setLogger("info", null);
    const n = got.length;
    conn.release();
    ctx.deviceConnect(0, 1);
    assert.equal(got.length, n);
    assert.throws(() => ctx.setLogger("loud" as never, null), axr.InvalidArgument);
  });

  test("objects of another context -> InvalidArgument", () => {
    using a = new axr.Context();
    using b = new axr.Context();
    const model = a.loadModel(tiny);
    const conn = b.deviceConnect(0, 1);
    assert.throws(
      () => conn.loadModelInstance(model),
      (e: unknown) => e instanceof axr.InvalidArgument && /another Context/.test(e.message),
    );
  });

  test("loadModelInstance: unknown option -> InvalidArgument naming it", () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(tiny);
    const conn = ctx.deviceConnect(0, 1);
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => conn.loadModelInstance(model, { aipuCore: 1 } as any),
      (e: unknown) => e instanceof axr.InvalidArgument && /'aipuCore'/.test(e.message),
    );
  });
});

describe("lifetimes: release, Symbol.dispose, using", () => {
  before(() => (env = useEmulatorEnv({ settleMs: 0 })));
  after(() => env.restore());

  function world() {
    const ctx = new axr.Context();
    const model = ctx.loadModel(tiny);
    const conn = ctx.deviceConnect(0, 1);
    const inst = conn.loadModelInstance(model, { aipuCores: 1 });
    const ins = model.inputs().map((t) => new Int8Array(t.size));
    const outs = model.outputs().map((t) => new Int8Array(t.size));
    return { ctx, model, conn, inst, ins, outs };
  }

  const released = (cls: string, method: string) => (e: unknown) =>
    e instanceof axr.ReleasedError && e instanceof axr.InvalidArgument &&
    e.message.startsWith(`${cls}.${method}(): this ${cls} was released`);

  test("use after release, for every class, names the class and the method", async () => {
    const w = world();
    w.inst.release();
    assert.equal(w.inst.released, true);
    assert.throws(() => w.inst.run(w.ins, w.outs), released("ModelInstance", "run"));
    await assert.rejects(w.inst.runAsync(w.ins, w.outs), released("ModelInstance", "runAsync"));
    assert.throws(() => w.inst.stats(), released("ModelInstance", "stats"));
    w.inst.release(); // idempotent

    w.conn.release();
    assert.throws(() => w.conn.loadModelInstance(w.model), released("Connection", "loadModelInstance"));

    w.model.release();
    assert.throws(() => w.model.inputs(), released("Model", "inputs"));
    assert.throws(() => w.model.outputs(), released("Model", "outputs"));
    assert.throws(() => w.model.properties, released("Model", "properties"));

    w.ctx.release();
    w.ctx.release();
    assert.throws(() => w.ctx.listDevices(), released("Context", "listDevices"));
    assert.throws(() => w.ctx.loadModel(tiny), released("Context", "loadModel"));
    assert.throws(() => w.ctx.deviceConnect(), released("Context", "deviceConnect"));
    assert.throws(() => w.ctx.configureDevice(0, {}), released("Context", "configureDevice"));
    assert.throws(() => w.ctx.deviceReady(0), released("Context", "deviceReady"));
    assert.throws(() => w.ctx.readDeviceConfiguration(0), released("Context", "readDeviceConfiguration"));
  });

  test("releasing a context releases all its children (and frees the sub-devices)", () => {
    const w = world();
    const conn4 = w.ctx.deviceConnect(0, 3); // the other 3 sub-devices of device 0
    w.ctx.release();
    for (const o of [w.model, w.conn, w.inst, conn4]) assert.equal(o.released, true);
    assert.throws(
      () => w.inst.run(w.ins, w.outs),
      (e: unknown) => e instanceof axr.ReleasedError && /its Context was released/.test(e.message),
    );
    using ctx = new axr.Context();
    ctx.deviceConnect(0, 4).release(); // all 4 are free again
  });

  test("releasing a connection releases its instances; a model its instances", () => {
    const w = world();
    w.conn.release();
    assert.equal(w.inst.released, true);
    assert.equal(w.model.released, false);
    const conn = w.ctx.deviceConnect(0, 1);
    const inst = conn.loadModelInstance(w.model);
    w.model.release();
    assert.equal(inst.released, true);
    assert.equal(conn.released, false);
    w.ctx.release();
  });

  test("Symbol.dispose and `using` release at the end of the scope", () => {
    let ctxOut: axr.Context;
    let connOut: axr.Connection;
    {
      using ctx = new axr.Context();
      using conn = ctx.deviceConnect(0, 4);
      ctxOut = ctx;
      connOut = conn;
      assert.equal(conn.released, false);
    }
    assert.equal(ctxOut.released, true);
    assert.equal(connOut.released, true);
    const ctx = new axr.Context();
    const conn = ctx.deviceConnect(0, 4); // the reservation was dropped
    conn[Symbol.dispose]();
    assert.equal(conn.released, true);
    ctx[Symbol.dispose]();
    assert.equal(ctx.released, true);
  });

  test("FinalizationRegistry: what the user forgot is freed natively after garbage collection (child process)", () => {
    const r = runScript(currentRuntime, "tests/helpers/gc_child.ts", {
      env: env.childEnv(),
      denoFlags: ["--v8-flags=--expose-gc"],
    });
    assert.equal(r.stdout.trim(), "ok 3", r.stderr);
  });

  test("releasing an instance while runAsync is in flight waits for the native call", async () => {
    const w = world();
    const inlineMaxMs = runGateSettings.inlineMaxMs;
    runGateSettings.inlineMaxMs = 0; // handed off, not run inline (runtime/run_gate.ts)
    const runs = Array.from({ length: 4 }, () => w.inst.runAsync(w.ins, w.outs.map((o) => new Int8Array(o.length))));
    runGateSettings.inlineMaxMs = inlineMaxMs;
    assert.equal(w.inst.pendingRuns, 4);
    await Promise.resolve();
    await Promise.resolve(); // the first call has left for the native side
    w.ctx.release(); // queued calls fail cleanly, the running one finishes first
    const results = await Promise.allSettled(runs);
    for (const r of results) {
      if (r.status === "rejected") assert.ok(r.reason instanceof axr.ReleasedError, String(r.reason));
    }
    assert.equal(w.inst.released, true);
  });
});
