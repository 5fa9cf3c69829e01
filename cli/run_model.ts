/**
 * `axr run-model model.json`: runs a compiled model on the device(s) for a
 * while and reports Device FPS (from the modelled device time), Host FPS (from
 * the host-side run time of each instance), System FPS (wall clock) and latency
 * percentiles, like Axelera's `axrunmodel`; optionally a latency histogram and a
 * profiling trace in the Chrome trace event format.
 *
 * How it runs: per device, one connection to `--aipu-cores` sub-devices and one
 * model instance per core. Each instance gets one request slot, two with double
 * buffering (two requests in flight through `runAsync`, so the next request is
 * queued while the current one runs). Slots are started round robin over the
 * instances (prefill), each slot resubmits as soon as its request completes
 * until `--seconds` have passed, and then every request in flight is awaited
 * (drain). With `--trace`, each instance keeps one request in flight so that
 * the statistics of every run can be read between runs.
 *
 * @module
 */
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { InstanceStats } from "../mod.ts";
import { type CommandSpec, formatHelp, parseArgs } from "./args.ts";
import { ExitCode, FileError, UsageError } from "./errors.ts";
import { cardFps } from "./card_fps.ts";
import { FdBuffer } from "./fd_buffer.ts";
import { formatHistogram } from "./histogram.ts";
import { type LatencySummary, summarizeLatencies } from "./latency.ts";
import { out, stdoutIsTerminal } from "./output.ts";
import { Progress } from "./progress.ts";
import { loadRuntime } from "./runtime.ts";
import { selectDevices } from "./devices.ts";
import { formatOpSummary, type OpSummaryRow, TraceRecorder } from "./trace.ts";

/**
 * The flags of `axr run-model`.
 *
 * @example
 * ```ts
 * import { formatHelp } from "./args.ts";
 * console.log(formatHelp(runModelSpec));
 * ```
 */
export const runModelSpec: CommandSpec = {
  name: "run-model",
  summary: "run a compiled model on the device and report FPS and latency (like axrunmodel)",
  positionals: [{ name: "MODEL", description: "path of model.json (or of the directory holding it)", required: true }],
  flags: [
    {
      name: "devices",
      type: "string",
      valueName: "LIST",
      description: "devices to use: indices or names, comma separated (default: the first device)",
    },
    { name: "seconds", type: "number", min: 0, default: 10, valueName: "S", description: "how long to run" },
    {
      name: "aipu-cores",
      type: "number",
      integer: true,
      min: 1,
      default: 4,
      valueName: "N",
      description: "cores (sub-devices) per device: one model instance per core",
    },
    {
      name: "throttle-fps",
      type: "number",
      min: 0,
      valueName: "FPS",
      description: "limit the total request rate (0: no limit)",
    },
    { name: "double-buffer", type: "boolean", default: true, description: "two requests in flight per instance" },
    {
      name: "input-dmabuf",
      type: "boolean",
      default: false,
      description: "pass inputs as file descriptors (memfd-like /dev/shm files)",
    },
    { name: "output-dmabuf", type: "boolean", default: false, description: "pass outputs as file descriptors" },
    { name: "show-histogram", type: "boolean", description: "print a latency histogram" },
    {
      name: "trace",
      type: "string",
      valueName: "FILE",
      description: "write a Chrome trace (Perfetto, chrome://tracing) with device and host spans; implies profiling",
    },
    { name: "device-profiling", type: "boolean", description: "per-op device timing (printed as a summary table)" },
    { name: "host-profiling", type: "boolean", description: "host-side spans of the library" },
    { name: "json", type: "boolean", description: "print the results as one JSON object (no progress line)" },
  ],
  epilog: `Examples:
  axr run-model build/resnet18/model.json --seconds 5
  axr run-model model.json --aipu-cores 1 --no-double-buffer --show-histogram
  axr run-model model.json --seconds 1 --trace out.trace.json   # open in https://ui.perfetto.dev

Device FPS: inferences per second the modelled device sustains (its modelled time per inference,
summed over the instances running in parallel). Card FPS: the same with the modelled host transfer
of each frame's inputs and outputs over the card's link (PCIe or M.2) added, comparable with
Axelera's published tables (docs/timing-model.md). Host FPS: the same from the host-side time of the
run calls. System FPS: inferences completed per wall-clock second.

Exit codes: 0 ok, 1 device error, 2 bad flags, 3 model not found or invalid.`,
};

