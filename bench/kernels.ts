/**
 * Benchmarks of the WASM kernels against Axelera's numpy recipe (timed in a python3 process,
 * bench/numpy_peer.py) and against plain TypeScript loops, plus the copy bandwidth that
 * bounds them (`TypedArray.set` over 8 MiB).
 *
 * - quantize_pad_640: f32 1x640x640x3 -> int8 1x642x656x4, padding [(0,0),(1,1),(1,15),(0,1)],
 *   zp -128, scale 0.003919653594493866.
 * - depad_dequant_yolo: int8 1x80x80x64 (padded from 1x80x80x60) -> f32 1x80x80x60.
 * - copy_bandwidth: Uint8Array.set of 8 MiB (gbps = bytes read + written per second).
 * "_arrays" rows pass JavaScript-heap typed arrays (copied in and out of WASM memory);
 * the others pass WasmBuffers (the zero-copy path the runtime uses).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { allocate, depadDequantize, quantizePad } from "../kernels/mod.ts";
import { type BenchRow, medianMs, row } from "./row.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PY_SITE = join(ROOT, ".tools", "py");
const SCALE = 0.003919653594493866;
const ZP = -128;

/**
 * The rows this module prints (bench/main.ts skips it when `--filter` matches none).
 *
 * @example
 * ```ts
 * import { benchRows } from "./kernels.ts";
 * console.log(benchRows.join(", "));
 * ```
 */
export const benchRows: readonly string[] = [
  "copy_bandwidth",
  "quantize_pad_640",
  "quantize_pad_640_arrays",
  "depad_dequant_yolo",
  "depad_dequant_yolo_arrays",
];

let numpyReady: string | true | undefined;

/** Makes numpy importable (installing it from PyPI into .tools/py if missing); true or why not. */
function ensureNumpy(): string | true {
  if (numpyReady !== undefined) return numpyReady;
  const env = { ...process.env, PYTHONPATH: PY_SITE };
  const probe = spawnSync("python3", ["-c", "import numpy"], { env });
  if (probe.error) return (numpyReady = `python3 not found (${probe.error.message})`);
  if (probe.status !== 0) {
    console.error("[bench] installing numpy from PyPI into .tools/py");
    const pip = spawnSync("python3", [
      "-m",
      "pip",
      "install",
      "--quiet",
      "--disable-pip-version-check",
      "--root-user-action=ignore",
      "--target",
      PY_SITE,
      "numpy",
    ], { stdio: ["ignore", "inherit", "inherit"] });
    if (pip.status !== 0) return (numpyReady = "pip install numpy failed");
  }
  return (numpyReady = true);
}

/**
 * Median milliseconds of the numpy recipe for `bench` (see bench/numpy_peer.py), or NaN.
 *
 * @example
 * ```ts
 * import { numpyMs } from "./kernels.ts";
 * console.log(numpyMs("copy_bandwidth"));
 * ```
 */
export function numpyMs(bench: string): number {
  const ok = ensureNumpy();
  if (ok !== true) {
    console.error(`[bench] numpy peer unavailable: ${ok}`);
    return NaN;
  }
  const r = spawnSync("python3", [join(ROOT, "bench", "numpy_peer.py"), bench], {
    env: { ...process.env, PYTHONPATH: PY_SITE },
    encoding: "utf8",
  });
  if (r.status !== 0) {
    console.error(`[bench] numpy_peer.py ${bench} failed: ${r.stderr}`);
    return NaN;
  }
  return JSON.parse(r.stdout.trim().split("\n").pop()!).ms;
}

function rneQ(v: number): number {
  if (v !== v) return ZP;
  let r = Math.round(v);
  if (r - v === 0.5 && (r & 1) !== 0) r--;
  r += ZP;
  return r < -128 ? -128 : r > 127 ? 127 : r;
}

/** Plain TypeScript quantize + pad of the quantize_pad_640 case. */
function tsQuantizePad640(x: Float32Array, out: Int8Array): void {
  out.fill(ZP);
  for (let h = 0; h < 640; h++) {
    for (let w = 0; w < 640; w++) {
      const i = (h * 640 + w) * 3;
      const o = ((h + 1) * 656 + w + 1) * 4;
      out[o] = rneQ(Math.fround(x[i] / SCALE));
      out[o + 1] = rneQ(Math.fround(x[i + 1] / SCALE));
      out[o + 2] = rneQ(Math.fround(x[i + 2] / SCALE));
    }
  }
}

/** Plain TypeScript depad + dequantize of the depad_dequant_yolo case. */
function tsDepadDequantYolo(q: Int8Array, y: Float32Array, scale: number): void {
  for (let p = 0; p < 6400; p++) {
    for (let c = 0; c < 60; c++) y[p * 60 + c] = (q[p * 64 + c] - ZP) * scale;
  }
}

