/**
 * Reading raw statistics of a model instance's run (the JSON text of the native
 * extension `axr_ext_instance_stats`, see include/axruntime/axruntime.h, e.g. saved to a
 * file or written by hand in a test) into the runtime's {@link InstanceStats},
 * whatever the key style (snake_case from the library, camelCase from the API).
 *
 * A live instance needs none of this: `ModelInstance.stats()` already returns
 * them parsed, and the CLI uses that.
 *
 * @module
 */
import type { InstanceStats } from "../mod.ts";

export type { InstanceStats };

type Dict = Record<string, unknown>;

function pick(o: Dict, snake: string, camel: string): unknown {
  return snake in o ? o[snake] : o[camel];
}

function num(v: unknown, fallback = 0): number {
  const n = typeof v === "number" ? v : typeof v === "string" || typeof v === "bigint" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : fallback;
}

function numArray(v: unknown): number[] {
  return Array.isArray(v) ? v.map((x) => num(x)) : [];
}

/**
 * Normalizes raw statistics (JSON text or an object, snake_case or camelCase
 * keys) into {@link InstanceStats}, every field checked and defaulted;
 * undefined when there is nothing to read.
 *
 * @example
 * ```ts
 * readInstanceStats('{"runs":1,"last_device_us":12.5}')?.lastDeviceUs; // 12.5
 * ```
 */
export function readInstanceStats(raw: unknown): InstanceStats | undefined {
  let o: unknown = raw;
  if (typeof o === "string") {
    try {
      o = JSON.parse(o);
    } catch {
      return undefined;
    }
  }
  if (!o || typeof o !== "object") return undefined;
  const d = o as Dict;
  const ops = Array.isArray(d.ops) ? d.ops : [];
  const host = Array.isArray(d.host) ? d.host : [];
  return {
    runs: num(d.runs),
    lastHostNs: num(pick(d, "last_host_ns", "lastHostNs")),
    lastComputeNs: num(pick(d, "last_compute_ns", "lastComputeNs")),
    lastDeviceCycles: num(pick(d, "last_device_cycles", "lastDeviceCycles")),
    lastDeviceUs: num(pick(d, "last_device_us", "lastDeviceUs")),
    subDevices: numArray(pick(d, "sub_devices", "subDevices")),
    clockMhz: numArray(pick(d, "clock_mhz", "clockMhz")),
    mvmUtilisation: numArray(pick(d, "mvm_utilisation", "mvmUtilisation")),
    ops: ops.filter((x): x is Dict => !!x && typeof x === "object").map((x) => ({
      name: String(x.name ?? ""),
      op: String(x.op ?? x.name ?? "?"),
      cycles: num(x.cycles),
      startCycle: num(pick(x, "start_cycle", "startCycle")),
      macs: num(x.macs),
      core: num(x.core),
    })),
    host: host.filter((x): x is Dict => !!x && typeof x === "object").map((x) => ({
      name: String(x.name ?? ""),
      startNs: num(pick(x, "start_ns", "startNs")),
      durNs: num(pick(x, "dur_ns", "durNs")),
    })),
  };
}
