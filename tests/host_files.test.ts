// runtime/host_files.ts: the host side of a model directory, read once and never
// silently replaced by defaults when it is invalid.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { hostTensors } from "../runtime/host_files.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";

const tinyDir = fileURLToPath(new URL("./fixtures/tiny/", import.meta.url));

describe("host files of a model directory", () => {
  let env: EmulatorEnv;
  let work: string;
  before(() => {
    env = useEmulatorEnv();
    work = mkdtempSync(join(tmpdir(), "axr-host-files-"));
  });
  after(() => {
    env.restore();
    rmSync(work, { recursive: true, force: true });
  });

  /** A copy of the tiny fixture with `edit` applied to its manifest. */
  function copyWith(name: string, edit: (m: Record<string, unknown>) => void): string {
    const dir = join(work, name);
    cpSync(tinyDir, dir, { recursive: true });
    const path = join(dir, "manifest.json");
    const m = JSON.parse(readFileSync(path, "utf8"));
    edit(m);
    writeFileSync(path, JSON.stringify(m));
    return join(dir, "model.json");
  }

  test("the manifest's names and original shapes, read once per model", () => {
    const path = copyWith("once", () => {});
    using ctx = new axr.Context();
    const model = ctx.loadModel(path);
    const first = hostTensors(model);
    const name = first.inputNames[0];
    assert.equal(axr.modelSignature(model).inputs[0].name, name);
    const m = JSON.parse(readFileSync(join(model.directory, "manifest.json"), "utf8"));
    writeFileSync(join(model.directory, "manifest.json"), JSON.stringify({ ...m, input_names: ["changed"] }));
    assert.equal(hostTensors(model), first, "the same object: not read again");
    assert.equal(axr.modelSignature(model).inputs[0].name, name);
  });

  test("keys absent: names from the device, NCHW shapes from the device's NHWC", () => {
    const path = copyWith("defaults", (m) => {
      delete m.input_names;
      delete m.output_names;
      delete m.input_shapes_original;
      delete m.output_shapes_original;
    });
    using ctx = new axr.Context();
    const model = ctx.loadModel(path);
    const t = hostTensors(model);
    const [input] = model.inputs();
    const [n, h, w, c] = input.unpaddedShape;
    assert.deepEqual(t.inputShapes[0], [n, c, h, w]);
    assert.equal(t.inputNames[0], input.name || "input_0");
  });

  test("an invalid host key is a typed error naming the file and the key, not silent defaults", () => {
    for (
      const [key, value] of [
        ["input_names", 5],
        ["output_names", [1, 2]],
        ["input_shapes_original", [[1, -3]]],
        ["output_shapes_original", "x"],
      ] as const
    ) {
      const path = copyWith(`bad-${key}`, (m) => (m[key] = value));
      using ctx = new axr.Context();
      // The native loader checks some keys, the host side the rest: either way, typed.
      assert.throws(
        () => axr.modelSignature(ctx.loadModel(path)),
        (e: unknown) => e instanceof axr.AxeleraError && e.message.includes("manifest.json") && e.message.includes(key),
        key,
      );
    }
  });
});
