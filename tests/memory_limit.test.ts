// The per-instance memory limit (issue 18): `memoryLimit` / `memory_limit`,
// AXR_EMU_MEMORY_LIMIT, 2 GiB by default. A model whose declared tensors, scratch and
// program exceed it is refused by loadModelInstance with IncompatibleDevice naming the
// sizes, before anything large is allocated.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import * as axr from "../mod.ts";
import { setNativeEnv } from "../ffi/env.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";
import { writeHugeTensorModel } from "./helpers/hostile_model.ts";

const tiny = new URL("./fixtures/tiny/model.json", import.meta.url);

describe("memory limit of a model instance", () => {
  let env: EmulatorEnv;
  let work: string;
  before(() => {
    env = useEmulatorEnv();
    work = mkdtempSync(join(tmpdir(), "axr-memory-limit-"));
  });
  after(() => {
    setNativeEnv("AXR_EMU_MEMORY_LIMIT", undefined);
    env.restore();
    rmSync(work, { recursive: true, force: true });
  });

  function incompatible(fn: () => unknown, ...needles: string[]): void {
    assert.throws(fn, (e: unknown) => {
      assert.ok(e instanceof axr.IncompatibleDevice, String(e));
      for (const n of needles) assert.ok(e.message.includes(n), `'${e.message}' lacks '${n}'`);
      return true;
    });
  }

  test("a few hundred bytes declaring 4 GB of tensors are refused at the default 2 GiB, without the allocation", () => {
    const path = writeHugeTensorModel(join(work, "huge"), 1023);
    assert.ok(statSync(join(work, "huge", "program.axp")).size < 1024);
    using ctx = new axr.Context();
    const model = ctx.loadModel(path);
    using conn = ctx.deviceConnect();
    const before = process.memoryUsage().rss;
    incompatible(
      () => conn.loadModelInstance(model),
      "model 'huge' needs",
      "more than the memory limit of 2147483648 bytes from the default",
    );
    const rise = process.memoryUsage().rss - before;
    assert.ok(rise < 256 * 2 ** 20, `resident memory rose by ${rise} bytes`);
  });

  test("memoryLimit (and memory_limit) per instance; the tiny model fits in 1 MiB, not in 1 KiB", () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(tiny);
    using conn = ctx.deviceConnect();
    incompatible(
      () => conn.loadModelInstance(model, { memoryLimit: 1024 }),
      "memory limit of 1024 bytes from the memory_limit property",
    );
    const inst = conn.loadModelInstance(model, { memoryLimit: 2 ** 20 });
    const [input] = model.inputs();
    const [output] = model.outputs();
    inst.run([new Int8Array(input.size)], [new Int8Array(output.size)]);
    conn.loadModelInstance(model, { memory_limit: 2n ** 20n } as axr.InstanceOptions);
    assert.throws(() => conn.loadModelInstance(model, { memoryLimit: 1.5 }), axr.InvalidArgument);
    assert.throws(() => conn.loadModelInstance(model, { memoryLimit: "2G" as unknown as number }), axr.InvalidArgument);
  });

  test("AXR_EMU_MEMORY_LIMIT sets the default; the property wins; a bad value is an InvalidArgument naming it", () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(tiny);
    using conn = ctx.deviceConnect();
    try {
      setNativeEnv("AXR_EMU_MEMORY_LIMIT", "2K");
      incompatible(() => conn.loadModelInstance(model), "from AXR_EMU_MEMORY_LIMIT");
      conn.loadModelInstance(model, { memoryLimit: 2 ** 20 });
      setNativeEnv("AXR_EMU_MEMORY_LIMIT", "1M");
      conn.loadModelInstance(model);
      setNativeEnv("AXR_EMU_MEMORY_LIMIT", "plenty");
      assert.throws(() => conn.loadModelInstance(model), /AXR_EMU_MEMORY_LIMIT=plenty/);
    } finally {
      setNativeEnv("AXR_EMU_MEMORY_LIMIT", undefined);
    }
  });
});
