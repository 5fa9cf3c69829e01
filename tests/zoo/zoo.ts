/**
 * The model zoo test (docs/zoo.md): per model, three forms (float; onnxruntime
 * `quantize_static` QDQ; the same with the postamble excluded) prepared by prepare.py,
 * compiled by `compileOnnx`, run by `infer()` on the emulated device and judged against
 * onnxruntime (1 thread, ORT_DISABLE_ALL); and `infer()` timed against onnxruntime-node
 * (1 thread, all optimizations) on the QDQ form.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import * as ort from "onnxruntime-node";
import * as axr from "../../mod.ts";
import { compileOnnx } from "../../compiler/compile.ts";
import {
  argmaxRows,
  boxesAsEither,
  cosine,
  type Det,
  mapBoxes,
  type Out,
  type Paired,
  pairedComparison,
  yoloBoxes,
  zeroShare,
} from "./compare.ts";
import { CACHE, fetchModel, ROOT, type ZooModel } from "./models.ts";
import { checkOps, type PerOpSummary } from "./per_op.ts";
import { PY_PINS, pythonPath } from "../helpers/python.ts";

// onnxruntime's warnings about unused initializers of the QDQ models are noise here
ort.env.logLevel = "error";

/** Calibration seeds. */
export const CALIB_SEEDS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8];
/** Evaluation seeds of the QDQ forms' checks (different images from the calibration ones). */
export const EVAL_SEEDS: readonly number[] = [101, 102];
/**
 * Accuracy seeds: the images on which the float form is judged against quantize_static
 * (the evaluation images and 14 more, none of them a calibration image). Sixteen, so that
 * a difference of cosine between two quantizations of the same grids is measured against
 * its own image-to-image spread (docs/zoo.md, "accuracy").
 */
export const ACCURACY_SEEDS: readonly number[] = Array.from({ length: 16 }, (_, i) => 101 + i);

/** The three forms of a model. */
export const FORMS = ["float", "qdq", "nopost"] as const;
/** One of {@link FORMS}. */
export type Form = typeof FORMS[number];

function hashOf(...parts: (string | Uint8Array)[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex").slice(0, 16);
}

function writeF32(path: string, x: Float32Array): void {
  writeFileSync(path, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** A model's prepared forms and references in the cache. */
export interface Prepared {
  dir: string;
  calib: Float32Array[];
  eval: Float32Array[];
  /** The float form's accuracy images ({@link ACCURACY_SEEDS}). */
  acc: Float32Array[];
  postamble: string[];
}

/**
 * Fetches the model and makes its three forms and onnxruntime's references (prepare.py),
 * unless the cache has them for the same model, data, script and Python packages.
 *
 * @example
 * ```ts
 * const p = prepare(ZOO[0]);
 * ```
 */
export function prepare(m: ZooModel): Prepared {
  const onnx = fetchModel(m);
  const calib = CALIB_SEEDS.map((s) => m.sample(s, m.shape));
  const evalX = EVAL_SEEDS.map((s) => m.sample(s, m.shape));
  const acc = ACCURACY_SEEDS.map((s) => m.sample(s, m.shape));
  const here = join(ROOT, "tests", "zoo");
  const key = hashOf(
    m.source.sha256,
    JSON.stringify(m.shape),
    readFileSync(join(here, "prepare.py")),
    PY_PINS.join(),
    ...calib.map((x) => new Uint8Array(x.buffer)),
    ...evalX.map((x) => new Uint8Array(x.buffer)),
    ...acc.map((x) => new Uint8Array(x.buffer)),
  );
  const dir = join(CACHE, "prep", m.name);
  const done = join(dir, "done.json");
  if (existsSync(done)) {
    const d = JSON.parse(readFileSync(done, "utf8"));
    if (d.key === key) return { dir, calib, eval: evalX, acc, postamble: d.postamble };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "data"), { recursive: true });
  const files = (xs: Float32Array[], what: string) =>
    xs.map((x, i) => {
      const f = join(dir, "data", `${what}_${i}.f32`);
      writeF32(f, x);
      return f;
    });
  const spec = {
    onnx,
    input: m.input,
    shape: m.shape,
    calib: files(calib, "calib"),
    eval: files(evalX, "eval"),
    accuracy: files(acc, "acc"),
    out: dir,
    key,
  };
  writeFileSync(join(dir, "spec.json"), JSON.stringify(spec));
  console.error(`[zoo] ${m.name}: quantize_static and onnxruntime references (prepare.py)`);
  const r = spawnSync("python3", [join(here, "prepare.py"), join(dir, "spec.json")], {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, PYTHONPATH: pythonPath() },
  });
  if (r.status !== 0) throw new Error(`${m.name}: prepare.py failed (${r.status ?? r.signal})`);
  const d = JSON.parse(readFileSync(done, "utf8"));
  return { dir, calib, eval: evalX, acc, postamble: d.postamble };
}

let compilerHash: string | undefined;
function compilerSources(): string {
  if (compilerHash) return compilerHash;
  const parts: Uint8Array[] = [];
  for (const d of ["compiler", "onnx"]) {
    const walk = (p: string) => {
      for (const f of readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name < b.name ? -1 : 1)) {
        const q = join(p, f.name);
        if (f.isDirectory()) walk(q);
        else if (f.name.endsWith(".ts")) parts.push(new TextEncoder().encode(q), readFileSync(q));
      }
    };
    walk(join(ROOT, d));
  }
  return (compilerHash = hashOf(...parts));
}

