/**
 * A private emulated-device environment for one test file: its own state
 * directory (reservations and configuration), its own device list and settle
 * time, set where the native library reads them (C getenv) and restored after.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { setNativeEnv } from "../../ffi/env.ts";

/** What {@link useEmulatorEnv} set. */
export interface EmulatorEnv {
  /** The state directory. */
  stateDir: string;
  /** The environment to hand to child processes. */
  childEnv(extra?: Record<string, string | undefined>): Record<string, string | undefined>;
  /** Restores the previous values and removes the state directory. */
  restore(): void;
}

/**
 * Sets AXR_EMU_DEVICES, AXR_EMU_SETTLE_MS and a fresh AXR_EMU_STATE_DIR, and unsets
 * AXR_EMU_MEMORY_LIMIT.
 *
 * @example
 * ```ts
 * let env: EmulatorEnv;
 * before(() => (env = useEmulatorEnv({ devices: "pcie,m2", settleMs: 100 })));
 * after(() => env.restore());
 * ```
 */
export function useEmulatorEnv(opts: { devices?: string; settleMs?: number } = {}): EmulatorEnv {
  const stateDir = mkdtempSync(join(tmpdir(), "axr-api-test-"));
  const values: Record<string, string | undefined> = {
    AXR_EMU_STATE_DIR: stateDir,
    AXR_EMU_DEVICES: opts.devices,
    AXR_EMU_SETTLE_MS: opts.settleMs === undefined ? undefined : String(opts.settleMs),
    AXR_EMU_MEMORY_LIMIT: undefined, // the default 2 GiB, whatever the caller's shell set
  };
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(values)) {
    saved[k] = process.env[k];
    setNativeEnv(k, v);
  }
  return {
    stateDir,
    childEnv(extra = {}) {
      const env: Record<string, string | undefined> = { ...process.env, ...values, ...extra };
      for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
      return env;
    },
    restore() {
      for (const [k, v] of Object.entries(saved)) setNativeEnv(k, v);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
