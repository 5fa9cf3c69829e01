/**
 * Calibration: runs the float graph (compiler/float_ops.ts; compiler/calibrate_ort.ts does
 * the same in onnxruntime) on calibration samples and
 * records, for every tensor, its range (by default the [min, max] seen over all samples;
 * see `CalibrationMethod`). Activation quantization parameters come from these ranges
 * (compiler/quantize.ts).
 *
 * Samples come from `--calibration DIR|FILE`: `.npy` (float32, C order), `.f32`/`.bin`
 * (raw little-endian float32 of exactly the input size), or `.json` (nested number
 * arrays); a directory is read in name order. Without calibration data, seeded uniform
 * random samples in [0, 1) are used (and a warning says so).
 *
 * @example
 * ```ts
 * import { calibrate, loadCalibration } from "./compiler/calibrate.ts";
 * const ranges = calibrate(graph, loadCalibration("calib/", graph), (i, n) => console.log(i, n));
 * ```
 * @module
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { runNode } from "./evaluate.ts";
import { CompileError, type Const, constant, type Graph, numel } from "./graph.ts";

/** Range of a tensor over the calibration samples. @example `const r: Range = { min: -1, max: 3 }` */
export interface Range {
  min: number;
  max: number;
}

/** One calibration sample: a float32 array per graph input (in graph input order). @example `const s: Sample = [new Float32Array(3 * 8 * 8)]` */
export type Sample = Float32Array[];

