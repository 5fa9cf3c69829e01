/**
 * Reading the statistics of a model instance's last run (the parsed JSON of the
 * native extension `axr_ext_instance_stats`, see include/axruntime.h) into one
 * checked shape, whatever the key style (snake_case from the library, camelCase
 * if the API converts them).
 *
 * @module
 */

/**
 * One op of the device program as the timing model ran it.
 *
 * @example
 * ```ts
 * const op: DeviceOpStat = { name: "conv1", op: "Conv", cycles: 1200, startCycle: 0, macs: 4096, core: 0 };
 * ```
 */
export interface DeviceOpStat {
  /** Op name in the program. */
  name: string;
  /** Op type ("Conv", "Gemm", ...). */
  op: string;
  /** Modelled cycles the op takes. */
  cycles: number;
  /** Cycle at which the op starts, from the start of the run on the device. */
  startCycle: number;
  /** Multiply-accumulates (Conv, Gemm), else 0. */
  macs: number;
  /** The sub-device (AIPU core, 0..3) that runs it. */
  core: number;
}

/**
 * One host-side span the library measured (quantize, pad, run, ...).
 *
 * @example
 * ```ts
 * const s: HostSpanStat = { name: "run", startNs: 0, durNs: 15000 };
 * ```
 */
export interface HostSpanStat {
  /** Span name. */
  name: string;
  /** Start in ns (relative to the run, or absolute monotonic: callers rebase). */
  startNs: number;
  /** Duration in ns. */
  durNs: number;
}

/**
 * The statistics of an instance's last run.
 *
 * @example
 * ```ts
 * const s = readInstanceStats(inst.stats());
 * if (s) console.log(s.lastDeviceUs);
 * ```
 */
export interface InstanceStats {
  /** Runs so far on the instance. */
  runs: number;
  /** Host time of the last run call in the library (ns). */
  lastHostNs: number;
  /** CPU time the emulator spent computing the last run (ns). */
  lastComputeNs: number;
  /** Modelled device cycles of the last run. */
  lastDeviceCycles: number;
  /** Modelled device time of the last run (us). */
  lastDeviceUs: number;
  /** The instance's sub-devices; `clockMhz[i]` and `mvmUtilisation[i]` belong to `subDevices[i]`. */
  subDevices: number[];
  /** Clock of each core (MHz). */
  clockMhz: number[];
  /** MVM utilisation of each core (percent). */
  mvmUtilisation: number[];
  /** Per-op device spans (with device profiling), else empty. */
  ops: DeviceOpStat[];
  /** Host spans (with host profiling), else empty. */
  host: HostSpanStat[];
}

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
 * Normalizes what `ModelInstance.stats()` returned (object, JSON string, or
 * undefined when the library lacks the extension) into {@link InstanceStats};
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
