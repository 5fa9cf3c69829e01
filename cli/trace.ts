/**
 * Profiling traces in the Chrome trace event format (opens in Perfetto,
 * https://ui.perfetto.dev, and chrome://tracing): per-op device spans from the
 * timing model, one track per AIPU core, and host spans (each run as measured by
 * the caller, and the library's own host spans inside it), plus a summary table
 * (op, count, total us, % of device time).
 *
 * Time base: microseconds since the recorder was created. A device core is
 * modelled as a queue: a run's ops start when the run is issued or when the core
 * finishes its previous run, whichever is later, and follow the modelled cycles
 * at the core's clock.
 *
 * @module
 */
import type { InstanceStats } from "../mod.ts";

/**
 * One event of the Chrome trace event format ("X" complete events and "M"
 * metadata events are all we write).
 *
 * @example
 * ```ts
 * const e: TraceEvent = { name: "Conv", ph: "X", ts: 0, dur: 1.5, pid: 1, tid: 1 };
 * ```
 */
export interface TraceEvent {
  /** Span or metadata name. */
  name: string;
  /** Category ("device", "host"). */
  cat?: string;
  /** Phase: "X" complete event, "M" metadata. */
  ph: "X" | "M";
  /** Start, microseconds. */
  ts: number;
  /** Duration, microseconds ("X" only). */
  dur?: number;
  /** Process id: one per device, and one for the host. */
  pid: number;
  /** Thread id: the core (device) or the instance (host). */
  tid: number;
  /** Extra fields shown in the viewer. */
  args?: Record<string, unknown>;
}

/**
 * A whole trace file: `{ traceEvents, displayTimeUnit, otherData }`.
 *
 * @example
 * ```ts
 * const recorder = new TraceRecorder({ model: "tiny" });
 * const file: ChromeTrace = recorder.toJSON();
 * ```
 */
export interface ChromeTrace {
  /** All events, metadata first. */
  traceEvents: TraceEvent[];
  /** How the viewer shows times. */
  displayTimeUnit: "ms" | "ns";
  /** Free-form information about the run. */
  otherData: Record<string, unknown>;
}

/**
 * One line of the op summary: all device spans of one op type.
 *
 * @example
 * ```ts
 * const row: OpSummaryRow = { op: "Conv", count: 10, totalUs: 52.1, percent: 83.0 };
 * ```
 */
export interface OpSummaryRow {
  /** Op type. */
  op: string;
  /** Spans of that type. */
  count: number;
  /** Their summed modelled time (us). */
  totalUs: number;
  /** Share of all modelled device time (%). */
  percent: number;
}

/**
 * One run to record.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const inst = conn.loadModelInstance(model, { deviceProfiling: true });
 * inst.run([new Int8Array(model.inputs()[0].size)], [new Int8Array(model.outputs()[0].size)]);
 * const stats = inst.stats();
 * const recorder = new TraceRecorder({ model: "tiny" });
 * recorder.addRun({ device: "metis-0:1:0", instance: 0, startUs: 10, endUs: 60, stats });
 * ```
 */
export interface TraceRun {
  /** Device name (one trace process per device). */
  device: string;
  /** Instance index (one host track per instance). */
  instance: number;
  /** Issue time of the run on the host, us since the recorder's origin. */
  startUs: number;
  /** Completion time on the host, us since the recorder's origin. */
  endUs: number;
  /** The instance's statistics read right after this run (may lack ops/host spans). */
  stats?: InstanceStats;
  /** The core that runs it when stats carry no per-op core. */
  core?: number;
}

const HOST_PID = 1;

/**
 * Collects runs and turns them into a Chrome trace and a summary table.
 *
 * @example
 * ```ts
 * import { writeFileSync } from "node:fs";
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const inst = conn.loadModelInstance(model, { deviceProfiling: true });
 * inst.run([new Int8Array(model.inputs()[0].size)], [new Int8Array(model.outputs()[0].size)]);
 * const stats = inst.stats();
 * const rec = new TraceRecorder({ model: "tiny" });
 * rec.addRun({ device: "metis-0:1:0", instance: 0, startUs: 0, endUs: 40, stats });
 * writeFileSync("out.json", JSON.stringify(rec.toJSON()));
 * console.log(formatOpSummary(rec.opSummary()));
 * ```
 */
