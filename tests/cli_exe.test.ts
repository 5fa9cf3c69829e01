// The single-file executable: built with `bun build --compile` (scripts/build_exe.sh), copied
// with a copy of the fixture model to an empty directory, and run there without the repository.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { join } from "node:path";
import { childEnv, isBun, removeDir, root, tempDir } from "./cli_helpers.ts";

/** The bun to build with: this process under bun test, else bun on PATH (scripts/env.sh puts it there). */
function findBun(): string | undefined {
  if (isBun) return process.execPath;
  const r = spawnSync("bun", ["--version"], { encoding: "utf8" });
  return r.status === 0 ? "bun" : undefined;
}

let work = "";
before(() => {
  work = tempDir("axr-exe-test-");
});
after(() => removeDir(work));

test("bun build --compile: axr runs a model in an empty directory, library embedded", { timeout: 300_000 }, (t) => {
  const bun = findBun();
  if (!bun) {
    t.skip("bun is not installed: the single-file executable cannot be built");
    return;
  }
  const out = join(work, "build");
  const build = spawnSync("bash", [join(root, "scripts", "build_exe.sh"), "--only", "axr", "--out", out], {
    cwd: root,
    encoding: "utf8",
    timeout: 240_000,
  });
  assert.equal(build.status, 0, `build failed:\n${build.stdout}\n${build.stderr}`);
  assert.ok(existsSync(join(out, "axr")));

  // An empty directory with the executable and a copy of the model directory, nothing else.
  const app = join(work, "app");
  mkdirSync(app);
  copyFileSync(join(out, "axr"), join(app, "axr"));
  const fixture = join(root, "tests", "fixtures", "tiny");
  for (const f of readdirSync(fixture)) {
    if (statSync(join(fixture, f)).isFile()) copyFileSync(join(fixture, f), join(app, f));
  }
  spawnSync("chmod", ["+x", join(app, "axr")]);
  const scratch = join(work, "tmp"), state = join(work, "state");
  mkdirSync(scratch);
  mkdirSync(state);
  // No AXR_LIBRARY, no repository on the way: the library must come from the executable.
  const env = childEnv(state, { AXR_LIBRARY: undefined, TMPDIR: scratch, PATH: "/usr/bin:/bin" });
  const run = spawnSync("./axr", ["run-model", "model.json", "--seconds", "1"], {
    cwd: app,
    env,
    encoding: "utf8",
    timeout: 120_000,
  });
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  const fps = /^System FPS:\s+([0-9.]+)/m.exec(run.stdout);
  assert.ok(fps && Number(fps[1]) > 0, run.stdout);
  assert.match(run.stdout, /^Device FPS:\s+[0-9.]+/m);
  assert.match(run.stdout, /^Latency: +p50 [0-9.]+ ms/m);
  // The embedded library was materialized under TMPDIR, not loaded from the repository.
  const libs = readdirSync(scratch).flatMap((d) => readdirSync(join(scratch, d)).filter((f) => f.endsWith(".so")));
  assert.equal(libs.length, 1, `library copies in TMPDIR: ${libs}`);

  const devices = spawnSync("./axr", ["devices"], { cwd: app, env, encoding: "utf8", timeout: 60_000 });
  assert.equal(devices.status, 0, devices.stderr);
  assert.match(devices.stdout, /^Device 0: metis-\S+ board_type=pcie /m);
  const usage = spawnSync("./axr", ["run-model", "missing.json"], { cwd: app, env, encoding: "utf8", timeout: 60_000 });
  assert.equal(usage.status, 3);
  assert.match(usage.stderr, /model not found: missing\.json/);
});
