/**
 * Postamble bench: our ONNX graph runner vs onnxruntime-node (1 intra-op thread, all graph
 * optimizations) on the same graphs and inputs, outputs compared (max relative difference
 * below 1e-3). Graphs: a classifier postamble (Softmax over 1000 classes), a YOLOv8-style
 * detection head (bench/make_yolo_head.ts), and `postamble_<model>`: the `postamble.onnx`
 * of every compiled real model of the demo and the tests (see {@link COMPILED}), compiled
 * once into build/bench/ (skipped when the PaddleOCR assets are not installed), and
 * `postamble_zoo_<model>`: the postamble of every zoo model's compiled QDQ form, as the zoo
 * bench compiled it (read from the zoo's cache; skipped until `deno task zoo` or the zoo
 * bench has prepared it).
 *
 * @example
 * ```sh
 * deno run -A bench/postamble.ts      # or: bun bench/postamble.ts
 * ```
 * ```ts
 * import { postambleBench } from "./postamble.ts";
 * console.table(await postambleBench());
 * ```
 * @module
 */
import process from "node:process";
import { encodeModel, makeModel, makeNode, OnnxGraph, type Tensor, valueInfo } from "../onnx/mod.ts";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { makeYoloHead, yoloHeadInputs } from "./make_yolo_head.ts";
import { type BenchModel, compiledModel } from "./models.ts";
import { pairedMedianMs } from "./row.ts";
import { CACHE as ZOO_CACHE, ZOO } from "../tests/zoo/models.ts";

/**
 * The compiled models whose postambles are benched (row `postamble_<name>`): the demo's
 * text detector (640x320, examples/demo.ts), the detector as tests/compiler_ocr.test.ts
 * compiles it (96x96) and as the emulator bench does (640x640), and the classifier
 * (Softmax postamble). Input shapes are NCHW as compiled.
 */
export const COMPILED: readonly BenchModel[] = [
  { bench: "postamble_ocr_det_640x320", file: "ch_PP-OCRv4_det_infer.onnx", shape: [1, 3, 320, 640], runs: 0 },
  { bench: "postamble_ocr_det_640x640", file: "ch_PP-OCRv4_det_infer.onnx", shape: [1, 3, 640, 640], runs: 0 },
  { bench: "postamble_ocr_det_96x96", file: "ch_PP-OCRv4_det_infer.onnx", shape: [1, 3, 96, 96], runs: 0 },
  { bench: "postamble_ocr_cls_192x48", file: "ch_ppocr_mobile_v2.0_cls_infer.onnx", shape: [1, 3, 48, 192], runs: 0 },
];

/**
 * The rows this module prints (bench/main.ts skips it when `--filter` matches none).
 *
 * @example
 * ```ts
 * import { benchRows } from "./postamble.ts";
 * console.log(benchRows.join(", "));
 * ```
 */
export const benchRows: readonly string[] = [
  "classifier_softmax1000",
  "yolov8_head_640",
  ...COMPILED.map((m) => m.bench),
  ...ZOO.map((m) => `postamble_zoo_${m.name}`),
];

/** One bench row. @example `{ bench: "softmax1000", runtime: "deno", ours_ms: 0.01, peer: "onnxruntime-node", peer_ms: 0.02, ratio: 2 }` */
export interface Row {
  bench: string;
  runtime: "deno" | "bun";
  ours_ms: number;
  peer: "onnxruntime-node";
  peer_ms: number;
  ratio: number;
  note?: string;
}

// deno-lint-ignore no-explicit-any
type Ort = any;

async function loadOrt(): Promise<Ort> {
  const spec = "Deno" in globalThis ? "npm:onnxruntime-node" : "onnxruntime-node";
  const m = await import(spec);
  return m.InferenceSession ? m : m.default;
}

function randomInputs(specs: { name: string; shape: number[] }[], seed = 1): Record<string, Tensor> {
  let s = seed;
  const rnd = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 8 - 4;
  const out: Record<string, Tensor> = {};
  for (const sp of specs) {
    const n = sp.shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    for (let i = 0; i < n; i++) d[i] = rnd();
    out[sp.name] = { data: d, shape: sp.shape, dtype: "float32" };
  }
  return out;
}

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / (1e-3 + Math.abs(b[i])));
  return m;
}