export class TraceRecorder {
  /** Runs recorded so far. */
  runs = 0;
  /** Runs dropped because `maxEvents` was reached. */
  dropped = 0;
  readonly #events: TraceEvent[] = [];
  readonly #meta: TraceEvent[] = [];
  readonly #devicePids = new Map<string, number>();
  readonly #threads = new Set<string>();
  readonly #coreFree = new Map<string, number>();
  readonly #opTotals = new Map<string, { count: number; totalUs: number }>();
  readonly #hostTotals = new Map<string, { count: number; totalUs: number }>();
  #deviceUs = 0;
  readonly #maxEvents: number;
  readonly #info: Record<string, unknown>;

  /**
   * @param info free-form fields stored in `otherData` (model, flags, ...)
   * @param options `maxEvents`: stop adding spans past this many events (default 500000);
   *   the summary still counts every run
   */
  constructor(info: Record<string, unknown> = {}, options: { maxEvents?: number } = {}) {
    this.#info = info;
    this.#maxEvents = options.maxEvents ?? 500_000;
    this.#meta.push({ name: "process_name", ph: "M", ts: 0, pid: HOST_PID, tid: 0, args: { name: "host" } });
    this.#meta.push({ name: "process_sort_index", ph: "M", ts: 0, pid: HOST_PID, tid: 0, args: { sort_index: 0 } });
  }