/**
 * Runs the kernel benchmarks in this runtime and returns their rows.
 *
 * @example
 * ```ts
 * import { runKernels } from "./kernels.ts";
 * for (const r of await runKernels()) console.log(JSON.stringify(r));
 * ```
 */
export function runKernels(opts: { numpy?: boolean } = {}): Promise<BenchRow[]> {
  const withNumpy = opts.numpy ?? true;
  const rows: BenchRow[] = [];
  const peer = (name: string) => (withNumpy ? numpyMs(name) : NaN);

  // copy_bandwidth
  const MiB8 = 8 * 1024 * 1024;
  const a = new Uint8Array(MiB8).map((_, i) => i * 31), b = new Uint8Array(MiB8);
  const copyMs = medianMs(() => b.set(a));
  const copyRow = row("copy_bandwidth", copyMs, "numpy_copyto", peer("copy_bandwidth"), 2 * MiB8);
  rows.push(copyRow);
  const ofCopy = (r: BenchRow) => {
    if (r.gbps && copyRow.gbps) r.note = `${Math.round((100 * r.gbps) / copyRow.gbps)}% of copy bandwidth`;
    return r;
  };

  // quantize_pad_640
  const shape = [1, 640, 640, 3], padding: [number, number][] = [[0, 0], [1, 1], [1, 15], [0, 1]];
  const nIn = 640 * 640 * 3, nOut = 642 * 656 * 4, qpBytes = 4 * nIn + nOut;
  const x = new Float32Array(nIn);
  for (let i = 0; i < nIn; i++) x[i] = ((i * 2654435761) >>> 0) / 4294967296;
  const xw = allocate(4 * nIn), qw = allocate(nOut);
  xw.f32().set(x);
  const qpMs = medianMs(() => quantizePad(xw, shape, padding, SCALE, ZP, qw, "int8"));
  const qpNumpy = peer("quantize_pad_640");
  rows.push(ofCopy(row("quantize_pad_640", qpMs, "numpy", qpNumpy, qpBytes)));
  const qt = new Int8Array(nOut);
  const tsMs = medianMs(() => tsQuantizePad640(x, qt), { minRuns: 10 });
  rows.push(ofCopy(row("quantize_pad_640", qpMs, "ts_loop", tsMs, qpBytes)));
  const qa = new Int8Array(nOut);
  const qpArraysMs = medianMs(() => quantizePad(x, shape, padding, SCALE, ZP, qa));
  rows.push(row("quantize_pad_640_arrays", qpArraysMs, "numpy", qpNumpy, qpBytes, "typed arrays copied in/out"));
  // The plain loop must agree with the kernel (a benchmark of wrong code is worthless).
  for (let i = 0; i < nOut; i++) {
    if (qt[i] !== qa[i]) throw new Error(`bench: ts_loop and kernel differ at ${i}: ${qt[i]} vs ${qa[i]}`);
  }
  xw.free();
  qw.free();

  // depad_dequant_yolo
  const yScale = 0.0625, pshape = [1, 80, 80, 64], ypad: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 4]];
  const qn = 80 * 80 * 64, yn = 80 * 80 * 60, ddBytes = qn + 4 * yn;
  const q = new Int8Array(qn).map((_, i) => (i * 40503) & 0xff);
  const qwb = allocate(qn), ywb = allocate(4 * yn);
  qwb.i8().set(q);
  const ddMs = medianMs(() => depadDequantize(qwb, pshape, ypad, yScale, ZP, ywb, "int8"));
  const ddNumpy = peer("depad_dequant_yolo");
  rows.push(ofCopy(row("depad_dequant_yolo", ddMs, "numpy", ddNumpy, ddBytes)));
  const yt = new Float32Array(yn);
  rows.push(
    ofCopy(row("depad_dequant_yolo", ddMs, "ts_loop", medianMs(() => tsDepadDequantYolo(q, yt, yScale)), ddBytes)),
  );
  const ya = new Float32Array(yn);
  const ddArraysMs = medianMs(() => depadDequantize(q, pshape, ypad, yScale, ZP, ya));
  rows.push(row("depad_dequant_yolo_arrays", ddArraysMs, "numpy", ddNumpy, ddBytes, "typed arrays copied in/out"));
  for (let i = 0; i < yn; i++) {
    if (yt[i] !== ya[i]) throw new Error(`bench: ts_loop and kernel differ at ${i}: ${yt[i]} vs ${ya[i]}`);
  }
  qwb.free();
  ywb.free();
  // Rows whose peer could not run (numpy missing or --no-numpy) are left out.
  return Promise.resolve(rows.filter((r) => Number.isFinite(r.peer_ms)));
}
