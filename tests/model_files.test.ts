// The files of a model directory (docs/model-format.md "Files", issue 18): every file is
// reached through the directory and must resolve inside it; a symlink out of it (to a
// file or through a directory) is refused with InvalidArgument naming the file, both by
// the native loader and by the host side (manifest, pre/postamble graphs) read later.
import { execFileSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { hostTensors, loadHostGraph } from "../runtime/host_files.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";

const tinyDir = fileURLToPath(new URL("./fixtures/tiny/", import.meta.url));

describe("model files stay inside the model directory", () => {
  let env: EmulatorEnv;
  let work: string;
  before(() => {
    env = useEmulatorEnv();
    work = mkdtempSync(join(tmpdir(), "axr-model-files-"));
    mkdirSync(join(work, "outside"));
    writeFileSync(join(work, "outside", "secret"), "not a model file\n");
  });
  after(() => {
    env.restore();
    rmSync(work, { recursive: true, force: true });
  });

  /** A copy of the tiny fixture; returns its directory. */
  function copy(name: string): string {
    const dir = join(work, name);
    cpSync(tinyDir, dir, { recursive: true });
    return dir;
  }

  function refused(path: string, ...needles: string[]): void {
    using ctx = new axr.Context();
    assert.throws(() => ctx.loadModel(path), (e: unknown) => {
      assert.ok(e instanceof axr.InvalidArgument, String(e));
      for (const n of needles) assert.ok(e.message.includes(n), `'${e.message}' lacks '${n}'`);
      return true;
    });
  }

  test("program.axp -> /etc/passwd is refused before reading, naming the file", () => {
    const dir = copy("passwd");
    unlinkSync(join(dir, "program.axp"));
    symlinkSync("/etc/passwd", join(dir, "program.axp"));
    refused(join(dir, "model.json"), "program.axp", "resolves to '/etc/passwd'", "outside the model directory");
  });

  test("a symlinked directory that leads outside is refused; the same file inside loads", () => {
    const dir = copy("libdir");
    const m = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
    writeFileSync(join(dir, "model.json"), JSON.stringify({ ...m, program: "lib/program.axp" }));
    mkdirSync(join(work, "outside", "lib"));
    renameSync(join(dir, "program.axp"), join(work, "outside", "lib", "program.axp"));
    symlinkSync(join(work, "outside", "lib"), join(dir, "lib"));
    refused(join(dir, "model.json"), "lib/program.axp", "outside the model directory");
    unlinkSync(join(dir, "lib"));
    mkdirSync(join(dir, "lib"));
    renameSync(join(work, "outside", "lib", "program.axp"), join(dir, "lib", "program.axp"));
    using ctx = new axr.Context();
    assert.equal(ctx.loadModel(join(dir, "model.json")).inputs().length, 1);
  });

  test("a symlink that stays inside is followed; a symlinked model directory is its target", () => {
    const dir = copy("inside");
    mkdirSync(join(dir, "build"));
    renameSync(join(dir, "program.axp"), join(dir, "build", "program.axp"));
    symlinkSync("build/program.axp", join(dir, "program.axp"));
    symlinkSync(dir, join(work, "linked"));
    using ctx = new axr.Context();
    for (const p of [join(dir, "model.json"), join(work, "linked", "model.json")]) {
      using conn = ctx.deviceConnect();
      const model = ctx.loadModel(p);
      const inst = conn.loadModelInstance(model);
      const [input] = model.inputs();
      const [output] = model.outputs();
      inst.run([new Int8Array(input.size)], [new Int8Array(output.size)]);
    }
  });

  test("a FIFO as the manifest neither blocks nor loads", () => {
    const dir = copy("fifo");
    unlinkSync(join(dir, "manifest.json"));
    execFileSync("mkfifo", [join(dir, "manifest.json")]);
    refused(join(dir, "model.json"), "manifest.json", "not a regular file");
  });

  test("host files swapped for symlinks after loading are refused by the host side too", () => {
    const dir = copy("swap");
    writeFileSync(join(dir, "post.onnx"), "placeholder: only opened by the loader");
    const m = JSON.parse(readFileSync(join(dir, "model.json"), "utf8"));
    writeFileSync(join(dir, "model.json"), JSON.stringify({ ...m, postamble_graph: "post.onnx" }));
    using ctx = new axr.Context();
    const model = ctx.loadModel(join(dir, "model.json"));
    unlinkSync(join(dir, "post.onnx"));
    symlinkSync(join(work, "outside", "secret"), join(dir, "post.onnx"));
    assert.throws(() => loadHostGraph(model, "post.onnx"), (e: unknown) => {
      assert.ok(e instanceof axr.InvalidArgument, String(e));
      assert.match(e.message, /post\.onnx.*outside the model directory/);
      return true;
    });
    unlinkSync(join(dir, "manifest.json"));
    symlinkSync(join(work, "outside", "secret"), join(dir, "manifest.json"));
    assert.throws(() => hostTensors(model), /manifest\.json.*outside the model directory/);
  });
});