/**
 * What `axr run-model --json` prints.
 *
 * @example
 * ```ts
 * import { execFileSync } from "node:child_process";
 * const stdout = execFileSync("axr", ["run-model", "--json", "tests/fixtures/tiny/model.json"], { encoding: "utf8" });
 * const r: RunModelResult = JSON.parse(stdout);
 * r.systemFps;
 * ```
 */
export interface RunModelResult {
  /** The model.json path. */
  model: string;
  /** Devices used. */
  devices: string[];
  /** Model instances (one per core). */
  instances: number;
  /** Requests in flight per instance. */
  depth: number;
  /** Timed inferences completed. */
  frames: number;
  /** Wall-clock seconds of the timed part (prefill to drain). */
  seconds: number;
  /** Inferences per second of the modelled device; null without stats. */
  deviceFps: number | null;
  /**
   * Inferences per second of the modelled card(s): each device's Device FPS with the
   * modelled host transfer of every frame's inputs and outputs over its link (PCIe or
   * M.2, by board type) added (cli/card_fps.ts); null without stats.
   */
  cardFps: number | null;
  /** Per device used: board type, transfer bytes and modelled transfer time (us) of one frame. */
  cards: { device: string; boardType: string; transferBytes: number; transferUs: number }[];
  /** Inferences per second from host-side run time. */
  hostFps: number;
  /** Inferences per wall-clock second. */
  systemFps: number;
  /** Modelled device time of one inference (us), per instance; null without stats. */
  deviceUs: (number | null)[];
  /** Host time of one run inside the library (us), per instance; null without stats. */
  hostUs: (number | null)[];
  /** Request latencies (ms): submit to completion. */
  latencyMs: LatencySummary;
  /** Device time per op type (with device profiling). */
  ops?: OpSummaryRow[];
  /** The trace file written, if any. */
  trace?: string;
}

interface Slot {
  inputs: (ArrayBufferView | number)[];
  outputs: (ArrayBufferView | number)[];
}

