// The emulator's state directory (docs/emulator.md, "State directory"): created 0700,
// opened without following symlinks and checked through its descriptor; a symlink, a
// group/world-writable directory or a file is refused with a ConnectionError naming it,
// and the symlink's target is left alone. (Someone else's directory and the swap race
// with a second uid: ffi/src/devices.zig and ffi/src/state_dir_test.zig.)
// Runs unchanged under `deno test -A` and `bun test`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as axr from "../mod.ts";
import { setNativeEnv } from "../ffi/env.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";

let env: EmulatorEnv;
let root: string;

/** Runs `fn` with AXR_EMU_STATE_DIR set to `dir` (restored after). */
function withStateDir<T>(dir: string, fn: () => T): T {
  setNativeEnv("AXR_EMU_STATE_DIR", dir);
  try {
    return fn();
  } finally {
    setNativeEnv("AXR_EMU_STATE_DIR", env.stateDir);
  }
}

function refused(dir: string, why: RegExp): void {
  withStateDir(dir, () => {
    using ctx = new axr.Context();
    for (const call of [() => ctx.deviceConnect(), () => ctx.listDevices()]) {
      assert.throws(call, (e: unknown) => {
        assert.ok(e instanceof axr.ConnectionError, String(e));
        assert.ok(e.message.includes(`'${dir.replace(/\/+$/, "")}'`), e.message);
        assert.match(e.message, why);
        return true;
      });
    }
  });
}

describe("state directory", () => {
  before(() => {
    env = useEmulatorEnv();
    root = mkdtempSync(join(tmpdir(), "axr-state-test-"));
  });
  after(() => {
    env.restore();
    rmSync(root, { recursive: true, force: true });
  });

  test("created 0700 (with its parents) and usable", () => {
    const dir = join(root, "a", "b", "state");
    withStateDir(dir, () => {
      using ctx = new axr.Context();
      using conn = ctx.deviceConnect();
      assert.ok(conn);
    });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(readdirSync(dir).some((f) => f.endsWith(".lock")));
  });

  test("a symlink is refused, also with a trailing slash, and its target is untouched", () => {
    const target = join(root, "target");
    mkdirSync(target, { mode: 0o750 });
    chmodSync(target, 0o750);
    writeFileSync(join(target, "metis-0:1:0.conf"), "precious\n", { mode: 0o600 });
    const link = join(root, "link");
    symlinkSync(target, link);
    refused(link, /is a symbolic link: refused/);
    refused(link + "/", /is a symbolic link: refused/);
    assert.equal(statSync(target).mode & 0o777, 0o750);
    assert.deepEqual(readdirSync(target), ["metis-0:1:0.conf"]);
  });

  test("a group- or world-writable directory is refused", () => {
    const open = join(root, "open");
    mkdirSync(open);
    chmodSync(open, 0o777);
    refused(open, /writable by group or others \(mode 0777\)/);
    chmodSync(open, 0o770);
    refused(open, /writable by group or others \(mode 0770\)/);
    assert.deepEqual(readdirSync(open), []);
  });

  test("a file is refused", () => {
    const file = join(root, "file");
    writeFileSync(file, "x");
    refused(file, /is not a directory/);
  });
});
