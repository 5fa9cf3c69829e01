/**
 * `axr devices`: lists the devices like Axelera's `axdevice` (board type,
 * firmware versions, clock, per-core clocks, MVM utilisation, sub-devices in
 * use and by whom) and changes their configuration (`--set-clock`,
 * `--set-core-clock 0-1:800,2-3:400`, `--set-mvm-limitation 0-3:50`), waiting
 * until the device is ready.
 *
 * @module
 */
import { type CommandSpec, formatHelp, parseArgs } from "./args.ts";
import { parseCoreValues } from "./core_values.ts";
import { ExitCode, RuntimeFailure, UsageError } from "./errors.ts";
import { out } from "./output.ts";
import { loadRuntime, type Runtime } from "./runtime.ts";
import type { HostCpu } from "../runtime/context.ts";

/**
 * The flags of `axr devices`.
 *
 * @example
 * ```ts
 * import { formatHelp } from "./args.ts";
 * console.log(formatHelp(devicesSpec));
 * ```
 */
export const devicesSpec: CommandSpec = {
  name: "devices",
  summary: "list Metis devices and change their clocks and MVM utilisation (like axdevice)",
  positionals: [],
  flags: [
    {
      name: "device",
      type: "string",
      valueName: "N|NAME",
      description: "only this device (index or name, e.g. 0 or metis-0:1:0)",
    },
    {
      name: "set-clock",
      type: "number",
      integer: true,
      min: 1,
      valueName: "MHZ",
      description: "set the clock profile of every core (e.g. 100, 200, 400, 600, 700, 800)",
    },
    {
      name: "set-core-clock",
      type: "string",
      valueName: "CORES:MHZ",
      description: "set per-core clocks, e.g. 0-1:800,2-3:400",
    },
    {
      name: "set-mvm-limitation",
      type: "string",
      valueName: "[CORES:]PCT",
      description: "limit MVM utilisation (percent): one value for all cores or e.g. 0-1:50,2-3:100",
    },
    {
      name: "timeout",
      type: "number",
      min: 0,
      default: 10,
      valueName: "S",
      description: "how long to wait for a device to become ready after a change",
    },
    { name: "json", type: "boolean", description: "print the devices as JSON" },
  ],
  epilog: `Examples:
  axr devices
  axr devices --device 0 --set-clock 400
  axr devices --set-core-clock 0-1:800,2-3:400 --set-mvm-limitation 50

Exit codes: 0 ok, 1 device error, 2 bad flags (also: a value the device rejects).`,
};

/** What `axr devices --json` prints per device. */
export interface DeviceReport {
  /** Index in listDevices(). */
  index: number;
  /** Device name ("metis-0:1:0"). */
  name: string;
  /** Board type name ("pcie", "m2", ...). */
  boardType: string;
  /** Firmware version. */
  firmwareVersion: string;
  /** Firmware stored in flash. */
  flashedFirmwareVersion: string;
  /** Board controller firmware version. */
  boardControllerFirmwareVersion: string;
  /** Board controller board type. */
  boardControllerBoardType: string;
  /** Board revision. */
  boardRevision: number;
  /** Sub-devices (AIPU cores). */
  subdeviceCount: number;
  /** Device memory in bytes (0 if unknown). */
  maxMemory: number;
  /** Sub-devices in use. */
  inUse: number;
  /** "user:pid,..." of the processes using it. */
  inUseBy: string;
  /** Device clock profile (MHz). */
  clockMhz: number | undefined;
  /** Per-core clocks (MHz). */
  coreClocksMhz: (number | undefined)[];
  /** Per-core MVM utilisation (percent). */
  mvmUtilisation: (number | undefined)[];
  /** Every configuration key the device reported. */
  configuration: Record<string, string>;
  /** The host CPU level the emulator's kernels run at (libaxr only; see docs/emulator.md "CPU levels"). */
  hostCpu?: HostCpu;
}

/** Reads a field of a DeviceInfo whichever naming the API uses. */
function field(dev: unknown, camel: string, snake: string): unknown {
  const d = dev as Record<string, unknown>;
  return d[camel] !== undefined ? d[camel] : d[snake];
}