function parseNpy(bytes: Uint8Array, what: string): Float32Array {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (!magic.every((b, i) => bytes[i] === b)) throw new CompileError(`${what}: not a .npy file`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new CompileError(`${what}: Fortran order is not supported`);
  const data = bytes.subarray(hstart + hlen);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (descr) {
    case "<f4":
      return Float32Array.from({ length: data.length / 4 }, (_, i) => dv.getFloat32(4 * i, true));
    case "<f8":
      return Float32Array.from({ length: data.length / 8 }, (_, i) => dv.getFloat64(8 * i, true));
    case "|u1":
      return Float32Array.from(data);
    default:
      throw new CompileError(`${what}: dtype ${descr} is not supported (use float32)`);
  }
}

function readSampleFile(path: string): Float32Array {
  const ext = extname(path).toLowerCase();
  const bytes = new Uint8Array(readFileSync(path));
  if (ext === ".npy") return parseNpy(bytes, path);
  if (ext === ".json") {
    return Float32Array.from((JSON.parse(new TextDecoder().decode(bytes)) as unknown[]).flat(Infinity) as number[]);
  }
  if (ext === ".f32" || ext === ".bin" || ext === ".raw") {
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  throw new CompileError(`${path}: unknown calibration file type (use .npy, .f32/.bin or .json)`);
}

/**
 * Seeded uniform random samples in [lo, hi) for every graph input.
 *
 * @example
 * ```ts
 * const samples = randomSamples(graph, 8, 0, 1);
 * ```
 */
export function randomSamples(g: Graph, count: number, lo = 0, hi = 1, seed = 12345): Sample[] {
  let a = seed >>> 0;
  const rand = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from(
    { length: count },
    () => g.inputs.map((i) => Float32Array.from({ length: numel(i.shape as number[]) }, () => lo + (hi - lo) * rand())),
  );
}

/**
 * Reads calibration samples from a file or a directory (one file per sample when the
 * graph has one input; with several inputs, files are taken in groups, in name order).
 * A file may hold several samples back to back (a batch), split by the input size.
 *
 * @example
 * ```ts
 * const samples = loadCalibration("calib/", graph);
 * ```
 */
export function loadCalibration(path: string, g: Graph): Sample[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path).filter((f) => /\.(npy|f32|bin|raw|json)$/i.test(f)).sort().map((f) => join(path, f))
    : [path];
  if (!files.length) throw new CompileError(`${path}: no calibration files (.npy, .f32, .bin, .json)`);
  const sizes = g.inputs.map((i) => numel(i.shape as number[]));
  const arrays: Float32Array[] = [];
  for (const f of files) {
    const data = readSampleFile(f);
    const size = sizes[arrays.length % sizes.length];
    if (data.length % size !== 0) {
      throw new CompileError(`${f}: ${data.length} values, not a multiple of the input size ${size}`);
    }
    for (let o = 0; o < data.length; o += size) arrays.push(data.slice(o, o + size));
  }
  const samples: Sample[] = [];
  for (let k = 0; k + sizes.length <= arrays.length; k += sizes.length) samples.push(arrays.slice(k, k + sizes.length));
  return samples;
}

/**
 * How activation ranges are derived from the calibration runs:
 * - `minmax`: the smallest and largest value seen over all samples (default);
 * - `mean`: the mean over samples of each sample's min and max (less sensitive to one
 *   outlier sample);
 * - `percentile`: per sample, the 0.01% and 99.99% percentiles; then the extremes of those.
 *
 * @example
 * ```ts
 * const m: CalibrationMethod = "percentile";
 * ```
 */
export type CalibrationMethod = "minmax" | "mean" | "percentile";

function sampleRange(data: Float32Array | Float64Array, method: CalibrationMethod): Range {
  if (method === "percentile" && data.length >= 1000) {
    const sorted = Float32Array.from(data).sort();
    const k = Math.floor(sorted.length * 1e-4);
    return { min: sorted[k], max: sorted[sorted.length - 1 - k] };
  }
  let lo = Infinity, hi = -Infinity;
  for (const v of data) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return { min: lo, max: hi };
}

/**
 * Accumulates per-tensor ranges over calibration samples by a `CalibrationMethod`.
 *
 * @example
 * ```ts
 * const rc = new RangeCollector("minmax");
 * rc.note("x", new Float32Array([-1, 2]));
 * rc.ranges(1).get("x"); // { min: -1, max: 2 }
 * ```
 */
export class RangeCollector {
  #all = new Map<string, Range>();
  #sums = new Map<string, Range>();
  #seen = new Map<string, Range>();
  constructor(readonly method: CalibrationMethod = "minmax") {}
  /** Records one sample's values of a tensor. */
  note(name: string, data: Float32Array | Float64Array): void {
    const r0 = sampleRange(data, this.method);
    const m0 = this.method === "minmax" ? r0 : sampleRange(data, "minmax");
    const m = this.#seen.get(name);
    this.#seen.set(name, m ? { min: Math.min(m.min, m0.min), max: Math.max(m.max, m0.max) } : m0);
    const r = this.#all.get(name);
    this.#all.set(name, r ? { min: Math.min(r.min, r0.min), max: Math.max(r.max, r0.max) } : r0);
    const s = this.#sums.get(name);
    this.#sums.set(name, s ? { min: s.min + r0.min, max: s.max + r0.max } : { ...r0 });
  }
  /** The smallest and largest value seen of every tensor, whatever the method (what a range may clip). */
  observed(): Map<string, Range> {
    return new Map(this.#seen);
  }
  /** The ranges after `samples` samples. */
  ranges(samples: number): Map<string, Range> {
    if (this.method !== "mean") return new Map(this.#all);
    return new Map([...this.#sums].map(([k, s]) => [k, { min: s.min / samples, max: s.max / samples }]));
  }
}

function checkSample(g: Graph, sample: Sample, k: number): void {
  g.inputs.forEach((inp, i) => {
    if (!sample[i] || sample[i].length !== numel(inp.shape as number[])) {
      throw new CompileError(
        `calibration sample ${k}: input ${inp.name} has ${sample[i]?.length ?? 0} values, expected ${
          numel(inp.shape as number[])
        }`,
      );
    }
  });
}

/**
 * Runs the float graph on every sample (the `onnx/ops` float semantics); returns the range
 * of every non-constant float tensor by the method, the plain min/max seen (`observed`),
 * and every tensor's value for the last sample.
 *
 * @example
 * ```ts
 * const { ranges } = calibrate(graph, randomSamples(graph, 4));
 * ranges.get("conv1_out"); // { min: -3.2, max: 5.1 }
 * ```
 */
export function calibrate(
  g: Graph,
  samples: Sample[],
  progress?: (done: number, total: number) => void,
  method: CalibrationMethod = "minmax",
): { ranges: Map<string, Range>; values: Map<string, Const>; observed: Map<string, Range> } {
  const rc = new RangeCollector(method);
  let values = new Map<string, Const>();
  samples.forEach((sample, k) => {
    checkSample(g, sample, k);
    values = new Map<string, Const>(g.consts);
    g.inputs.forEach((inp, i) => {
      values.set(inp.name, constant(inp.shape as number[], sample[i], "float32"));
      rc.note(inp.name, sample[i]);
    });
    for (const n of g.nodes) {
      const outs = runNode(n, n.inputs.map((i) => (i === "" ? undefined : values.get(i))), false, g.opset);
      n.outputs.forEach((o, j) => {
        if (!outs[j]) return;
        values.set(o, outs[j]);
        if (outs[j].dtype === "float32") rc.note(o, outs[j].data);
      });
    }
    progress?.(k + 1, samples.length);
  });
  return { ranges: rc.ranges(samples.length), values, observed: rc.observed() };
}
