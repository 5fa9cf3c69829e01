// The host CPU level (issue 20, docs/emulator.md "CPU levels") as the TypeScript API and
// the CLI show it: Context.hostCpu(), inst.stats().cpu, `axr devices`, AXR_CPU forcing a
// lower level and refusing one above the CPU.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import * as axr from "../mod.ts";
import { removeDir, runAxr, tempDir, tinyModel } from "./cli_helpers.ts";

describe("CPU level", () => {
  test("Context.hostCpu() and inst.stats().cpu name the same level", () => {
    using ctx = new axr.Context();
    const h = ctx.hostCpu();
    assert.ok(h, "libaxr has axr_ext_host_cpu");
    assert.ok(h.levels.includes("baseline"));
    assert.ok(h.levels.includes(h.native));
    if (h.error === null) {
      const model = ctx.loadModel(tinyModel);
      using conn = ctx.deviceConnect();
      const inst = conn.loadModelInstance(model, { aipuCores: 1 });
      inst.run(model.inputs().map((t) => new Int8Array(t.size)), model.outputs().map((t) => new Int8Array(t.size)));
      assert.equal(inst.stats()?.cpu, h.level);
    }
  });

  test("axr devices shows the level; AXR_CPU=baseline forces it; a level above the CPU is refused", {
    timeout: 300_000,
  }, () => {
    const dir = tempDir();
    try {
      const plain = runAxr(["devices"], { stateDir: dir, env: { AXR_CPU: undefined } });
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /host cpu: +[a-z0-9]+ kernels \(this CPU: baseline/);
      const base = runAxr(["devices", "--json"], { stateDir: dir, env: { AXR_CPU: "baseline" } });
      assert.equal(base.code, 0, base.stderr);
      assert.equal(JSON.parse(base.stdout)[0].hostCpu.level, "baseline");
      const run = runAxr(["run-model", tinyModel], { stateDir: dir, env: { AXR_CPU: "baseline" } });
      assert.equal(run.code, 0, run.stderr);
      const bad = runAxr(["run-model", tinyModel], { stateDir: dir, env: { AXR_CPU: "sse9" } });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stdout + bad.stderr, /AXR_CPU=sse9: unknown level/);
      using ctx = new axr.Context();
      const h = ctx.hostCpu()!;
      const above = process.arch === "arm64" ? "dotprod" : "vbmi";
      if (h.native !== above) {
        const r = runAxr(["run-model", tinyModel], { stateDir: dir, env: { AXR_CPU: above } });
        assert.notEqual(r.code, 0);
        assert.match(r.stdout + r.stderr, /this CPU supports only up to/);
      }
    } finally {
      removeDir(dir);
    }
  });
});
