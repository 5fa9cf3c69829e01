/**
 * The host side of a compiled model directory, read in one place: the names and
 * original (float) shapes of `manifest.json`, read once per model, and the
 * pre/postamble graphs. `infer()` (runtime/infer.ts) and `modelSignature()`
 * (runtime/signature.ts) both take them from here.
 *
 * A directory without `manifest.json` (a vendor's model directory) gets the
 * defaults: tensor names from the device and shapes from the device's NHWC
 * shapes. A `manifest.json` that exists but cannot be read or parsed is an
 * error naming the file, never silently replaced by defaults.
 *
 * Files named relative to the model directory are read through their real path,
 * which must stay inside the directory's real path (the native loader's rule,
 * docs/model-format.md "Files"): a symlink out of the directory is refused.
 *
 * @module
 */
import { readFileSync, realpathSync } from "node:fs";
import { isAbsolute, join, sep } from "node:path";
import { ResultCode } from "../ffi/native.ts";
import { OnnxGraph } from "../onnx/mod.ts";
import { InvalidArgument, invalidArgument, ValueError } from "./errors.ts";
import type { TensorInfo } from "./tensor_info.ts";

/** What the host files need of a model. */
export interface HostModel {
  /** The directory of model.json. */
  readonly directory: string;
  /** Device inputs (NHWC, padded) in model order. */
  inputs(): TensorInfo[];
  /** Device outputs in model order. */
  outputs(): TensorInfo[];
}

/** Names and original (float, usually NCHW) shapes of the device tensors. */
export interface HostTensors {
  /** Input names in model order. */
  readonly inputNames: readonly string[];
  /** Output names in model order. */
  readonly outputNames: readonly string[];
  /** Original input shapes (the float model's), in model order. */
  readonly inputShapes: readonly (readonly number[])[];
  /** Original output shapes, in model order. */
  readonly outputShapes: readonly (readonly number[])[];
}

interface ManifestKeys {
  input_names?: unknown;
  output_names?: unknown;
  input_shapes_original?: unknown;
  output_shapes_original?: unknown;
}

const cache = new WeakMap<HostModel, HostTensors>();

/** NHWC -> NCHW for 4-D shapes, others as they are. */
const nchw = (s: readonly number[]): number[] => (s.length === 4 ? [s[0], s[3], s[1], s[2]] : [...s]);

/**
 * The real path of `rel` in the model directory `dir`; InvalidArgument when it
 * resolves outside the directory (a symlink out of it). Errors of `realpathSync`
 * (ENOENT...) pass through.
 */
function realInside(dir: string, rel: string): string {
  const base = realpathSync(dir);
  const real = realpathSync(join(dir, rel));
  if (!real.startsWith(base === sep ? sep : base + sep)) {
    throw invalidArgument(
      "model directory",
      `${rel}: '${rel}' resolves to '${real}', outside the model directory '${base}': refused (symbolic links must stay inside the model directory)`,
    );
  }
  return real;
}

function readManifest(dir: string): ManifestKeys {
  const path = join(dir, "manifest.json");
  let text: string;
  try {
    text = readFileSync(realInside(dir, "manifest.json"), "utf8");
  } catch (e) {
    if (e instanceof InvalidArgument) throw e;
    if ((e as { code?: string }).code === "ENOENT") return {}; // a vendor directory: defaults
    throw new ValueError(
      `${path}: cannot read: ${(e as Error).message}`,
      ResultCode.valueError,
      String((e as Error).message),
    );
  }
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new ValueError(
      `${path}: not valid JSON: ${(e as Error).message}`,
      ResultCode.valueError,
      String((e as Error).message),
    );
  }
  if (typeof m !== "object" || m === null || Array.isArray(m)) {
    throw new ValueError(`${path}: expected a JSON object`, ResultCode.valueError, "expected a JSON object");
  }
  return m as ManifestKeys;
}

function names(path: string, key: string, v: unknown, n: number): (string | undefined)[] {
  if (v === undefined) return Array(n).fill(undefined);
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw new ValueError(
      `${path}: '${key}' must be a list of strings`,
      ResultCode.valueError,
      `'${key}' must be a list of strings`,
    );
  }
  return Array.from({ length: n }, (_, i) => v[i] as string | undefined);
}

function shapes(path: string, key: string, v: unknown, n: number): (number[] | undefined)[] {
  if (v === undefined) return Array(n).fill(undefined);
  const ok = Array.isArray(v) &&
    v.every((s) => Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0));
  if (!ok) {
    throw new ValueError(
      `${path}: '${key}' must be a list of shapes`,
      ResultCode.valueError,
      `'${key}' must be a list of shapes`,
    );
  }
  return Array.from({ length: n }, (_, i) => (v as number[][])[i]);
}

/**
 * The names and original shapes of a model's device tensors, from its
 * `manifest.json` (read once per model) or the defaults. Throws a ValueError
 * naming the file when `manifest.json` exists but is not valid.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const t = hostTensors(model);
 * console.log(t.inputNames[0], t.inputShapes[0]);
 * ```
 */
export function hostTensors(model: HostModel): HostTensors {
  const hit = cache.get(model);
  if (hit) return hit;
  const m = readManifest(model.directory);
  const path = join(model.directory, "manifest.json");
  const ins = model.inputs(), outs = model.outputs();
  const inNames = names(path, "input_names", m.input_names, ins.length);
  const outNames = names(path, "output_names", m.output_names, outs.length);
  const inShapes = shapes(path, "input_shapes_original", m.input_shapes_original, ins.length);
  const outShapes = shapes(path, "output_shapes_original", m.output_shapes_original, outs.length);
  const t: HostTensors = {
    inputNames: ins.map((x, i) => inNames[i] ?? (x.name || `input_${i}`)),
    outputNames: outs.map((x, i) => outNames[i] ?? (x.name || `output_${i}`)),
    inputShapes: ins.map((x, i) => inShapes[i] ?? nchw(x.unpaddedShape)),
    outputShapes: outs.map((x, i) => outShapes[i] ?? nchw(x.unpaddedShape)),
  };
  cache.set(model, t);
  return t;
}

/**
 * The pre- or postamble graph `rel` (relative to the model directory, or
 * absolute), or undefined when the model has none. A relative name must resolve
 * inside the model directory (InvalidArgument otherwise); an absolute one can
 * come only from the vendor's library, whose loader refuses none.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const post = loadHostGraph(model, model.properties.postambleGraph);
 * console.log(post?.outputs.map((v) => v.name));
 * ```
 */
export function loadHostGraph(model: { readonly directory: string }, rel: string | undefined): OnnxGraph | undefined {
  if (!rel) return undefined;
  const path = isAbsolute(rel) ? rel : realInside(model.directory, rel);
  return OnnxGraph.fromBytes(new Uint8Array(readFileSync(path)));
}