  #devicePid(device: string): number {
    let pid = this.#devicePids.get(device);
    if (pid === undefined) {
      pid = 2 + this.#devicePids.size;
      this.#devicePids.set(device, pid);
      this.#meta.push({
        name: "process_name",
        ph: "M",
        ts: 0,
        pid,
        tid: 0,
        args: { name: `${device} (modelled device time)` },
      });
      this.#meta.push({ name: "process_sort_index", ph: "M", ts: 0, pid, tid: 0, args: { sort_index: pid } });
    }
    return pid;
  }

  #thread(pid: number, tid: number, name: string): void {
    const key = `${pid}/${tid}`;
    if (this.#threads.has(key)) return;
    this.#threads.add(key);
    this.#meta.push({ name: "thread_name", ph: "M", ts: 0, pid, tid, args: { name } });
    this.#meta.push({ name: "thread_sort_index", ph: "M", ts: 0, pid, tid, args: { sort_index: tid } });
  }

  /** Records one run: its host span, the library's host spans and the device op spans. */
  addRun(run: TraceRun): void {
    this.runs++;
    const stats = run.stats;
    const keep = this.#events.length < this.#maxEvents;
    if (!keep) this.dropped++;
    const hostTid = run.instance + 1;
    const runDur = Math.max(0, run.endUs - run.startUs);
    this.#addHostTotal("run (host, measured)", runDur);
    if (keep) {
      this.#thread(HOST_PID, hostTid, `instance ${run.instance} (${run.device})`);
      this.#events.push({
        name: "run",
        cat: "host",
        ph: "X",
        ts: run.startUs,
        dur: runDur,
        pid: HOST_PID,
        tid: hostTid,
        args: stats
          ? {
            device_us: stats.lastDeviceUs,
            host_ns: stats.lastHostNs,
            compute_ns: stats.lastComputeNs,
            run: stats.runs,
          }
          : {},
      });
    }
    if (!stats) return;

    // The library's host spans (monotonic clock): rebased on the earliest one, which
    // starts with the library's run call, and placed at the run's start.
    const host = stats.host ?? [];
    if (host.length) {
      const base = Math.min(...host.map((h) => h.startNs));
      for (const h of host) {
        const durUs = h.durNs / 1000;
        this.#addHostTotal(h.name, durUs);
        if (!keep) continue;
        const offUs = (h.startNs - base) / 1000;
        this.#events.push({
          name: h.name,
          cat: "host",
          ph: "X",
          ts: run.startUs + offUs,
          dur: durUs,
          pid: HOST_PID,
          tid: hostTid,
        });
      }
    }

    // Device op spans: one track per core, the core modelled as a queue.
    const pid = this.#devicePid(run.device);
    const coresOfRun = new Set<number>();
    for (const op of stats.ops) coresOfRun.add(op.core);
    if (coresOfRun.size === 0 && run.core !== undefined) coresOfRun.add(run.core);
    const origin = new Map<number, number>();
    for (const core of coresOfRun) {
      const key = `${run.device}/${core}`;
      origin.set(core, Math.max(run.startUs, this.#coreFree.get(key) ?? -Infinity));
    }
    const runEnd = new Map<number, number>();
    const mhzOf = (core: number): number => {
      const slot = stats.subDevices.length ? stats.subDevices.indexOf(core) : core;
      return stats.clockMhz[slot] || stats.clockMhz[0] || 800;
    };
    // The fixed cost of the run on each core (DMA setup, completion) precedes its first op.
    const firstCycle = new Map<number, number>();
    for (const op of stats.ops) firstCycle.set(op.core, Math.min(firstCycle.get(op.core) ?? Infinity, op.startCycle));
    for (const [core, cycles] of firstCycle) {
      if (!(cycles > 0)) continue;
      const dur = cycles / mhzOf(core);
      this.#addOpTotal("(run overhead)", dur);
      if (!keep) continue;
      this.#thread(pid, core + 1, `core ${core}`);
      this.#events.push({
        name: "(run overhead)",
        cat: "device",
        ph: "X",
        ts: origin.get(core)!,
        dur,
        pid,
        tid: core + 1,
        args: { cycles, instance: run.instance },
      });
    }
    for (const op of stats.ops) {
      const mhz = mhzOf(op.core);
      const ts = origin.get(op.core)! + op.startCycle / mhz;
      const dur = op.cycles / mhz;
      runEnd.set(op.core, Math.max(runEnd.get(op.core) ?? 0, ts + dur));
      this.#addOpTotal(op.op, dur);
      if (!keep) continue;
      this.#thread(pid, op.core + 1, `core ${op.core}`);
      this.#events.push({
        name: op.op,
        cat: "device",
        ph: "X",
        ts,
        dur,
        pid,
        tid: op.core + 1,
        args: {
          name: op.name,
          cycles: op.cycles,
          start_cycle: op.startCycle,
          macs: op.macs,
          clock_mhz: mhz,
          instance: run.instance,
        },
      });
    }
    if (stats.ops.length === 0 && run.core !== undefined && stats.lastDeviceUs > 0) {
      // No per-op profile: one span for the whole modelled run.
      const ts = origin.get(run.core)!;
      runEnd.set(run.core, ts + stats.lastDeviceUs);
      if (keep) {
        this.#thread(pid, run.core + 1, `core ${run.core}`);
        this.#events.push({
          name: "run (device)",
          cat: "device",
          ph: "X",
          ts,
          dur: stats.lastDeviceUs,
          pid,
          tid: run.core + 1,
        });
      }
    }
    for (const [core, end] of runEnd) this.#coreFree.set(`${run.device}/${core}`, end);
  }

  #addOpTotal(op: string, us: number): void {
    const t = this.#opTotals.get(op) ?? { count: 0, totalUs: 0 };
    t.count++;
    t.totalUs += us;
    this.#opTotals.set(op, t);
    this.#deviceUs += us;
  }

  #addHostTotal(name: string, us: number): void {
    const t = this.#hostTotals.get(name) ?? { count: 0, totalUs: 0 };
    t.count++;
    t.totalUs += us;
    this.#hostTotals.set(name, t);
  }

  /** Device time per op type, largest first. */
  opSummary(): OpSummaryRow[] {
    const total = this.#deviceUs;
    return [...this.#opTotals].map(([op, t]) => ({
      op,
      count: t.count,
      totalUs: t.totalUs,
      percent: total > 0 ? (100 * t.totalUs) / total : 0,
    })).sort((a, b) => b.totalUs - a.totalUs);
  }

  /** Host time per span name (the measured runs and the library's spans), largest first. */
  hostSummary(): { name: string; count: number; totalUs: number }[] {
    return [...this.#hostTotals].map(([name, t]) => ({ name, count: t.count, totalUs: t.totalUs }))
      .sort((a, b) => b.totalUs - a.totalUs);
  }

  /** The trace as a Chrome trace object (serialize it with JSON.stringify). */
  toJSON(): ChromeTrace {
    return {
      traceEvents: [...this.#meta, ...this.#events],
      displayTimeUnit: "ms",
      otherData: { ...this.#info, runs: this.runs, runs_without_spans: this.dropped, generator: "axr run-model" },
    };
  }
}

/**
 * Prints op summary rows as an aligned table:
 * `op  count  total us  % device`.
 *
 * @example
 * ```ts
 * console.log(formatOpSummary([{ op: "Conv", count: 2, totalUs: 10, percent: 100 }]));
 * ```
 */
export function formatOpSummary(rows: OpSummaryRow[]): string {
  const lines = [`  ${"op".padEnd(20)} ${"count".padStart(9)} ${"total us".padStart(14)} ${"% device".padStart(9)}`];
  for (const r of rows) {
    lines.push(
      `  ${r.op.padEnd(20)} ${String(r.count).padStart(9)} ${r.totalUs.toFixed(1).padStart(14)} ${
        r.percent.toFixed(1).padStart(8)
      }%`,
    );
  }
  if (rows.length === 0) lines.push("  (no device op spans: the library reported no per-op profile)");
  return lines.join("\n") + "\n";
}
