// `deno task bench --filter X` runs only the bench modules that declare a row X can match
// (bench/row.ts rowsMayMatch, each module's benchRows). Runs under `deno test -A` and `bun test`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rowsMayMatch } from "../bench/row.ts";
import { benchRows as kernelRows } from "../bench/kernels.ts";
import { benchRows as overheadRows } from "../bench/run_overhead.ts";
import { currentRuntime, runScript } from "./helpers/runtime_child.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";

let env: EmulatorEnv;

describe("bench --filter", () => {
  before(() => (env = useEmulatorEnv({ settleMs: 0 })));
  after(() => env.restore());

  test("rowsMayMatch: names contain the filter; a prefix* matches a filter in it or begun inside it", () => {
    assert.equal(rowsMayMatch(kernelRows, ""), true);
    assert.equal(rowsMayMatch(kernelRows, "quantize_pad"), true);
    assert.equal(rowsMayMatch(kernelRows, "run_async"), false);
    assert.equal(rowsMayMatch(overheadRows, "run_async"), true);
    assert.equal(rowsMayMatch(["emulator_conv_*"], "conv_dw"), true); // begins inside the prefix
    assert.equal(rowsMayMatch(["emulator_conv_*"], "emulator_conv_kxk"), true);
    assert.equal(rowsMayMatch(["emulator_conv_*"], "mulator"), true);
    assert.equal(rowsMayMatch(["emulator_conv_*"], "kxk"), false); // wholly in the unnamed rest
    assert.equal(rowsMayMatch(["emulator_conv_*"], "lut"), false);
  });

  test("a filter runs only the modules whose rows can match it", () => {
    const r = runScript(currentRuntime, "bench/main.ts", {
      args: ["--json", "--only-this-runtime", "--no-numpy", "--filter", "run_async_handoff"],
      env: env.childEnv(),
      timeoutMs: 300_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((x) => x.bench), ["run_async_handoff"]);
    for (const f of ["kernels.ts", "postamble.ts", "emulator.ts", "zoo.ts", "timing.ts", "serve.ts"]) {
      assert.match(r.stderr, new RegExp(`\\[bench\\] ${f.replace(".", "\\.")}: skipped`), f);
    }
    assert.doesNotMatch(r.stderr, /run_overhead\.ts: skipped/);
  });
});
