/**
 * Per-op check of a compiled QDQ model: every device op, fed onnxruntime's own int8 values
 * of its inputs (the QuantizeLinear outputs of the QDQ model, run with ORT_DISABLE_ALL),
 * runs in the reference executor of the format (tests/fixtures/reference.ts, bit-exact
 * with the emulator) and its int8 output is compared with onnxruntime's. Tensors the
 * compiler made itself (no QuantizeLinear in the model) take the value the previous op
 * computed from reference inputs.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isFloatTie } from "./ties.ts";
import { bufferSize, loadProgram, type RefProgram, type RefTensor, rne, runProgram } from "../fixtures/reference.ts";

/** One QuantizeLinear of the QDQ model as prepare.py recorded it. */
export interface QEntry {
  file: string;
  input: string;
  q: string;
  dq: string[];
  scale: number;
  zero_point: number;
  dtype: string;
  shape: number[];
}

/** The result of one op's check. */
export interface OpResult {
  index: number;
  op: string;
  name: string;
  /** Elements compared, equal, float ties among the others (tests/zoo/ties.ts), and the largest difference in steps. */
  n: number;
  equal: number;
  ties: number;
  maxDiff: number;
  /** Why it fails (empty when it passes). */
  problem: string;
}

/** The summary over a program. */
export interface PerOpSummary {
  ops: number;
  checked: number;
  failed: OpResult[];
  /** Ops whose output has no reference tensor (compiler-made tensors). */
  unchecked: number;
  /** Output elements that differ by one step at a float tie (tests/zoo/ties.ts), over all ops. */
  ties: number;
}

function toDevice(e: QEntry, raw: Int8Array | Uint8Array, t: RefTensor): Int32Array | string {
  const s = e.shape;
  let want: number[];
  if (s.length === 4) want = [s[0], s[2], s[3], s[1]];
  else if (s.length === 3) want = [s[0], 1, s[1], s[2]];
  else if (s.length === 2) want = [s[0], 1, 1, s[1]];
  else if (s.length === 1) want = [1, 1, 1, s[0]];
  else return `onnxruntime shape ${JSON.stringify(s)} has no device layout`;
  if (want.join() !== t.shape.join()) {
    return `device shape ${JSON.stringify(t.shape)} is not onnxruntime's ${JSON.stringify(s)} in NHWC`;
  }
  const out = new Int32Array(raw.length);
  if (s.length === 4) {
    const [n, c, h, w] = s;
    for (let b = 0; b < n; b++) {
      for (let k = 0; k < c; k++) {
        for (let i = 0; i < h * w; i++) out[(b * h * w + i) * c + k] = raw[(b * c + k) * h * w + i];
      }
    }
  } else out.set(raw);
  return out;
}

function padded(t: RefTensor, v: Int32Array): Int8Array {
  const pd = t.padding, s = t.shape;
  const ps = s.map((d, i) => d + pd[i][0] + pd[i][1]);
  const out = new Int8Array(bufferSize(t)).fill(t.zero_point << 24 >> 24);
  let o = 0;
  for (let n = 0; n < s[0]; n++) {
    for (let h = 0; h < s[1]; h++) {
      for (let w = 0; w < s[2]; w++) {
        for (let c = 0; c < s[3]; c++) {
          out[(((n + pd[0][0]) * ps[1] + h + pd[1][0]) * ps[2] + w + pd[2][0]) * ps[3] + c + pd[3][0]] = v[o++];
        }
      }
    }
  }
  return out;
}

/**
 * Checks every op of the compiled model `modelJson` against the QDQ model's reference
 * int8 tensors in `refDir` (index.json + q_<n>.bin from prepare.py).
 *
 * @example
 * ```ts
 * const s = checkOps("build/m/model.json", "cache/prep/m/ref/qdq");
 * console.log(s.failed.length);
 * ```
 */