function toNum(v: unknown): number | undefined {
  if (v === undefined || v === null || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function boardTypeName(rt: Runtime, v: unknown): string {
  if (typeof v === "string") return v;
  const table = (rt as { BoardType?: Record<string, unknown> }).BoardType;
  if (table) {
    for (const [k, n] of Object.entries(table)) if (n === v) return k.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
  }
  return String(v);
}

/**
 * Builds the report of one device from its DeviceInfo and configuration.
 *
 * @example
 * ```ts
 * import * as rt from "@axelera/runtime";
 * using ctx = new rt.Context();
 * const [dev] = ctx.listDevices();
 * const r = deviceReport(rt, 0, dev, ctx.readDeviceConfiguration(dev));
 * ```
 */
export function deviceReport(
  rt: Runtime,
  index: number,
  dev: unknown,
  config: Record<string, string>,
  hostCpu?: HostCpu,
): DeviceReport {
  const subdevices = toNum(field(dev, "subdeviceCount", "subdevice_count")) ?? 4;
  const cores = Array.from({ length: Math.max(subdevices, 1) }, (_, i) => i);
  return {
    index,
    name: String(field(dev, "name", "name") ?? ""),
    boardType: boardTypeName(rt, field(dev, "boardType", "board_type")),
    firmwareVersion: String(field(dev, "firmwareVersion", "firmware_version") ?? ""),
    flashedFirmwareVersion: String(field(dev, "flashedFirmwareVersion", "flashed_firmware_version") ?? ""),
    boardControllerFirmwareVersion: String(
      field(dev, "boardControllerFirmwareVersion", "board_controller_firmware_version") ?? "",
    ),
    boardControllerBoardType: String(field(dev, "boardControllerBoardType", "board_controller_board_type") ?? ""),
    boardRevision: toNum(field(dev, "boardRevision", "board_revision")) ?? 0,
    subdeviceCount: subdevices,
    maxMemory: toNum(field(dev, "maxMemory", "max_memory")) ?? 0,
    inUse: Number(field(dev, "inUse", "in_use") ?? 0) || 0,
    inUseBy: String(field(dev, "inUseBy", "in_use_by") ?? ""),
    clockMhz: toNum(config.clock_profile),
    coreClocksMhz: cores.map((c) => toNum(config[`clock_profile_core_${c}`] ?? config.clock_profile)),
    mvmUtilisation: cores.map((c) => toNum(config[`mvm_utilisation_core_${c}`])),
    configuration: config,
    ...(hostCpu ? { hostCpu } : {}),
  };
}

/**
 * The text lines of one device, first line in axdevice's shape:
 * `Device 0: metis-0:1:0 board_type=pcie fwver=v1.2.0 clock=800MHz`.
 *
 * @example
 * ```ts
 * import * as rt from "@axelera/runtime";
 * using ctx = new rt.Context();
 * const [dev] = ctx.listDevices();
 * const report = deviceReport(rt, 0, dev, ctx.readDeviceConfiguration(dev));
 * console.log(formatDevice(report));
 * ```
 */
export function formatDevice(r: DeviceReport): string {
  const u = (v: number | undefined, unit: string) => (v === undefined ? "?" : `${v}${unit}`);
  const lines = [
    `Device ${r.index}: ${r.name} board_type=${r.boardType} fwver=${r.firmwareVersion || "?"} clock=${
      u(r.clockMhz, "MHz")
    }`,
    `  cores:           ${r.coreClocksMhz.map((c, i) => `${i}:${u(c, "MHz")}`).join(" ")}`,
    `  mvm utilisation: ${r.mvmUtilisation.map((c, i) => `${i}:${u(c, "%")}`).join(" ")}`,
    `  sub-devices:     ${r.subdeviceCount}, in use: ${r.inUse}${r.inUse && r.inUseBy ? ` by ${r.inUseBy}` : ""}`,
    `  board_revision=${r.boardRevision} flashed_fwver=${r.flashedFirmwareVersion || "?"} bc_fwver=${
      r.boardControllerFirmwareVersion || "?"
    } bc_board_type=${r.boardControllerBoardType || "?"}` +
    (r.maxMemory ? ` max_memory=${r.maxMemory}` : ""),
  ];
  if (r.hostCpu) {
    const h = r.hostCpu;
    lines.push(
      `  host cpu:        ${h.error ? `refused: ${h.error}` : `${h.level} kernels (this CPU: ${h.levels.join(", ")})`}`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * Picks devices by `--device` (index or name); all when undefined. Throws
 * {@link UsageError} listing the devices when nothing matches.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * selectDevices(ctx.listDevices(), "metis-0:1:0");
 * ```
 */
export function selectDevices<T>(
  devices: T[],
  which: string | undefined,
  command = "devices",
): { index: number; dev: T }[] {
  const all = devices.map((dev, index) => ({ index, dev }));
  if (which === undefined) return all;
  const names = all.map((d) => `${d.index} (${String(field(d.dev, "name", "name"))})`).join(", ");
  const picked = all.filter((d) =>
    String(field(d.dev, "name", "name")) === which || (/^\d+$/.test(which) && d.index === Number(which))
  );
  if (picked.length === 0) {
    throw new UsageError(`--device ${which}: no such device (devices: ${names || "none"})`, command);
  }
  return picked;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Runs `axr devices` with the arguments after the subcommand; returns the exit code.
 *
 * @example
 * ```ts
 * const code = await devicesMain(["--device", "0", "--set-clock", "400"]);
 * ```
 */
export async function devicesMain(argv: string[]): Promise<number> {
  const args = parseArgs(devicesSpec, argv);
  if (args.help) {
    out(formatHelp(devicesSpec));
    return ExitCode.ok;
  }
  const options: Record<string, number> = {};
  const clock = args.number("set-clock");
  if (clock !== undefined) options.clockProfile = clock;
  const coreClock = args.string("set-core-clock");
  if (coreClock !== undefined) {
    for (const [c, v] of parseCoreValues(coreClock, "--set-core-clock")) options[`clockProfileCore${c}`] = v;
  }
  const mvm = args.string("set-mvm-limitation");
  if (mvm !== undefined) {
    for (const [c, v] of parseCoreValues(mvm, "--set-mvm-limitation")) {
      if (v > 100) throw new UsageError(`--set-mvm-limitation: ${v} is above 100 percent`, "devices");
      options[`mvmUtilisationCore${c}`] = v;
    }
  }
  const timeoutS = args.number("timeout") ?? 10;

  const rt = await loadRuntime();
  using ctx = new rt.Context();
  let selected = selectDevices(ctx.listDevices(), args.string("device"));

  if (Object.keys(options).length) {
    const pending: typeof selected = [];
    for (const s of selected) {
      let done: boolean;
      try {
        done = ctx.configureDevice(s.dev, options);
      } catch (e) {
        if (e instanceof rt.InvalidConfiguration || e instanceof rt.InvalidArgument) {
          throw new UsageError(
            `device ${String(field(s.dev, "name", "name"))} rejected the configuration: ${(e as Error).message}`,
            "devices",
          );
        }
        throw e;
      }
      if (!done) pending.push(s);
    }
    const deadline = Date.now() + timeoutS * 1000;
    let waiting = pending;
    while (waiting.length) {
      waiting = waiting.filter((s) => !ctx.deviceReady(s.dev));
      if (!waiting.length) break;
      if (Date.now() > deadline) {
        const names = waiting.map((s) => String(field(s.dev, "name", "name"))).join(", ");
        throw new RuntimeFailure(`device ${names} not ready after ${timeoutS} s`);
      }
      await sleep(10);
    }
    // Re-read: the listing below shows the new values.
    selected = selectDevices(ctx.listDevices(), args.string("device"));
  }

  const hostCpu = (ctx as { hostCpu?: () => HostCpu | undefined }).hostCpu?.();
  const reports = selected.map((s) => deviceReport(rt, s.index, s.dev, ctx.readDeviceConfiguration(s.dev), hostCpu));
  if (args.boolean("json")) {
    out(JSON.stringify(reports, null, 2) + "\n");
  } else if (reports.length === 0) {
    out("no devices\n");
  } else {
    out(reports.map(formatDevice).join(""));
  }
  return ExitCode.ok;
}
