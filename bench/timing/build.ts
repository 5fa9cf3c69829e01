/**
 * Builds the timing networks (bench/timing/nets.ts) into compiled model directories with
 * `axr compile`, cached outside the repository in
 * `${XDG_CACHE_HOME:-$HOME/.cache}/axr-runtime/timing/<name>-<hash>/`, where the hash
 * covers the ONNX bytes, the calibration data, the compiler's sources (compiler/, onnx/
 * and cli/compile.ts) and `CACHE_VERSION` (a change to any of them rebuilds). Calibration: 4 deterministic samples per network (seeded
 * uniform values in [0, 1), the range of a preprocessed image), written as `.f32` files.
 * Compiled with `--no-float-tail`: every op on the device, as the published figures run.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { encodeOnnx } from "../../compiler/onnx_io.ts";
import type { TimingNet } from "./nets.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SAMPLES = 4;

/**
 * The cache directory of the timing networks.
 *
 * @example
 * ```ts
 * console.log(timingCacheDir()); // ~/.cache/axr-runtime/timing
 * ```
 */
export function timingCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "axr-runtime", "timing");
}

/**
 * Bumped to rebuild every cached network (e.g. when what the compile depends on moved
 * outside the hashed directories).
 */
const CACHE_VERSION = "2";
/** The sources `axr compile` runs: the compiler and the ONNX library it evaluates with. */
const COMPILER_DIRS = ["compiler", "onnx"];

function hashDir(h: ReturnType<typeof createHash>, dir: string, rel: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) hashDir(h, p, `${rel}/${e.name}`);
    else if (e.name.endsWith(".ts")) h.update(`${rel}/${e.name}`).update(readFileSync(p));
  }
}

function compilerHash(): string {
  const h = createHash("sha256").update(CACHE_VERSION);
  for (const d of COMPILER_DIRS) hashDir(h, join(ROOT, d), d);
  h.update(readFileSync(join(ROOT, "cli", "compile.ts")));
  return h.digest("hex");
}

function calibration(net: TimingNet): Float32Array[] {
  let s = 0x9e3779b9 ^ net.size;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  return Array.from({ length: SAMPLES }, () => {
    const d = new Float32Array(3 * net.size * net.size);
    for (let i = 0; i < d.length; i++) d[i] = next();
    return d;
  });
}

/** Where a network's compiled model lives (cached), whether or not it is built yet. */
export interface BuiltNet {
  /** The compiled model.json. */
  modelJson: string;
  /** True when it was compiled by this call. */
  compiled: boolean;
  /** Seconds the compile took (0 when cached). */
  seconds: number;
}

/**
 * The path of a network's compiled model.json in the cache, or undefined when it is not
 * built (for the current generator, calibration and compiler).
 *
 * @example
 * ```ts
 * const p = cachedModel(TIMING_NETS[0]);
 * ```
 */
export function cachedModel(net: TimingNet): string | undefined {
  const p = join(netDir(net).dir, "model", "model.json");
  return existsSync(p) ? p : undefined;
}

const onnxCache = new Map<string, Uint8Array>();

function netDir(net: TimingNet): { dir: string; onnx: Uint8Array; calib: Float32Array[] } {
  let onnx = onnxCache.get(net.name);
  if (!onnx) {
    onnx = encodeOnnx(net.build(), { name: net.name });
    onnxCache.set(net.name, onnx);
  }
  const calib = calibration(net);
  const h = createHash("sha256").update(onnx).update(compilerHash());
  for (const c of calib) h.update(new Uint8Array(c.buffer));
  return { dir: join(timingCacheDir(), `${net.name}-${h.digest("hex").slice(0, 12)}`), onnx, calib };
}

/**
 * Builds one network (ONNX file, calibration files, `axr compile`), unless cached.
 * Throws with the compiler's output when the compile fails.
 *
 * @example
 * ```ts
 * const { modelJson } = buildNet(TIMING_NETS[0], (m) => console.error(m));
 * ```
 */
export function buildNet(net: TimingNet, say: (m: string) => void = () => {}): BuiltNet {
  const { dir, onnx, calib } = netDir(net);
  const modelJson = join(dir, "model", "model.json");
  if (existsSync(modelJson)) return { modelJson, compiled: false, seconds: 0 };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, "calib"), { recursive: true });
  writeFileSync(join(tmp, `${net.name}.onnx`), onnx);
  calib.forEach((c, i) => writeFileSync(join(tmp, "calib", `${i}.f32`), new Uint8Array(c.buffer)));
  say(`compiling ${net.name} (${(onnx.length / 1e6).toFixed(1)} MB ONNX) with axr compile`);
  const t0 = performance.now();
  const deno = process.execPath;
  const r = spawnSync(deno, [
    "run",
    "-A",
    join(ROOT, "cli", "main.ts"),
    "compile",
    join(tmp, `${net.name}.onnx`),
    "-o",
    join(tmp, "model"),
    "--calibration",
    join(tmp, "calib"),
    "--name",
    net.name,
    // the whole network on the chip, as Axelera's published figures were measured (the
    // default keeps a float model's head after its last Conv, e.g. a detector's box
    // decode, float on the host)
    "--no-float-tail",
  ], { encoding: "utf8", maxBuffer: 64 << 20 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    throw new Error(`axr compile failed for ${net.name} (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  }
  for (const line of r.stderr.split("\n")) {
    if (/off the device|warning/.test(line)) say(`  ${net.name}: ${line.trim()}`);
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { modelJson, compiled: true, seconds };
}
