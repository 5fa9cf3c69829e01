/**
 * `axr compile MODEL.onnx -o DIR [--calibration DIR|FILE] [--input-shape SPEC]...`:
 * the compiler's command line, on the one CLI parser. The compiler itself
 * (compiler/compile.ts) is imported when the command runs, so `axr devices` never
 * loads it.
 *
 * @example
 * ```ts
 * import { compileMain } from "./compile.ts";
 * const code = await compileMain(["cls.onnx", "-o", "build/cls", "--input-shape", "1,3,48,192"]);
 * ```
 * @module
 */
import { existsSync } from "node:fs";
import process from "node:process";
import { basename, extname, join } from "node:path";
import { type CommandSpec, formatHelp, parseArgs, type ParsedArgs } from "./args.ts";
import { ExitCode, UsageError } from "./errors.ts";
import type { CalibrationMethod } from "../compiler/calibrate.ts";

/** One line for `axr --help`. */
export const compileSummary = "compile an ONNX model into a model directory for the device (compiler/)";

/**
 * The flags of `axr compile`, on the one CLI parser (cli/args.ts).
 *
 * @example
 * ```ts
 * console.log(compileSpec.flags.map((f) => f.name));
 * ```
 */
export const compileSpec: CommandSpec = {
  name: "compile",
  summary: "compile an ONNX model into a model directory for the device",
  positionals: [{ name: "MODEL.onnx", description: "a float or QDQ (quantize_static) ONNX model", required: true }],
  flags: [
    {
      name: "output",
      short: "o",
      type: "string",
      valueName: "DIR",
      description: "output directory (default build/<model name>)",
    },
    {
      name: "calibration",
      type: "string",
      valueName: "PATH",
      description: "calibration data: .npy/.f32/.bin/.json file or a directory of them (float32 NCHW, preprocessed)",
    },
    {
      name: "samples",
      type: "number",
      integer: true,
      min: 1,
      default: 8,
      valueName: "N",
      description: "random calibration samples when no --calibration (a last resort)",
    },
    {
      name: "calibration-method",
      type: "string",
      valueName: "M",
      choices: ["minmax", "mean", "percentile"],
      default: "minmax",
      description: "activation ranges: min/max, mean of per-sample min/max, or 0.01%/99.99% per sample",
    },
    {
      name: "calibrator",
      type: "string",
      valueName: "C",
      choices: ["auto", "onnxruntime", "typescript"],
      default: "auto",
      description: "who runs the float model on the calibration data (auto: onnxruntime-node when installed)",
    },
    {
      name: "input-shape",
      type: "string",
      multiple: true,
      valueName: "SPEC",
      description: 'static input shape: "1,3,48,192" (first input) or "name:1,3,48,192"',
    },
    {
      name: "name",
      type: "string",
      valueName: "NAME",
      description: "model name in model.json (default: the directory name)",
    },
    {
      name: "float-tail",
      type: "boolean",
      default: true,
      description: "float models: keep the ops after the last Conv/Gemm of each path float on the host, " +
        "except the clamps and pools right after the device part " +
        "(--no-float-tail: quantize them and run them on the device)",
    },
    { name: "quiet", short: "q", type: "boolean", description: "no progress output" },
  ],
  epilog: `Compiles an ONNX model into a model directory for the device: a QDQ model keeps its
quantization exactly; a float model is quantized statically (per-channel symmetric
weights, per-tensor activations calibrated on --calibration). The compile report
(report.json) lists what runs on the host and why.

Exit codes: 0 ok, 1 compile error (names the node and the reason), 2 usage error
(bad flags, or a dynamic input shape without --input-shape), 3 the model file does not exist.`,
};

/** The usage text of `axr compile`. @example `console.log(COMPILE_USAGE)` */
export const COMPILE_USAGE: string = formatHelp(compileSpec).trimEnd();

/**
 * Parses `--input-shape` specs into a map (the empty name means the first input).
 *
 * @example
 * ```ts
 * parseInputShapes(["x:1,3,48,192"]); // { x: [1, 3, 48, 192] }
 * ```
 */
export function parseInputShapes(specs: string[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const spec of specs) {
    const m = /^(?:([^:=]+)[:=])?([0-9]+(?:[,x ]+[0-9]+)*)$/.exec(spec.trim());
    if (!m) throw new UsageError(`--input-shape ${spec}: expected "1,3,224,224" or "name:1,3,224,224"`, "compile");
    const dims = m[2].split(/[,x ]+/).filter(Boolean).map(Number);
    if (dims.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new UsageError(`--input-shape ${spec}: dimensions must be positive integers`, "compile");
    }
    out[m[1] ?? ""] = dims;
  }
  return out;
}

/**
 * Runs `axr compile ARGS...`; returns the exit code (0 ok, 1 compile error, 2 usage).
 * Output goes to stdout/stderr, or to `io` when given.
 *
 * @example
 * ```ts
 * const code = await compileMain(["model.onnx", "-o", "build/model"]);
 * ```
 */
export async function compileMain(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  },
): Promise<number> {
  const err = io.err;
  let args: ParsedArgs;
  let parsedShapes: Record<string, number[]>;
  try {
    args = parseArgs(compileSpec, argv);
    if (args.help) {
      io.out(COMPILE_USAGE + "\n");
      return ExitCode.ok;
    }
    parsedShapes = parseInputShapes(args.strings("input-shape"));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`axr compile: ${(e as Error).message}\n\n${COMPILE_USAGE}\n`);
    return ExitCode.usage;
  }
  const model = args.positionals[0];
  const quiet = args.boolean("quiet");
  if (!existsSync(model)) {
    err(`axr compile: ${model}: no such file\n`);
    return ExitCode.file;
  }
  const t0 = Date.now();
  const progress = quiet
    ? undefined
    : (m: string) => err(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${m}\n`);
  const { compileOnnx } = await import("../compiler/compile.ts");
  const { CompileError } = await import("../compiler/graph.ts");
  try {
    const dir = args.string("output") ?? join("build", basename(model, extname(model)));
    const res = await compileOnnx(model, dir, {
      calibration: args.string("calibration"),
      randomSamples: args.number("samples"),
      name: args.string("name"),
      progress,
      inputShapes: parsedShapes,
      calibrationMethod: args.string("calibration-method") as CalibrationMethod,
      calibrator: args.string("calibrator") as "auto" | "onnxruntime" | "typescript",
      floatTail: args.boolean("float-tail"),
    });
    io.out(`${res.modelJson}\n`);
    return ExitCode.ok;
  } catch (e) {
    const msg = e instanceof CompileError ? e.message : (e as Error).stack ?? String(e);
    err(`axr compile: ${msg}\n`);
    // A dynamic input without --input-shape is a missing option: a usage error.
    return e instanceof CompileError && e.usage ? ExitCode.usage : ExitCode.runtime;
  }
}
