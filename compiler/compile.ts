/**
 * The compiler pipeline: simplify -> calibrate -> cut and lower -> write the compiled
 * model directory (model.json, manifest.json, program.axp, and the preamble/postamble
 * and quantized-core ONNX files when an ONNX writer is given).
 *
 * @example
 * ```ts
 * import { compileGraph } from "./compiler/compile.ts";
 * const result = compileGraph(graph, "build/tiny", { inputShapes: { x: [1, 3, 32, 32] } });
 * console.log(result.modelJson, result.offDevice);
 * ```
 * @module
 */
import {
  calibrate,
  type CalibrationMethod,
  loadCalibration,
  randomSamples,
  type Range,
  type Sample,
} from "./calibrate.ts";
import { calibrateWithOnnxRuntime } from "./calibrate_ort.ts";
import { CompileError, type Graph } from "./graph.ts";
import { lower, type LowerResult } from "./lower.ts";
import { type Program, writeModelDirectory } from "./program.ts";
import { simplify } from "./simplify.ts";
import { decodeOnnx, encodeOnnx, modelFromGraph } from "./onnx_io.ts";
import { supportedOps } from "../onnx/ops/registry.ts";
import { programToGraph } from "./qonnx.ts";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type CompileReport, compileReport } from "./report.ts";

/**
 * The quantized core of a lowering as ONNX bytes (compiler/qonnx.ts): int8/uint8 NHWC
 * inputs and outputs, runs bit-exactly like the device in onnxruntime with graph
 * optimizations disabled.
 *
 * @example
 * ```ts
 * const bytes = encodeQuantizedCore(compileGraph(graph, "build/m").lowered.program);
 * ```
 */
export function encodeQuantizedCore(program: Program): Uint8Array {
  const g = programToGraph(program);
  return encodeOnnx(g, { outputTypes: g.types, name: "quantized_core" });
}

/**
 * Options of a compilation.
 *
 * @example
 * ```ts
 * const o: CompileOptions = { inputShapes: { x: [1, 3, 48, 192] }, calibration: "calib/", progress: console.log };
 * ```
 */
export interface CompileOptions {
  /** Static shapes for inputs with symbolic dimensions. */
  inputShapes?: Record<string, number[]>;
  /** Calibration data: a file or directory (see compiler/calibrate.ts), or samples. */
  calibration?: string | Sample[];
  /** Which executor calibrates `compileOnnx` (default "auto": onnxruntime-node when importable). */
  calibrator?: "auto" | "onnxruntime" | "typescript";
  /** How ranges are taken from the calibration runs (default "minmax"). */
  calibrationMethod?: CalibrationMethod;
  /** Number of random samples when no calibration data is given (default 8). */
  randomSamples?: number;
  /** Model name in model.json (default: the directory name). */
  name?: string;
  /** Progress and notes (long steps report as they go). */
  progress?: (message: string) => void;
  /** Channel padding multiples of device inputs (default 4) and outputs (default 16). */
  inputChannelMultiple?: number;
  outputChannelMultiple?: number;
  /** Float models: keep the ops after the last Conv/Gemm of each path float on the host, except the clamps and pools right after the device part (`floatTail` in device_rules.ts; default true). */
  floatTail?: boolean;
  /** Encodes a float subgraph (pre/postamble) as ONNX bytes (default: `encodeOnnx` of compiler/onnx_io.ts). */
  encodeGraph?: (g: Graph) => Uint8Array;
  /** Encodes the quantized core as ONNX bytes (default: `encodeQuantizedCore`); null: not written. */
  encodeQuantized?: ((program: Program) => Uint8Array) | null;
}

/**
 * The outcome of a compilation.
 *
 * @example
 * ```ts
 * const r: CompileResult = compileGraph(graph, "build/m");
 * r.lowered.program.json.ops.length;
 * ```
 */
export interface CompileResult {
  modelJson: string;
  lowered: LowerResult;
  /** Nodes kept off the device, with the reason. */
  offDevice: Map<string, string>;
  /** The compile report (also written as compile_report.txt). */
  report: CompileReport;
}

function samplesFor(g: Graph, options: CompileOptions, say: (m: string) => void): Sample[] {
  if (Array.isArray(options.calibration)) return options.calibration;
  if (typeof options.calibration === "string") return loadCalibration(options.calibration, g);
  const n = options.randomSamples ?? 8;
  say(
    `WARNING: no calibration data: calibrating on ${n} uniform random samples in [0, 1). Random calibration is a ` +
      `last resort: ranges that real inputs exceed are clipped and the compiled model can give wrong answers. ` +
      `Give --calibration with real, preprocessed inputs.`,
  );
  return randomSamples(g, n);
}

