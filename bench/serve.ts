/**
 * The `serve_throughput` benchmark: requests/s of `axr serve` over loopback HTTP
 * (4 concurrent clients, JSON tensors, the tiny fixture, 2 instances) against
 * in-process `inferAsync()` throughput on the same model and instance count with the
 * same concurrency. Row: ours_ms = ms per served request, peer_ms = ms per in-process
 * inference, ratio = served / in-process throughput (target >= 0.8); p50/p99 latency of
 * the served requests in `p50_ms`, `p99_ms` and the note.
 *
 * Runnable alone: `deno run -A bench/serve.ts` or `bun bench/serve.ts`.
 *
 * @module
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { startServer } from "../serve/mod.ts";
import { type BenchRow, runtimeName } from "./row.ts";

const tinyDir = fileURLToPath(new URL("../tests/fixtures/tiny", import.meta.url));
const CLIENTS = 4;
const INSTANCES = 2;
const SECONDS = 2;

/** Runs `CLIENTS` loops of `fn` for `SECONDS` (after a warm-up); count and latencies (ms). */
async function drive(fn: (c: number) => Promise<void>): Promise<{ n: number; ms: number; lat: number[] }> {
  for (let c = 0; c < CLIENTS * 20; c++) await fn(c % CLIENTS);
  const lat: number[] = [];
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    while (performance.now() < end) {
      const s = performance.now();
      await fn(c);
      lat.push(performance.now() - s);
    }
  }));
  return { n: lat.length, ms: performance.now() - t0, lat: lat.sort((a, b) => a - b) };
}

const pct = (s: number[], p: number): number => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];

/**
 * Runs the benchmark; returns its row.
 *
 * @example
 * ```ts
 * const [row] = await serveBench();
 * console.log(row.ratio); // served / in-process throughput
 * ```
 */
export async function serveBench(): Promise<BenchRow[]> {
  const x = Float32Array.from({ length: 192 }, (_, i) => i / 32 - 3);
  let inproc;
  {
    using ctx = new axr.Context();
    const model = ctx.loadModel(join(tinyDir, "model.json"));
    using conn = ctx.deviceConnect();
    const insts = Array.from({ length: INSTANCES }, () => conn.loadModelInstance(model));
    inproc = await drive(async (c) => {
      await insts[c % INSTANCES].inferAsync(x);
    });
  }
  const work = mkdtempSync(join(tmpdir(), "axr-serve-bench-"));
  try {
    cpSync(tinyDir, join(work, "tiny"), { recursive: true });
    const server = await startServer({ models: work, port: 0, instances: INSTANCES });
    try {
      const body = JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 3, 8, 8], data: Array.from(x) }] });
      const served = await drive(async () => {
        const res = await fetch(`${server.url}/v2/models/tiny/infer`, { method: "POST", body });
        if (res.status !== 200) throw new Error(`serve bench: HTTP ${res.status}: ${await res.text()}`);
        await res.arrayBuffer();
      });
      const oursMs = served.ms / served.n;
      const peerMs = inproc.ms / inproc.n;
      const p50 = pct(served.lat, 50);
      const p99 = pct(served.lat, 99);
      const row: BenchRow & { p50_ms: number; p99_ms: number } = {
        bench: "serve_throughput",
        runtime: runtimeName(),
        ours_ms: oursMs,
        peer: "in-process inferAsync",
        peer_ms: peerMs,
        ratio: peerMs / oursMs,
        p50_ms: p50,
        p99_ms: p99,
        note: `${(1000 / oursMs).toFixed(0)} req/s served vs ${(1000 / peerMs).toFixed(0)}/s in-process; ${CLIENTS} clients, ${INSTANCES} instances; p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms`,
      };
      return [row];
    } finally {
      await server.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
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

if (import.meta.main) console.log(JSON.stringify(await serveBench()));
