// runAsync()'s gate (runtime/run_gate.ts): short runs on an idle instance run on the
// calling thread, settled on return and bit-equal to the reference; long ones, and calls
// while others are in flight, are handed off; the gate's probe and back-off. Runs
// unchanged under `deno test -A` and `bun test`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { prng } from "./fixtures/make_fixtures.ts";
import { runReference } from "./fixtures/reference.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";
import { RunGate, runGateSettings } from "../runtime/run_gate.ts";

const tiny = fileURLToPath(new URL("./fixtures/tiny/model.json", import.meta.url));
let env: EmulatorEnv;

describe("runAsync(): the inline gate", () => {
  const saved = { ...runGateSettings };
  before(() => (env = useEmulatorEnv({ settleMs: 0 })));
  after(() => {
    Object.assign(runGateSettings, saved);
    env.restore();
  });

  function world() {
    const ctx = new axr.Context();
    const model = ctx.loadModel(tiny);
    const conn = ctx.deviceConnect(0, 1);
    const inst = conn.loadModelInstance(model, { aipuCores: 1 });
    const rand = prng(11);
    const ins = model.inputs().map((t) => Int8Array.from({ length: t.size }, () => Math.floor(rand() * 256) - 128));
    const outs = model.outputs().map((t) => new Int8Array(t.size));
    return { ctx, inst, ins, outs };
  }

  test("a short run on an idle instance runs inline: settled on return, bit-equal to the reference", async () => {
    Object.assign(runGateSettings, { inlineMaxMs: 1000, probeMaxMs: 1000 }); // any run is short
    using w = disposable(world());
    const { inst, ins, outs } = w;
    // nothing measured yet: the first call hands off, its round trip leads to a probe
    const first = inst.runAsync(ins, outs);
    assert.equal(inst.pendingRuns, 1);
    await first;
    const ref = runReference(tiny, ins)[0];
    assert.deepEqual(outs[0], ref);
    outs[0].fill(0);
    let settled = false;
    const p = inst.runAsync(ins, outs).then(() => (settled = true));
    assert.equal(inst.pendingRuns, 0);
    assert.deepEqual(outs[0], ref); // written before runAsync returned
    await p;
    assert.ok(settled);
    // errors keep their type and the method's name
    await assert.rejects(inst.runAsync([new Int8Array(1)], outs), axr.InvalidArgument);
    // a call while another is in flight waits its turn on the other thread
    runGateSettings.inlineMaxMs = 0;
    const handed = inst.runAsync(ins, outs);
    runGateSettings.inlineMaxMs = 1000;
    const queued = inst.runAsync(ins, outs);
    assert.equal(inst.pendingRuns, 2);
    await Promise.all([handed, queued]);
    inst.release();
    await assert.rejects(
      inst.runAsync(ins, outs),
      (e: unknown) => e instanceof axr.ReleasedError && /ModelInstance\.runAsync\(\)/.test((e as Error).message),
    );
  });

  test("a run longer than the bound is handed off", async () => {
    Object.assign(runGateSettings, { inlineMaxMs: 0, probeMaxMs: 1000 });
    using w = disposable(world());
    w.inst.run(w.ins, w.outs); // measured, and longer than 0 ms
    const p = w.inst.runAsync(w.ins, w.outs);
    assert.equal(w.inst.pendingRuns, 1);
    await p;
  });

  test("the gate: probe after a short hand-off, back-off after a long probe", () => {
    Object.assign(runGateSettings, { inlineMaxMs: 0.05, probeMaxMs: 0.5 });
    const g = new RunGate();
    assert.equal(g.inline(), false); // nothing measured
    g.handedOff(2); // a long round trip: no probe
    assert.equal(g.inline(), false);
    g.handedOff(0.03);
    assert.equal(g.inline(), true); // probe
    g.ran(0.01);
    assert.equal(g.inline(), true); // short: stays inline
    // a long run waits 1, then 2, then 4 short hand-offs before the next probe
    for (const wait of [1, 2, 4]) {
      g.ran(0.2);
      for (let i = 0; i < wait; i++) {
        assert.equal(g.inline(), false, `wait ${wait}, hand-off ${i}`);
        g.handedOff(0.1);
      }
      assert.equal(g.inline(), true, `probe after ${wait}`);
    }
    g.ran(0.02); // short again: the back-off restarts at 1
    g.ran(0.2);
    g.handedOff(0.1);
    assert.equal(g.inline(), true);
  });
});

/** `using` for the test's world: releases the context (and with it the rest). */
function disposable<T extends { ctx: axr.Context }>(w: T): T & Disposable {
  return Object.assign(w, { [Symbol.dispose]: () => w.ctx.release() });
}