function finish(
  g: Graph,
  ranges: Map<string, Range>,
  observed: Map<string, Range>,
  outDir: string,
  options: CompileOptions,
  say: (m: string) => void,
): CompileResult {
  const lowered = lower(g, ranges, {
    inputChannelMultiple: options.inputChannelMultiple,
    outputChannelMultiple: options.outputChannelMultiple,
    floatTail: options.floatTail,
  });
  const report = compileReport(g, observed, lowered);
  for (const l of report.lines) if (!l.startsWith("quantized: ")) say(l);
  for (const w of report.warnings) say(w);
  say(`device program: ${lowered.program.json.ops.length} ops, ${lowered.program.data.length} bytes of data`);
  // the runtime runs pre/postambles with the host graph runner (onnx/): say what it lacks
  const hostOps = new Set(supportedOps());
  for (const [what, sub] of [["preamble", lowered.preamble], ["postamble", lowered.postamble]] as const) {
    if (!sub) continue;
    const missing = [...new Set(modelFromGraph(sub).graph.nodes.map((n) => n.opType).filter((op) => !hostOps.has(op)))];
    if (missing.length) {
      say(
        `warning: the host graph runner (onnx/) has no ${missing.join(", ")}: the runtime cannot run this ${what} yet`,
      );
    }
  }
  const name = options.name ?? outDir.split(/[\\/]/).filter(Boolean).pop() ?? "model";
  const enc = options.encodeGraph ?? ((sub: Graph) => encodeOnnx(sub));
  const encQ = options.encodeQuantized === undefined ? encodeQuantizedCore : options.encodeQuantized;
  const modelJson = writeModelDirectory(outDir, {
    name,
    program: lowered.program,
    preamble: lowered.preamble ? enc(lowered.preamble) : undefined,
    postamble: lowered.postamble ? enc(lowered.postamble) : undefined,
    quantized: encQ ? encQ(lowered.program) : undefined,
    manifest: {
      inputNames: lowered.inputs.map((i) => i.name),
      outputNames: lowered.outputs.map((o) => o.name),
      inputShapesOriginal: lowered.inputs.map((i) => i.shape),
      outputShapesOriginal: lowered.outputs.map((o) => o.shape),
    },
  });
  writeFileSync(join(outDir, "compile_report.txt"), [...report.lines, ...report.warnings].join("\n") + "\n");
  say(`wrote ${modelJson} (the quantized tensors and their ranges: compile_report.txt)`);
  return { modelJson, lowered, offDevice: lowered.offDevice, report };
}

/**
 * Compiles a float graph into a model directory (calibration with the TypeScript executor).
 *
 * @example
 * ```ts
 * compileGraph(graph, "build/tiny", { calibration: "calib/" });
 * ```
 */
export function compileGraph(g: Graph, outDir: string, options: CompileOptions = {}): CompileResult {
  const say = options.progress ?? (() => {});
  say(`simplifying ${g.nodes.length} nodes`);
  simplify(g, options.inputShapes ?? {});
  say(`${g.nodes.length} nodes after folding constants, batch norms and activation patterns`);
  const samples = samplesFor(g, options, say);
  const method = options.calibrationMethod ?? "minmax";
  const { ranges, observed } = calibrate(g, samples, (i, n) => say(`calibration ${i}/${n} (${method})`), method);
  return finish(g, ranges, observed, outDir, options, say);
}

/**
 * Compiles an ONNX model (a path or its bytes) into a model directory. Calibration runs
 * the model in onnxruntime-node when it can be imported (`calibrator: "auto"`, the
 * default), else with the TypeScript executor.
 *
 * @example
 * ```ts
 * await compileOnnx("cls.onnx", "build/cls", { inputShapes: { x: [1, 3, 48, 192] }, calibration: "calib/" });
 * ```
 */
export async function compileOnnx(
  model: string | Uint8Array,
  outDir: string,
  options: CompileOptions = {},
): Promise<CompileResult> {
  let bytes: Uint8Array;
  try {
    bytes = typeof model === "string" ? new Uint8Array(readFileSync(model)) : model;
  } catch (e) {
    throw new CompileError(`cannot read ${model}: ${(e as Error).message}`);
  }
  const say = options.progress ?? (() => {});
  say(`reading ${typeof model === "string" ? model : "ONNX bytes"} (${(bytes.length / 1e6).toFixed(1)} MB)`);
  const g = decodeOnnx(bytes);
  say(
    `${g.nodes.length} nodes, opset ${g.opset}, inputs ${
      g.inputs.map((i) => `${i.name}${JSON.stringify(i.shape)}`).join(", ")
    }`,
  );
  say(`simplifying ${g.nodes.length} nodes`);
  simplify(g, options.inputShapes ?? {});
  say(`${g.nodes.length} nodes after folding constants, batch norms and activation patterns`);
  const samples = samplesFor(g, options, say);
  const method = options.calibrationMethod ?? "minmax";
  let cal: { ranges: Map<string, Range>; observed: Map<string, Range> } | undefined;
  if ((options.calibrator ?? "auto") !== "typescript") {
    cal = await calibrateWithOnnxRuntime(
      bytes,
      g,
      samples,
      (i, n) => say(`calibration ${i}/${n} (${method}, onnxruntime)`),
      method,
    );
    if (!cal && options.calibrator === "onnxruntime") {
      throw new CompileError("onnxruntime-node is not available for calibration");
    }
  }
  cal ??= calibrate(g, samples, (i, n) => say(`calibration ${i}/${n} (${method})`), method);
  return finish(g, cal.ranges, cal.observed, outDir, options, say);
}