function fillRandom(bytes: Uint8Array, seed: number): void {
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < bytes.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    bytes[i] = s & 0xff;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function fmt(v: number | null, digits = 1): string {
  return v === null || !Number.isFinite(v) ? "n/a" : v.toFixed(digits);
}

/** Resolves MODEL (a model.json or its directory); FileError when missing. */
function resolveModelPath(arg: string): string {
  let path = arg;
  if (existsSync(path) && statSync(path).isDirectory()) path = join(path, "model.json");
  if (!existsSync(path)) throw new FileError(`model not found: ${path}`);
  if (!statSync(path).isFile()) throw new FileError(`not a file: ${path}`);
  return path;
}

/**
 * Runs `axr run-model` with the arguments after the subcommand; returns the exit code.
 *
 * @example
 * ```ts
 * const code = await runModelMain(["tests/fixtures/tiny/model.json", "--seconds", "1"]);
 * ```
 */
export async function runModelMain(argv: string[]): Promise<number> {
  const args = parseArgs(runModelSpec, argv);
  if (args.help) {
    out(formatHelp(runModelSpec));
    return ExitCode.ok;
  }
  const seconds = args.number("seconds") ?? 10;
  if (!(seconds > 0)) throw new UsageError(`--seconds must be above 0, got ${seconds}`, "run-model");
  const aipuCores = args.number("aipu-cores") ?? 4;
  const throttle = args.number("throttle-fps") ?? 0;
  const doubleBuffer = args.boolean("double-buffer");
  const inputDmabuf = args.boolean("input-dmabuf");
  const outputDmabuf = args.boolean("output-dmabuf");
  const tracePath = args.string("trace");
  if (tracePath !== undefined && tracePath.trim() === "") {
    throw new UsageError("--trace needs a file name", "run-model");
  }
  const deviceProfiling = args.given("device-profiling") ? args.boolean("device-profiling") : tracePath !== undefined;
  const hostProfiling = args.given("host-profiling") ? args.boolean("host-profiling") : tracePath !== undefined;
  const json = args.boolean("json");
  const modelPath = resolveModelPath(args.positionals[0]);

  const rt = await loadRuntime();
  using ctx = new rt.Context();
  let model: ReturnType<InstanceType<typeof rt.Context>["loadModel"]>;
  try {
    model = ctx.loadModel(modelPath);
  } catch (e) {
    throw new FileError(`cannot load model ${modelPath}: ${(e as Error).message}`, { cause: e });
  }
  const inputInfos = model.inputs();
  const outputInfos = model.outputs();

  const all = ctx.listDevices();
  if (all.length === 0) throw new UsageError("no devices found", "run-model");
  const wanted = args.string("devices");
  const chosen = wanted === undefined
    ? [{ index: 0, dev: all[0] }]
    : wanted.split(",").map((w) => w.trim()).filter((w) => w !== "").flatMap((w) => selectDevices(all, w, "run-model"));
  if (chosen.length === 0) throw new UsageError("--devices names no device", "run-model");

  // One connection per device, one instance per core.
  type Inst = ReturnType<ReturnType<typeof ctx.deviceConnect>["loadModelInstance"]>;
  const instances: { inst: Inst; device: string; core: number }[] = [];
  for (const { dev } of chosen) {
    const cores = Math.min(
      aipuCores,
      Number((dev as { subdeviceCount?: number }).subdeviceCount ?? aipuCores) || aipuCores,
    );
    const conn = ctx.deviceConnect(dev, cores);
    for (let c = 0; c < cores; c++) {
      const inst = conn.loadModelInstance(model, {
        aipuCores: 1,
        numSubDevices: 1,
        doubleBuffer,
        inputDmabuf,
        outputDmabuf,
        deviceProfiling,
        hostProfiling,
      });
      instances.push({ inst, device: String((dev as { name?: string }).name ?? ""), core: c });
    }
  }

  // Buffers: one set per request slot.
  const depth = doubleBuffer && tracePath === undefined ? 2 : 1;
  const fdBuffers: FdBuffer[] = [];
  const slots: Slot[][] = instances.map((_, i) =>
    Array.from({ length: depth }, (_, s) => {
      const inputs = inputInfos.map((t, k) => {
        const data = new Int8Array(t.size);
        fillRandom(new Uint8Array(data.buffer), 1 + i * 97 + s * 31 + k);
        if (!inputDmabuf) return data;
        const fb = new FdBuffer(t.size);
        fb.write(data);
        fdBuffers.push(fb);
        return fb.fd;
      });
      const outputs = outputInfos.map((t) => {
        if (!outputDmabuf) return new Int8Array(t.size);
        const fb = new FdBuffer(t.size);
        fdBuffers.push(fb);
        return fb.fd;
      });
      return { inputs, outputs };
    })
  );

  try {
    // Warm-up: one synchronous run per instance; its statistics give the modelled device time.
    const deviceUs: (number | null)[] = [];
    const cards = new Map<string, { device: string; boardType: string; transferBytes: number; transferUs: number }>();
    const warned = new Set<string>();
    for (let i = 0; i < instances.length; i++) {
      const { inst, device } = instances[i];
      // deno-lint-ignore no-explicit-any
      inst.run(slots[i][0].inputs as any, slots[i][0].outputs as any);
      const st = inst.stats();
      deviceUs.push(st && st.lastDeviceUs > 0 ? st.lastDeviceUs : null);
      if (st && typeof st.transferUs === "number" && !cards.has(device)) {
        cards.set(device, {
          device,
          boardType: String(st.boardType ?? "unknown"),
          transferBytes: Number(st.transferBytes ?? 0),
          transferUs: st.transferUs,
        });
      }
      const unknown = st?.timingUnknownOp;
      if (typeof unknown === "string" && !warned.has(unknown)) {
        warned.add(unknown);
        console.error(
          `warning: the timing model does not know op ${unknown}: it is timed as an element-wise op over its bytes`,
        );
      }
    }

    const recorder = tracePath !== undefined || deviceProfiling
      ? new TraceRecorder({
        model: modelPath,
        devices: chosen.map((c) => (c.dev as { name?: string }).name),
        aipu_cores: aipuCores,
      })
      : undefined;
    const deviceUsSum = new Float64Array(instances.length);
    const deviceUsCount = new Float64Array(instances.length);
    const hostNsSum = new Float64Array(instances.length);
    const hostNsCount = new Float64Array(instances.length);
    const lastSample = new Float64Array(instances.length).fill(-Infinity);
    const everyRun = depth === 1 && recorder !== undefined;
    const perInstanceFrames = new Float64Array(instances.length);
    const busyMs = new Float64Array(instances.length);
    const lastDone = new Float64Array(instances.length).fill(-Infinity);
    const latencies: number[] = [];
    const progress = json ? undefined : new Progress({ seconds, terminal: stdoutIsTerminal(), write: out });

    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    let nextSlotAt = t0;
    let frames = 0;

    const slotLoop = async (i: number, s: number): Promise<void> => {
      const { inst, device, core } = instances[i];
      const slot = slots[i][s];
      while (true) {
        if (throttle > 0) {
          const at = nextSlotAt;
          nextSlotAt = Math.max(nextSlotAt, performance.now()) + 1000 / throttle;
          const wait = at - performance.now();
          if (wait > 0) await sleep(wait);
        }
        const start = performance.now();
        if (start >= deadline) return;
        // deno-lint-ignore no-explicit-any
        await inst.runAsync(slot.inputs as any, slot.outputs as any);
        const end = performance.now();
        latencies.push(end - start);
        busyMs[i] += end - Math.max(start, lastDone[i]);
        lastDone[i] = end;
        perInstanceFrames[i]++;
        frames++;
        // The library's statistics of the last run: for every run when tracing (one request
        // in flight per instance, so they are this run's), else sampled every 10 ms per
        // instance (modelled device time and host time inside the library).
        if (everyRun || end - lastSample[i] >= 10) {
          lastSample[i] = end;
          const st: InstanceStats | undefined = inst.stats();
          if (st && st.lastDeviceUs > 0) {
            deviceUsSum[i] += st.lastDeviceUs;
            deviceUsCount[i]++;
          }
          if (st && st.lastHostNs > 0) {
            hostNsSum[i] += st.lastHostNs;
            hostNsCount[i]++;
          }
          if (everyRun) {
            recorder!.addRun({
              device,
              instance: i,
              core,
              startUs: (start - t0) * 1000,
              endUs: (end - t0) * 1000,
              stats: st,
            });
          }
        }
        progress?.update((end - t0) / 1000, frames);
      }
    };

    // Prefill round robin over the instances, then drain.
    const loops: Promise<void>[] = [];
    for (let s = 0; s < depth; s++) for (let i = 0; i < instances.length; i++) loops.push(slotLoop(i, s));
    await Promise.all(loops);
    const elapsed = (performance.now() - t0) / 1000;
    progress?.finish();

    for (let i = 0; i < instances.length; i++) {
      if (deviceUsCount[i] > 0) deviceUs[i] = deviceUsSum[i] / deviceUsCount[i];
    }
    const haveDevice = deviceUs.every((u) => u !== null);
    const deviceFps = haveDevice ? deviceUs.reduce((a: number, u) => a + 1e6 / (u as number), 0) : null;
    // Card FPS: per device, its cores' Device FPS with the transfer of each frame added
    let cardTotal: number | null = haveDevice && cards.size > 0 ? 0 : null;
    if (cardTotal !== null) {
      for (const card of cards.values()) {
        const fps = instances.reduce(
          (a, x, i) => (x.device === card.device ? a + 1e6 / (deviceUs[i] as number) : a),
          0,
        );
        cardTotal += cardFps(fps, card.transferUs);
      }
    }
    // Host FPS: from the library's host time per run when it reports it, else from the
    // time each instance was busy with its run calls as measured here.
    const hostUs: (number | null)[] = instances.map((
      _,
      i,
    ) => (hostNsCount[i] > 0 ? hostNsSum[i] / hostNsCount[i] / 1000 : null));
    let hostFps = 0;
    for (let i = 0; i < instances.length; i++) {
      const u = hostUs[i];
      if (u !== null) hostFps += 1e6 / u;
      else if (busyMs[i] > 0) hostFps += perInstanceFrames[i] / (busyMs[i] / 1000);
    }
    const systemFps = frames / elapsed;
    const lat = summarizeLatencies(latencies);

    const result: RunModelResult = {
      model: modelPath,
      devices: [...new Set(instances.map((x) => x.device))],
      instances: instances.length,
      depth,
      frames,
      seconds: elapsed,
      deviceFps,
      cardFps: cardTotal,
      cards: [...cards.values()],
      hostFps,
      systemFps,
      deviceUs,
      hostUs,
      latencyMs: lat,
    };
    if (recorder) {
      result.ops = recorder.opSummary();
      if (tracePath !== undefined) {
        writeFileSync(tracePath, JSON.stringify(recorder.toJSON()));
        result.trace = tracePath;
      }
    }

    if (json) {
      out(JSON.stringify(result, null, 2) + "\n");
      return ExitCode.ok;
    }
    const name = (model as { name?: string }).name;
    const o: string[] = [];
    o.push(`Model: ${modelPath}${name ? ` (${name})` : ""}`);
    o.push(
      `Devices: ${result.devices.join(", ")}; ${instances.length} instance${instances.length > 1 ? "s" : ""}` +
        ` (one per core), ${depth} request${depth > 1 ? "s" : ""} in flight each` +
        `${doubleBuffer && depth === 1 ? " (double buffering off while tracing)" : ""}` +
        `, input-dmabuf ${inputDmabuf ? "on" : "off"}, output-dmabuf ${outputDmabuf ? "on" : "off"}` +
        (throttle > 0 ? `, throttled to ${throttle} fps` : ""),
    );
    o.push(`Inferences: ${frames} in ${elapsed.toFixed(2)} s`);
    const perCore = haveDevice
      ? ` (modelled ${
        fmt(deviceUs.reduce((a: number, u) => a + (u as number), 0) / deviceUs.length, 2)
      } us per inference per core)`
      : " (the library reports no device time)";
    o.push(`Device FPS: ${fmt(deviceFps)}${perCore}`);
    const cardList = [...cards.values()];
    o.push(
      `Card FPS:   ${fmt(cardTotal)}${
        cardList.length
          ? ` (modelled ${
            cardList.map((c) =>
              `${c.boardType} card: +${fmt(c.transferUs, 2)} us host transfer of ${c.transferBytes} bytes`
            )
              .join("; ")
          } per frame)`
          : " (the library reports no transfer time)"
      }`,
    );
    const hostKnown = hostUs.filter((u): u is number => u !== null);
    o.push(
      `Host FPS:   ${fmt(hostFps)}${
        hostKnown.length
          ? ` (${fmt(hostKnown.reduce((a, b) => a + b, 0) / hostKnown.length, 2)} us host time per run in the library)`
          : " (from the measured run calls)"
      }`,
    );
    o.push(`System FPS: ${fmt(systemFps)}`);
    o.push(
      `Latency:    p50 ${fmt(lat.p50, 3)} ms, p90 ${fmt(lat.p90, 3)} ms, p99 ${fmt(lat.p99, 3)} ms (min ${
        fmt(lat.min, 3)
      }, mean ${fmt(lat.mean, 3)}, max ${fmt(lat.max, 3)})`,
    );
    out(o.join("\n") + "\n");
    if (args.boolean("show-histogram")) out("\nLatency histogram:\n" + formatHistogram(latencies));
    if (recorder && deviceProfiling) out("\nDevice time by op:\n" + formatOpSummary(recorder.opSummary()));
    if (recorder && hostProfiling) {
      const rows = recorder.hostSummary();
      out(
        "\nHost time by span:\n" + rows.map((r) =>
          `  ${r.name.padEnd(24)} ${String(r.count).padStart(9)} ${r.totalUs.toFixed(1).padStart(14)} us`
        ).join("\n") + "\n",
      );
    }
    if (tracePath !== undefined) {
      out(
        `\nTrace: ${tracePath} (${recorder!.runs} runs${
          recorder!.dropped ? `, spans of the first ${recorder!.runs - recorder!.dropped}` : ""
        }); open it in https://ui.perfetto.dev or chrome://tracing\n`,
      );
    }
    return ExitCode.ok;
  } finally {
    for (const fb of fdBuffers) fb.close();
  }
}