/** A compiled form, or why it did not compile; with the compiler's messages. */
export interface Compiled {
  modelJson?: string;
  error?: string;
  log: string[];
}

/**
 * Compiles one form (cached by the form's bytes and the compiler's sources).
 *
 * @example
 * ```ts
 * const c = await compileForm(ZOO[0], prepare(ZOO[0]), "qdq");
 * ```
 */
export async function compileForm(m: ZooModel, p: Prepared, form: Form): Promise<Compiled> {
  const onnx = join(p.dir, `${form}.onnx`);
  const key = hashOf(readFileSync(onnx), compilerSources(), JSON.stringify(m.shape));
  const dir = join(CACHE, "build", m.name, form);
  const stamp = join(dir, "zoo-key.json");
  if (existsSync(stamp)) {
    const s = JSON.parse(readFileSync(stamp, "utf8"));
    if (s.key === key) return { modelJson: s.modelJson, error: s.error, log: s.log };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const log: string[] = [];
  let res: Compiled;
  try {
    const r = await compileOnnx(onnx, dir, {
      inputShapes: { [m.input]: m.shape },
      calibration: p.calib.map((x) => [x]),
      name: `${m.name}-${form}`,
      progress: (msg) => log.push(msg),
    });
    res = { modelJson: r.modelJson, log };
  } catch (e) {
    res = { error: `compile: ${(e as Error).message}`, log };
  }
  writeFileSync(stamp, JSON.stringify({ key, ...res }));
  return res;
}

interface RefOutputs {
  names: string[];
  /** onnxruntime ORT_DISABLE_ALL (the reference), per eval image. */
  outs: Out[][];
  /** onnxruntime ORT_ENABLE_ALL on the QDQ forms (its integer kernels), per eval image. */
  all?: Out[][];
  steps: Record<string, number | null>;
}

function refOutputs(p: Prepared, form: Form): RefOutputs {
  const dir = join(p.dir, "ref", form);
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const names: string[] = index.outputs;
  const read = (what: string) =>
    p.eval.map((_, k) =>
      names.map((n, i) => ({ data: readF32(join(dir, `${what}_${k}_${i}.bin`)), shape: index.shapes[n] as number[] }))
    );
  const all = form !== "float" && existsSync(join(dir, "all_0_0.bin")) ? read("all") : undefined;
  return { names, outs: read("out"), all, steps: index.steps ?? {} };
}

/** Runs a compiled model with infer() on inputs; outputs by name per input. */
function runOurs(modelJson: string, xs: Float32Array[]): Record<string, Out>[] {
  using ctx = new axr.Context();
  const model = ctx.loadModel(modelJson);
  using conn = ctx.deviceConnect();
  const inst = conn.loadModelInstance(model, { aipuCores: 1 });
  try {
    return xs.map((x) => {
      const o = inst.infer(x);
      return Object.fromEntries(
        Object.entries(o).map((
          [k, t],
        ) => [k, { data: Float32Array.from(t.data as Float32Array), shape: [...t.shape] }]),
      );
    });
  } finally {
    inst.release();
    model.release();
  }
}

function isProb(o: Out): boolean {
  const w = o.shape[o.shape.length - 1];
  if (w < 2) return false;
  for (let r = 0; r < o.data.length; r += w) {
    let s = 0;
    for (let i = 0; i < w; i++) {
      if (o.data[r + i] < 0) return false;
      s += o.data[r + i];
    }
    if (Math.abs(s - 1) > 1e-3) return false;
  }
  return true;
}

function detections(m: ZooModel, o: Out): Det[] {
  return m.kind === "yolo" ? yoloBoxes(o.data, o.shape) : mapBoxes(o.data, o.shape);
}

/** Top-1 decisions of a model's outputs (classifier, ctc, multi's probability outputs). */
function top1(m: ZooModel, outs: Out[]): number[] {
  const r: number[] = [];
  for (const o of outs) {
    if (m.kind === "classifier") r.push(argmaxRows(o.data, o.data.length)[0]);
    else if (m.kind === "ctc" || (m.kind === "multi" && isProb(o))) r.push(...argmaxRows(o.data, o.shape.at(-1)!));
  }
  return r;
}

/** The verdict on one form. */
export interface FormResult {
  form: Form;
  ok: boolean;
  /** Short figures (top-1, boxes, cosine...). */
  summary: string;
  /** Why it fails. */
  problems: string[];
  perOp?: PerOpSummary;
  /** The criteria one by one: "accuracy" (float form), "end-to-end" and "per-op" (QDQ forms). */
  checks: { criterion: string; ok: boolean; why: string }[];
}

function checkQdq(m: ZooModel, p: Prepared, form: Form, ours: Record<string, Out>[]): FormResult {
  const ref = refOutputs(p, form);
  const problems: string[] = [];
  const figs: string[] = [];
  let t1 = 0, t1n = 0, boxes = 0, split = 0;
  ref.outs.forEach((routs, k) => {
    const mine: Out[] = [];
    ref.names.forEach((name, i) => {
      const o = ours[k][name];
      if (!o) {
        problems.push(`output ${name} missing (infer() gave ${Object.keys(ours[k]).join(", ")})`);
        return;
      }
      if (o.data.length !== routs[i].data.length) {
        problems.push(`output ${name}: ${o.data.length} values, onnxruntime ${routs[i].data.length}`);
        return;
      }
      mine.push(o);
      const z = zeroShare(o.data), zr = zeroShare(routs[i].data);
      if (z > 0.5 && zr <= 0.5) {
        problems.push(`output ${name}: ${(100 * z).toFixed(1)}% exactly 0 (onnxruntime ${(100 * zr).toFixed(1)}%)`);
      }
      if (m.kind === "multi" && !isProb(routs[i])) {
        const step = ref.steps[name];
        let md = 0;
        for (let j = 0; j < o.data.length; j++) md = Math.max(md, Math.abs(o.data[j] - routs[i].data[j]));
        if (step && md > 2 * step) {
          problems.push(`output ${name}: max |diff| ${md.toPrecision(3)} > 2 steps (${(2 * step).toPrecision(3)})`);
        }
      }
    });
    if (mine.length !== routs.length) return;
    if (m.kind === "yolo" || m.kind === "textmap") {
      const step = ref.steps[ref.names[0]] ?? 0;
      const a = detections(m, routs[0]), b = detections(m, mine[0]);
      // where onnxruntime's two optimization levels give different boxes, either is its answer
      const c = ref.all ? detections(m, ref.all[k][0]) : undefined;
      boxes += a.length;
      const r = boxesAsEither(a, c, b, 2 * step);
      split += r.split;
      if (r.why) problems.push(`image ${k}: ${r.why}`);
    } else {
      const a = top1(m, routs), b = top1(m, mine);
      // where onnxruntime's two optimization levels disagree, either answer is onnxruntime's
      const c = ref.all ? top1(m, ref.all[k]) : a;
      t1n += a.length;
      const same = a.filter((v, i) => v === b[i]).length;
      const either = a.filter((v, i) => v === b[i] || (c[i] !== v && c[i] === b[i])).length;
      t1 += same;
      split += either - same;
      if (either !== a.length) problems.push(`image ${k}: top-1 differs at ${a.length - either} of ${a.length}`);
    }
  });
  if (t1n) figs.push(`top-1 ${t1}/${t1n}${split ? ` + ${split} where onnxruntime's levels disagree` : ""}`);
  if (m.kind === "yolo" || m.kind === "textmap") {
    figs.push(`${boxes} ref boxes${split ? `, ${split} where onnxruntime's levels disagree` : ""}`);
  }
  return {
    form,
    ok: problems.length === 0,
    summary: figs.join(", "),
    problems,
    checks: [{ criterion: "end-to-end", ok: problems.length === 0, why: problems[0] ?? "" }],
  };
}

function accuracy(problems: string[]): FormResult["checks"] {
  return [{ criterion: "accuracy", ok: problems.length === 0, why: problems[0] ?? "" }];
}

/** onnxruntime's outputs (ORT_DISABLE_ALL) of one form on the accuracy images. */
function accOutputs(p: Prepared, form: Form): { names: string[]; outs: Out[][] } {
  const dir = join(p.dir, "ref", form);
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const names: string[] = index.outputs;
  const outs = p.acc.map((_, k) =>
    names.map((n, i) => ({ data: readF32(join(dir, `acc_${k}_${i}.bin`)), shape: index.shapes[n] as number[] }))
  );
  return { names, outs };
}

const fmtDiff = (c: Paired) =>
  `${c.mean >= 0 ? "+" : ""}${c.mean.toExponential(1)} ± ${c.se.toExponential(1)}, ahead on ${c.wins}/${c.n}`;

/**
 * The float form against quantize_static on the accuracy images: per image the cosine to
 * the float model (mean over outputs), per decision (image, row) top-1 agreement with it;
 * each paired with the onnxruntime form (qdq or nopost) that does best on it. Fails when
 * ours is worse beyond 2 standard errors of the paired differences (`pairedComparison`).
 */
function checkFloat(m: ZooModel, p: Prepared, ours: Record<string, Out>[]): FormResult {
  const fl = accOutputs(p, "float");
  const problems: string[] = [];
  const score = (outs: Out[][]) => {
    const cos: number[] = [], agree: number[] = [];
    outs.forEach((o, k) => {
      cos.push(o.reduce((acc, t, i) => acc + cosine(t.data, fl.outs[k][i].data), 0) / o.length);
      const a = top1(m, fl.outs[k]), b = top1(m, o);
      for (const [i, v] of a.entries()) agree.push(v === b[i] ? 1 : 0);
    });
    return { cos, agree, meanCos: cos.reduce((x, y) => x + y, 0) / cos.length, hits: agree.filter((v) => v).length };
  };
  const fail = () => ({ form: "float" as const, ok: false, summary: "", problems, checks: accuracy(problems) });
  const mine: Out[][] = [];
  for (const [k, o] of ours.entries()) {
    const row: Out[] = [];
    for (const name of fl.names) {
      const want = fl.outs[k][row.length].data.length;
      if (!o[name]) {
        problems.push(`output ${name} missing (infer() gave ${Object.keys(o).join(", ")})`);
        return fail();
      }
      if (o[name].data.length !== want) {
        problems.push(`output ${name}: ${o[name].data.length} values, onnxruntime ${want}`);
        return fail();
      }
      row.push(o[name]);
    }
    mine.push(row);
  }
  const s = score(mine);
  const ortForms = (["qdq", "nopost"] as const).map((f) => ({ f, s: score(accOutputs(p, f).outs) }));
  const best = ortForms.reduce((a, b) => (b.s.meanCos > a.s.meanCos ? b : a));
  const bestT = ortForms.reduce((a, b) => (b.s.hits > a.s.hits ? b : a));
  const c = pairedComparison(s.cos, best.s.cos);
  const n = p.acc.length;
  if (c.worse) {
    problems.push(
      `cosine to the float model ${s.meanCos.toFixed(6)} < onnxruntime quantize_static (${best.f}) ${
        best.s.meanCos.toFixed(6)
      } on ${n} images, beyond 2 standard errors (paired ${fmtDiff(c)})`,
    );
  }
  const t = pairedComparison(s.agree, bestT.s.agree);
  if (s.agree.length && t.worse) {
    problems.push(
      `top-1 agreement with the float model ${s.hits}/${s.agree.length} < onnxruntime's (${bestT.f}) ${bestT.s.hits}` +
        `, beyond 2 standard errors (paired, ${t.wins} decisions only ours gets right, ${t.losses} only onnxruntime)`,
    );
  }
  const summary =
    `cos ${s.meanCos.toFixed(6)} vs ort ${best.s.meanCos.toFixed(6)} (${best.f}; ${n} images: ${fmtDiff(c)})` +
    (s.agree.length ? `, top-1 ${s.hits}/${s.agree.length} vs ort ${bestT.s.hits}` : "");
  return { form: "float", ok: problems.length === 0, summary, problems, checks: accuracy(problems) };
}

/**
 * Compiles, runs and judges one form.
 *
 * @example
 * ```ts
 * const r = await checkForm(ZOO[0], prepare(ZOO[0]), "qdq");
 * ```
 */
export async function checkForm(m: ZooModel, p: Prepared, form: Form, perOp = true): Promise<FormResult> {
  const criteria = form === "float" ? ["accuracy"] : perOp ? ["end-to-end", "per-op"] : ["end-to-end"];
  const failAll = (why: string): FormResult => ({
    form,
    ok: false,
    summary: "",
    problems: [why],
    checks: criteria.map((criterion) => ({ criterion, ok: false, why })),
  });
  const c = await compileForm(m, p, form);
  if (!c.modelJson) return failAll(c.error ?? "compile failed");
  let ours: Record<string, Out>[];
  try {
    ours = runOurs(c.modelJson, form === "float" ? p.acc : p.eval);
  } catch (e) {
    return failAll(`infer(): ${(e as Error).message}`);
  }
  const r = form === "float" ? checkFloat(m, p, ours) : checkQdq(m, p, form, ours);
  if (form !== "float" && perOp) {
    const s = checkOps(c.modelJson, join(p.dir, "ref", form), { name: m.input, shape: m.shape, data: p.eval[0] });
    r.perOp = s;
    r.summary += `${r.summary ? ", " : ""}ops ${s.checked - s.failed.filter((f) => f.n > 0).length}/${s.ops} exact${
      s.ties ? ` (${s.ties} float ties)` : ""
    }`;
    let why = "";
    if (s.failed.length) {
      const f = s.failed[0];
      why = `${s.failed.length} device ops fail; first: #${f.index} ${f.op} ${f.name}: ${f.problem}`;
      r.problems.unshift(why);
      r.ok = false;
    }
    r.checks.push({ criterion: "per-op", ok: !why, why });
  }
  return r;
}

/** Median ms of infer() and of onnxruntime-node (1 thread, all optimizations) on the QDQ form. */
export interface Speed {
  ours_ms: number;
  peer_ms: number;
}

/**
 * Times infer() on the compiled QDQ form against onnxruntime-node (1 thread, all graph
 * optimizations) on the same QDQ model and input.
 *
 * @example
 * ```ts
 * const s = await timeQdq(ZOO[0], prepare(ZOO[0]));
 * ```
 */
export async function timeQdq(m: ZooModel, p: Prepared, runs = 10): Promise<Speed | string> {
  const c = await compileForm(m, p, "qdq");
  if (!c.modelJson) return c.error ?? "compile failed";
  const x = p.eval[0];
  const median = (t: number[]) => [...t].sort((a, b) => a - b)[t.length >> 1];
  const session = await ort.InferenceSession.create(join(p.dir, "qdq.onnx"), {
    graphOptimizationLevel: "all",
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  const feeds = { [m.input]: new ort.Tensor("float32", x, m.shape) };
  using ctx = new axr.Context();
  const model = ctx.loadModel(c.modelJson);
  using conn = ctx.deviceConnect();
  const inst = conn.loadModelInstance(model, { aipuCores: 1 });
  // interleaved, so that a burst of load on the machine hits both sides alike
  const ours: number[] = [], peer: number[] = [];
  try {
    inst.infer(x);
    await session.run(feeds);
    for (let i = 0; i < runs; i++) {
      let t0 = performance.now();
      inst.infer(x);
      ours.push(performance.now() - t0);
      t0 = performance.now();
      await session.run(feeds);
      peer.push(performance.now() - t0);
    }
  } catch (e) {
    return `infer(): ${(e as Error).message}`;
  } finally {
    inst.release();
    model.release();
    await session.release();
  }
  return { ours_ms: median(ours), peer_ms: median(peer) };
}
