/**
 * `axr compile MODEL.onnx -o DIR [--calibration DIR|FILE] [--input-shape SPEC]...`:
 * the compiler's command line (called by cli/compile.ts as `compileMain(args)`).
 *
 * @example
 * ```ts
 * import { compileMain } from "./compiler/cli.ts";
 * const code = await compileMain(["cls.onnx", "-o", "build/cls", "--input-shape", "1,3,48,192"]);
 * ```
 * @module
 */
import { existsSync } from "node:fs";
import process from "node:process";
import { basename, extname, join } from "node:path";
import { compileOnnx } from "./compile.ts";
import { CompileError } from "./graph.ts";
import type { CalibrationMethod } from "./calibrate.ts";

/** The usage text of `axr compile`. @example `console.log(COMPILE_USAGE)` */
export const COMPILE_USAGE = `Usage: axr compile MODEL.onnx [-o DIR] [flags]

Compiles a float ONNX model into a model directory for the device: static int8
quantization (per-channel symmetric weights, per-tensor activations calibrated
with min/max), BatchNorm and activation folding, preamble/postamble cut.

Flags:
  -o, --output DIR        output directory (default build/<model name>)
  --calibration PATH      calibration data: a .npy/.f32/.bin/.json file or a directory of them
                          (float32 samples of the model input, NCHW, already preprocessed)
  --samples N             random calibration samples when no --calibration (default 8)
  --calibration-method M  minmax (default), mean (mean of per-sample min/max) or percentile
                          (0.01%/99.99% per sample)
  --calibrator C          auto (default: onnxruntime-node when installed), onnxruntime or typescript
  --input-shape SPEC      static input shape: "1,3,48,192" (first input) or "name:1,3,48,192";
                          repeat for several inputs
  --name NAME             model name in model.json (default: the directory name)
  -q, --quiet             no progress output
  -h, --help              this text

Exit codes: 0 ok, 1 compile error (names the node and the reason), 2 usage error,
3 the model file does not exist.`;

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
    if (!m) throw new CompileError(`--input-shape ${spec}: expected "1,3,224,224" or "name:1,3,224,224"`);
    const dims = m[2].split(/[,x ]+/).filter(Boolean).map(Number);
    if (dims.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new CompileError(`--input-shape ${spec}: dimensions must be positive integers`);
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
  let model: string | undefined, outDir: string | undefined, calibration: string | undefined, name: string | undefined;
  let samples = 8, quiet = false;
  let method: CalibrationMethod = "minmax";
  let calibrator: "auto" | "onnxruntime" | "typescript" = "auto";
  const shapes: string[] = [];
  let parsedShapes: Record<string, number[]> = {};
  try {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      const [flag, inline] = a.startsWith("--") && a.includes("=")
        ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
        : [a, undefined];
      const value = () => {
        if (inline !== undefined) return inline;
        if (i + 1 >= argv.length) throw new CompileError(`${flag} needs a value`);
        return argv[++i];
      };
      switch (flag) {
        case "-h":
        case "--help":
          io.out(COMPILE_USAGE + "\n");
          return 0;
        case "-o":
        case "--output":
          outDir = value();
          break;
        case "--calibration":
          calibration = value();
          break;
        case "--samples":
          samples = Number(value());
          if (!Number.isInteger(samples) || samples < 1) throw new CompileError("--samples must be a positive integer");
          break;
        case "--calibration-method": {
          const m = value();
          if (m !== "minmax" && m !== "mean" && m !== "percentile") {
            throw new CompileError(`--calibration-method ${m}: use minmax, mean or percentile`);
          }
          method = m;
          break;
        }
        case "--calibrator": {
          const c = value();
          if (c !== "auto" && c !== "onnxruntime" && c !== "typescript") {
            throw new CompileError(`--calibrator ${c}: use auto, onnxruntime or typescript`);
          }
          calibrator = c;
          break;
        }
        case "--input-shape":
          shapes.push(value());
          break;
        case "--name":
          name = value();
          break;
        case "-q":
        case "--quiet":
          quiet = true;
          break;
        default:
          if (a.startsWith("-")) throw new CompileError(`unknown flag ${a}`);
          if (model) throw new CompileError(`one model at a time (got ${model} and ${a})`);
          model = a;
      }
    }
    if (!model) throw new CompileError("no model given");
    parsedShapes = parseInputShapes(shapes);
  } catch (e) {
    err(`axr compile: ${(e as Error).message}\n\n${COMPILE_USAGE}\n`);
    return 2;
  }
  if (!existsSync(model)) {
    err(`axr compile: ${model}: no such file\n`);
    return 3; // the axr exit code for a missing file (docs/cli.md)
  }
  const t0 = Date.now();
  const progress = quiet
    ? undefined
    : (m: string) => err(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${m}\n`);
  try {
    const dir = outDir ?? join("build", basename(model, extname(model)));
    const res = await compileOnnx(model, dir, {
      calibration,
      randomSamples: samples,
      name,
      progress,
      inputShapes: parsedShapes,
      calibrationMethod: method,
      calibrator,
    });
    io.out(`${res.modelJson}\n`);
    return 0;
  } catch (e) {
    const msg = e instanceof CompileError ? e.message : (e as Error).stack ?? String(e);
    err(`axr compile: ${msg}\n`);
    return 1;
  }
}