export function checkOps(
  modelJson: string,
  refDir: string,
  input?: { name: string; shape: number[]; data: Float32Array },
): PerOpSummary {
  const prog: RefProgram = loadProgram(modelJson);
  const index = JSON.parse(readFileSync(join(refDir, "index.json"), "utf8")) as { q: QEntry[] };
  const byName = new Map<string, QEntry>();
  for (const e of index.q) {
    for (const n of [e.input, e.q, ...e.dq]) if (!byName.has(n)) byName.set(n, e);
  }
  const cache = new Map<QEntry, Int8Array | Uint8Array>();
  const raw = (e: QEntry) => {
    let r = cache.get(e);
    if (!r) {
      const b = readFileSync(join(refDir, e.file));
      r = e.dtype === "uint8"
        ? new Uint8Array(b.buffer, b.byteOffset, b.length)
        : new Int8Array(b.buffer, b.byteOffset, b.length);
      cache.set(e, r);
    }
    return r;
  };
  // the reference's value of a program tensor, or why there is none
  const refValue = (ti: number): Int32Array | string | undefined => {
    const t = prog.tensors[ti];
    const e = byName.get(t.name);
    if (!e && input && t.name === input.name && prog.inputs.includes(ti)) {
      // a float graph input the model does not quantize: the host quantizes it with the
      // device tensor's parameters, as onnxruntime's QuantizeLinear would
      const q = Int8Array.from(input.data, (x) => {
        const v = rne(Math.fround(x / Math.fround(t.scale))) + t.zero_point;
        return Math.max(-128, Math.min(127, v));
      });
      return toDevice({ shape: input.shape } as QEntry, q, t);
    }
    if (!e) return undefined;
    if (e.dtype !== "int8") return `reference ${e.q} is ${e.dtype}`;
    if (Math.fround(e.scale) !== Math.fround(t.scale) || e.zero_point !== t.zero_point) {
      return `tensor ${t.name}: device scale ${t.scale} zero point ${t.zero_point}, the model's QuantizeLinear ${e.q} has ${e.scale}, ${e.zero_point}`;
    }
    return toDevice(e, raw(e), t);
  };
  const ours = new Map<number, Int32Array>();
  const failed: OpResult[] = [];
  let checked = 0, unchecked = 0, ties = 0;
  prog.ops.forEach((op, k) => {
    const res: OpResult = { index: k, op: op.op, name: op.name, n: 0, equal: 0, ties: 0, maxDiff: 0, problem: "" };
    const ins: Int8Array[] = [], vals: Int32Array[] = [];
    for (const ti of op.inputs as number[]) {
      const r = refValue(ti);
      const v = typeof r === "object" ? r : ours.get(ti);
      if (typeof r === "string") res.problem = r;
      else if (!v) {
        res.problem = `input ${
          prog.tensors[ti].name
        } has no QuantizeLinear in the model (the QDQ model keeps it float)`;
      }
      if (res.problem) break;
      ins.push(padded(prog.tensors[ti], v!));
      vals.push(v!);
    }
    if (res.problem) {
      failed.push(res);
      return;
    }
    const sub: RefProgram = { ...prog, inputs: op.inputs, outputs: op.outputs, ops: [op] };
    const { tensors } = runProgram(sub, ins);
    let anyRef = false;
    for (const to of op.outputs as number[]) {
      const got = tensors[to]!;
      const r = refValue(to);
      if (r === undefined) {
        ours.set(to, got);
        continue;
      }
      anyRef = true;
      if (typeof r === "string") {
        res.problem = r;
        ours.set(to, got);
        continue;
      }
      for (let i = 0; i < got.length; i++) {
        const d = Math.abs(got[i] - r[i]);
        if (d === 0) res.equal++;
        else if (d === 1 && isFloatTie(prog, op, prog.tensors[op.inputs[0]], vals[0], prog.tensors[to], i)) res.ties++;
        if (d > res.maxDiff) res.maxDiff = d;
      }
      res.n += got.length;
    }
    if (!anyRef) {
      unchecked++;
      return;
    }
    checked++;
    ties += res.ties;
    if (!res.problem && (res.equal + res.ties < 0.9999 * res.n || res.maxDiff > 1)) {
      res.problem = `${res.n - res.equal} of ${res.n} int8 values differ (${
        (100 * (res.n - res.equal) / res.n).toFixed(3)
      }%; ${res.ties} of them float ties), max ${res.maxDiff} steps`;
    }
    if (res.problem) failed.push(res);
  });
  return { ops: prog.ops.length, checked, failed, unchecked, ties };
}
