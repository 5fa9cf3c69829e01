/**
 * `deno task timing`: the timing model against Axelera's published throughput.
 *
 * Builds the timing networks (bench/timing/nets.ts, cached: bench/timing/build.ts), runs
 * each once on an emulated PCIe card (one core) and prints the modelled 4-core device FPS,
 * the modelled card FPS (device + host transfer over the card's link, as `axr run-model`'s
 * "Card FPS"), the published PCIe figure and the ratio card / published; a network
 * passes within 25%. Ends with `N passed, N failed`; exits 1 when any failed.
 *
 *   deno task timing [--only NAME,...] [--json]
 *   deno task timing --fit      also runs the fit of the constants (ffi/src/timing_fit.zig)
 *                               on the networks and prints its table
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as axr from "../../mod.ts";
import { cardFps } from "../../cli/card_fps.ts";
import { buildNet } from "./build.ts";
import { TIMING_NETS, type TimingNet } from "./nets.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** How close to the published figure a network must be to pass. */
export const TOLERANCE = 0.25;
/** Cores of one Metis chip. */
export const CORES = 4;

/** One network's modelled and published throughput. */
export interface TimingResult {
  name: string;
  published: string;
  /** The half of the set the constants were fitted on. */
  set: "fit" | "validate";
  /** Modelled device time of one inference on one core (us). */
  deviceUs: number;
  /** Modelled FPS of the 4-core chip. */
  deviceFps: number;
  /** Modelled FPS of the PCIe card (chip + host transfer). */
  modelledFps: number;
  /** Axelera's published PCIe FPS. */
  publishedFps: number;
  /** modelledFps / publishedFps. */
  ratio: number;
  /** Whether |ratio - 1| <= TOLERANCE. */
  pass: boolean;
}

/**
 * Runs one compiled timing network once on the first PCIe device (one core) and returns
 * its modelled figures.
 *
 * @example
 * ```ts
 * const r = timeNet(TIMING_NETS[0], "/path/to/model.json");
 * console.log(r.modelledFps, r.ratio);
 * ```
 */
export function timeNet(net: TimingNet, modelJson: string): TimingResult {
  using ctx = new axr.Context();
  const dev = ctx.listDevices().find((d) => d.boardType === axr.BoardType.pcie);
  if (!dev) throw new Error("no emulated PCIe device (AXR_EMU_DEVICES)");
  using model = ctx.loadModel(modelJson);
  using conn = ctx.deviceConnect(dev, 1);
  using inst = conn.loadModelInstance(model, { aipuCores: 1 });
  const inputs = model.inputs().map((t) => new Int8Array(t.size));
  const outputs = model.outputs().map((t) => new Int8Array(t.size));
  inst.run(inputs, outputs);
  const st = inst.stats();
  if (!st || !(st.lastDeviceUs > 0)) throw new Error(`${net.name}: the library reported no device time`);
  const deviceFps = (CORES * 1e6) / st.lastDeviceUs;
  const modelledFps = cardFps(deviceFps, Number(st.transferUs ?? 0));
  const ratio = modelledFps / net.pcieFps;
  return {
    name: net.name,
    published: net.published,
    set: net.fit ? "fit" : "validate",
    deviceUs: st.lastDeviceUs,
    deviceFps,
    modelledFps,
    publishedFps: net.pcieFps,
    ratio,
    pass: Math.abs(ratio - 1) <= TOLERANCE,
  };
}

function table(rows: TimingResult[]): string {
  const head = ["network", "set", "us/core", "device FPS", "card FPS", "published PCIe", "ratio", ""];
  const cells = rows.map((r) => [
    r.name,
    r.set,
    r.deviceUs.toFixed(1),
    r.deviceFps.toFixed(0),
    r.modelledFps.toFixed(0),
    String(r.publishedFps),
    r.ratio.toFixed(2),
    r.pass ? "ok" : "FAIL",
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (v: string[]) => v.map((s, i) => (i < 2 ? s.padEnd(w[i]) : s.padStart(w[i]))).join("  ").trimEnd();
  return [line(head), line(w.map((n) => "-".repeat(n))), ...cells.map(line)].join("\n");
}

function main(): number {
  const args = process.argv.slice(2);
  const oi = args.indexOf("--only");
  const only = oi >= 0 ? (args[oi + 1] ?? "").split(",").filter(Boolean) : [];
  const json = args.includes("--json");
  const nets = TIMING_NETS.filter((n) => only.length === 0 || only.includes(n.name));
  const say = (m: string) => console.error(`[timing] ${m}`);
  const results: TimingResult[] = [];
  const programs: string[] = [];
  let failed = 0;
  for (const net of nets) {
    let built;
    try {
      built = buildNet(net, say);
    } catch (e) {
      say(`${net.name}: ${(e as Error).message}`);
      failed++;
      continue;
    }
    if (built.compiled) say(`${net.name}: compiled in ${built.seconds.toFixed(1)} s`);
    programs.push(
      `${net.name}:${join(dirname(built.modelJson), "program.axp")}:${net.pcieFps}:${net.m2Fps}:${net.fit ? 1 : 0}`,
    );
    const r = timeNet(net, built.modelJson);
    results.push(r);
    if (json) console.log(JSON.stringify(r));
  }
  if (args.includes("--fit")) {
    const zig = spawnSync("zig", ["build", "timing-fit", "--", ...programs], {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
    });
    if (zig.status !== 0) say(`the fit tool failed (exit ${zig.status})`);
  }
  const passed = results.filter((r) => r.pass).length;
  failed += results.length - passed;
  if (!json) {
    console.log(
      `Modelled 4-core Metis (800 MHz) vs Axelera's published PCIe FPS; card FPS = device + host transfer; pass within ${
        TOLERANCE * 100
      }%\n`,
    );
    console.log(table(results));
    console.log("");
  }
  console.log(`timing: ${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) process.exit(main());
