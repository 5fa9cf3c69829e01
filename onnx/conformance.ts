/**
 * Conformance: runs the ONNX project's backend node tests
 * (`onnx/backend/test/data/node/<case>/model.onnx` + `test_data_set_0/*.pb`) through
 * {@link OnnxGraph} and compares with the expected outputs (rtol 1e-3, atol 1e-7 as
 * ONNX's backend tests). Cases using an op, data type or attribute that the runner
 * rejects at load time (OnnxUnsupportedError) are skipped; a case that needs an
 * unsupported attribute of a supported op fails unless it is in {@link SKIPS}, the
 * documented list with reasons. Ends with
 * `conformance: N passed, N failed, N skipped`; exits 1 on failures.
 *
 * @example
 * ```sh
 * deno run -A onnx/conformance.ts [data/node dir] [--verbose] [--filter softmax]
 * ```
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { OnnxUnsupportedAttributeError, OnnxUnsupportedError } from "./errors.ts";
import { SKIPS } from "./conformance_skips.ts";
import { OnnxGraph } from "./graph.ts";
import { decodeTensorProto } from "./read.ts";
import { dtypeOf, type Tensor } from "./tensor.ts";

export { SKIPS };

/** Result of one case. @example `{ name: "test_relu", status: "passed" }` */
export interface CaseResult {
  name: string;
  status: "passed" | "failed" | "skipped";
  reason?: string;
}

function loadPb(path: string): Tensor {
  const t = decodeTensorProto(new Uint8Array(readFileSync(path)));
  const dtype = dtypeOf(t.dataType);
  if (!dtype || !t.data || dtype === "float16" || dtype === "string") {
    throw new OnnxUnsupportedError(`test data type ${t.dataType}`);
  }
  return { data: t.data, shape: [...t.dims], dtype };
}

/** Compares a result with the expectation; returns a message or null. @example `compare(got, want)` */
export function compare(got: Tensor, want: Tensor, rtol = 1e-3, atol = 1e-7): string | null {
  if (got.dtype !== want.dtype) return `dtype ${got.dtype}, expected ${want.dtype}`;
  if (got.shape.join() !== want.shape.join()) return `shape [${got.shape}], expected [${want.shape}]`;
  const float = want.dtype === "float32" || want.dtype === "float64";
  for (let i = 0; i < want.data.length; i++) {
    const g = got.data[i], w = want.data[i];
    if (float) {
      const a = g as number, b = w as number;
      if (Number.isNaN(b) ? !Number.isNaN(a) : !(Math.abs(a - b) <= atol + rtol * Math.abs(b)) && a !== b) {
        return `element ${i}: ${a}, expected ${b}`;
      }
    } else if (g !== w) return `element ${i}: ${g}, expected ${w}`;
  }
  return null;
}

/** Runs one case directory. @example `runCase("/path/node/test_relu")` */
export function runCase(dir: string, name: string): CaseResult {
  if (SKIPS[name]) return { name, status: "skipped", reason: SKIPS[name] };
  let g: OnnxGraph;
  try {
    g = OnnxGraph.fromBytes(new Uint8Array(readFileSync(join(dir, "model.onnx"))));
  } catch (e) {
    if (e instanceof OnnxUnsupportedAttributeError) {
      return {
        name,
        status: "failed",
        reason: `${e.message} (not in the documented skip list, onnx/conformance_skips.ts)`,
      };
    }
    if (e instanceof OnnxUnsupportedError) return { name, status: "skipped", reason: e.message };
    return { name, status: "failed", reason: `load: ${(e as Error).message}` };
  }
  const sets = readdirSync(dir).filter((d) => d.startsWith("test_data_set_")).sort();
  try {
    for (const set of sets) {
      const sd = join(dir, set);
      const feeds: Record<string, Tensor> = {};
      g.inputs.forEach((inp, i) => {
        const p = join(sd, `input_${i}.pb`);
        if (existsSync(p)) feeds[inp.name] = loadPb(p);
      });
      const out = g.run(feeds);
      for (let i = 0; i < g.outputs.length; i++) {
        const p = join(sd, `output_${i}.pb`);
        if (!existsSync(p)) continue;
        const msg = compare(out[g.outputs[i].name], loadPb(p));
        if (msg) return { name, status: "failed", reason: `${set} output ${g.outputs[i].name}: ${msg}` };
      }
    }
  } catch (e) {
    if (e instanceof OnnxUnsupportedError) return { name, status: "skipped", reason: e.message };
    return { name, status: "failed", reason: `run: ${(e as Error).message}` };
  }
  return { name, status: "passed" };
}

/** Runs every case under `root`. @example `runAll(dir).filter((r) => r.status === "failed")` */
export function runAll(root: string, filter?: string): CaseResult[] {
  return readdirSync(root).filter((n) => !filter || n.includes(filter)).sort()
    .filter((n) => existsSync(join(root, n, "model.onnx")))
    .map((n) => runCase(join(root, n), n));
}

function main(args: string[]): number {
  const verbose = args.includes("--verbose");
  const fi = args.indexOf("--filter");
  const filter = fi >= 0 ? args[fi + 1] : undefined;
  const pos = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--filter");
  const root = pos[0] ?? join(process.cwd(), ".tools/onnx-tests/onnx/backend/test/data/node");
  if (!existsSync(root)) {
    console.error(`conformance: no test data at ${root} (run scripts/test.d/conformance.sh, which installs it)`);
    return 2;
  }
  const results = runAll(root, filter);
  let p = 0, f = 0, s = 0;
  for (const r of results) {
    if (r.status === "passed") p++;
    else if (r.status === "failed") {
      f++;
      console.log(`FAIL ${r.name}: ${r.reason}`);
    } else {
      s++;
      if (verbose) console.log(`skip ${r.name}: ${r.reason}`);
    }
  }
  console.log(`conformance: ${p} passed, ${f} failed, ${s} skipped`);
  return f ? 1 : 0;
}

import process from "node:process";
if ((import.meta as { main?: boolean }).main) process.exit(main(process.argv.slice(2)));
