// Process faults (issue 8): a process holding a reservation killed with SIGKILL frees it
// (the next connect succeeds within 1 s); a process killed in the middle of
// configureDevice, many times at random moments, leaves the device configuration
// readable and consistent. Runs under deno test and bun test.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as axr from "../mod.ts";
import { prng } from "./fixtures/make_fixtures.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";
import { currentRuntime, scriptCommand } from "./helpers/runtime_child.ts";

/** Starts a helper script and resolves once it printed its "ready" line. */
function startReady(
  script: string,
  env: Record<string, string | undefined>,
  args: string[] = [],
): Promise<ChildProcess> {
  const [cmd, argv] = scriptCommand(currentRuntime, script, args);
  const child = spawn(cmd, argv, { env, stdio: ["pipe", "pipe", "pipe"] });
  let out = "", err = "";
  child.stderr!.on("data", (d) => (err += String(d)));
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += String(d);
      if (out.startsWith("ready")) resolve(child);
      else if (out.includes("\n")) reject(new Error(`${script}: ${out} ${err}`));
    });
    child.on("exit", (code) => reject(new Error(`${script} exited (${code}) early: ${out} ${err}`)));
  });
}

const killed = (c: ChildProcess) =>
  new Promise<void>((
    resolve,
  ) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.on("exit", () => resolve())));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("process faults", () => {
  let env: EmulatorEnv;
  before(() => (env = useEmulatorEnv({ devices: "pcie", settleMs: 0 })));
  after(() => env.restore());

  test("SIGKILL of a process holding all sub-devices frees them within 1 s", async () => {
    const child = await startReady("tests/helpers/hold_device.ts", env.childEnv(), ["4"]);
    using ctx = new axr.Context();
    assert.throws(() => ctx.deviceConnect(0, 1), axr.DeviceInUse);
    assert.equal(ctx.listDevices()[0].inUse, 4);
    const t0 = performance.now();
    child.kill("SIGKILL");
    await killed(child);
    let conn: axr.Connection | undefined;
    while (!conn) {
      try {
        conn = ctx.deviceConnect(0, 4);
      } catch (e) {
        if (!(e instanceof axr.DeviceInUse) || performance.now() - t0 > 1000) throw e;
        await sleep(10);
      }
    }
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `connected after ${ms.toFixed(0)} ms`);
    assert.equal(ctx.listDevices()[0].inUse, 4); // ours now
    conn.release();
    assert.equal(ctx.listDevices()[0].inUse, 0);
  });

  test("killed in the middle of configureDevice: the configuration stays readable and consistent", async () => {
    const r = prng(99);
    const valid = new Set(["100", "200", "400", "600", "700", "800"]);
    for (let round = 0; round < 12; round++) {
      const child = await startReady("tests/helpers/configure_loop.ts", env.childEnv());
      await sleep(5 + Math.floor(r() * 60));
      child.kill("SIGKILL");
      await killed(child);
      using ctx = new axr.Context();
      const cfg = ctx.readDeviceConfiguration(0);
      assert.ok(valid.has(cfg.clock_profile), `round ${round}: clock_profile ${cfg.clock_profile}`);
      for (let core = 0; core < 4; core++) {
        assert.ok(
          valid.has(cfg[`clock_profile_core_${core}`]),
          `round ${round}: core ${core} clock ${cfg[`clock_profile_core_${core}`]}`,
        );
        const mvm = Number(cfg[`mvm_utilisation_core_${core}`]);
        assert.ok(Number.isInteger(mvm) && mvm >= 1 && mvm <= 100, `round ${round}: mvm ${mvm}`);
      }
      // files do not pile up: at most one temporary file (a killed writer's), reused
      const stray = readdirSync(env.stateDir).filter((f) => !/\.(lock|conf)$/.test(f));
      assert.ok(stray.every((f) => f === "metis-0:1:0.conf.tmp"), `round ${round}: ${stray.join(", ")}`);
      // (a child killed before its first configuration, under load, left none yet)
      const conf = join(env.stateDir, "metis-0:1:0.conf");
      if (round > 0 || existsSync(conf)) assert.ok(readFileSync(conf, "utf8").length > 0);
      // and a new configuration still goes through
      assert.equal(ctx.configureDevice(0, { clockProfile: 400 }), true);
      assert.equal(ctx.readDeviceConfiguration(0).clock_profile, "400");
    }
  });
});