async function benchOne(
  ort: Ort,
  name: string,
  bytes: Uint8Array,
  feeds: Record<string, Tensor>,
  runtime: Row["runtime"],
  qdq = false,
): Promise<Row> {
  const g = OnnxGraph.fromBytes(bytes);
  const sess = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const ortFeeds: Record<string, unknown> = {};
  for (const [k, t] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor("float32", t.data, t.shape);
  const ours = g.run(feeds), theirs = await sess.run(ortFeeds);
  let worst = 0;
  for (const o of g.outputs) {
    const d = maxRelDiff(ours[o.name].data as Float32Array, theirs[o.name].data as Float32Array);
    worst = Math.max(worst, d);
    // QDQ graphs: a value one rounding away from a quantization step lands on the other step
    if (!(d < 1e-3) && !qdq) {
      throw new Error(`${name}: output ${o.name} differs from onnxruntime-node (max relative diff ${d})`);
    }
  }
  // the zoo's large QDQ postambles take hundreds of ms a call: fewer pairs
  const slow = performance.now();
  g.run(feeds);
  const few = performance.now() - slow > 200;
  const [oursMs, peerMs] = await pairedMedianMs(() => g.run(feeds), () => sess.run(ortFeeds), {
    warmup: few ? 1 : 5,
    minRuns: few ? 3 : 10,
    minMs: 1200,
  });
  await sess.release?.();
  const row: Row = {
    bench: name,
    runtime,
    ours_ms: oursMs,
    peer: "onnxruntime-node",
    peer_ms: peerMs,
    ratio: peerMs / oursMs,
  };
  const notes = qdq ? [`QDQ graph; max relative difference to onnxruntime-node ${worst.toPrecision(2)}`] : [];
  // fused nodes that ran node by node (same bits, slower): where a kernel path did not apply
  if (g.fallbacks.size) notes.push(`node by node: ${[...g.fallbacks.keys()].join(", ")}`);
  if (notes.length) row.note = notes.join("; ");
  return row;
}

/**
 * Runs the postamble rows under the current runtime; with `filter`, only the rows whose name
 * contains it.
 *
 * @example
 * ```ts
 * import { postambleBench } from "./postamble.ts";
 * const rows = await postambleBench({ filter: "softmax" });
 * ```
 */
export async function postambleBench(opts: { filter?: string } = {}): Promise<Row[]> {
  const wanted = (name: string) => name.includes(opts.filter ?? "");
  const runtime: Row["runtime"] = "Bun" in globalThis ? "bun" : "deno";
  const ort = await loadOrt();
  const softmax = encodeModel(makeModel({
    nodes: [makeNode("Softmax", ["logits"], ["probs"], { axis: -1 })],
    inputs: [valueInfo("logits", "float32", [1, 1000])],
    outputs: [valueInfo("probs", "float32", [1, 1000])],
  }));
  const rows: Row[] = [];
  if (wanted("classifier_softmax1000")) {
    const logits = randomInputs([{ name: "logits", shape: [1, 1000] }]);
    rows.push(await benchOne(ort, "classifier_softmax1000", softmax, logits, runtime));
  }
  if (wanted("yolov8_head_640")) {
    rows.push(
      await benchOne(ort, "yolov8_head_640", encodeModel(makeYoloHead()), randomInputs(yoloHeadInputs()), runtime),
    );
  }
  for (const m of COMPILED) {
    if (!wanted(m.bench)) continue;
    // the emulator bench compiles the 640x640 detector under its own name: reuse it
    const modelJson = m.shape[2] === 640 && m.shape[3] === 640
      ? await compiledModel({ bench: "emulator_det", file: m.file, shape: m.shape, runs: 0 })
      : await compiledModel(m);
    const post = modelJson && join(dirname(modelJson), "postamble.onnx");
    if (!post || !existsSync(post)) {
      console.error(`[bench] ${m.bench}: no compiled postamble (PaddleOCR assets missing?)`);
      continue;
    }
    const bytes = new Uint8Array(readFileSync(post));
    const g = OnnxGraph.fromBytes(bytes);
    const specs = g.inputs.map((i) => ({ name: i.name, shape: (i.shape ?? []).map((d) => Number(d)) }));
    rows.push(await benchOne(ort, m.bench, bytes, randomInputs(specs), runtime));
  }
  for (const m of ZOO) {
    if (!wanted(`postamble_zoo_${m.name}`)) continue;
    const post = join(ZOO_CACHE, "build", m.name, "qdq", "postamble.onnx");
    if (!existsSync(post)) {
      console.error(`[bench] postamble_zoo_${m.name}: not compiled yet (run deno task zoo)`);
      continue;
    }
    const bytes = new Uint8Array(readFileSync(post));
    const g = OnnxGraph.fromBytes(bytes);
    const specs = g.inputs.map((i) => ({ name: i.name, shape: (i.shape ?? []).map((d) => Number(d)) }));
    rows.push(await benchOne(ort, `postamble_zoo_${m.name}`, bytes, randomInputs(specs), runtime, true));
  }
  return rows;
}

if ((import.meta as { main?: boolean }).main) {
  const rows = await postambleBench();
  for (const r of rows) console.log(JSON.stringify(r));
  process.exit(0);
}
