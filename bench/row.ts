/**
 * The shape of one benchmark result row and the timing helper that every bench module
 * uses. `deno task bench --json` prints one row per line.
 *
 * @module
 */

/** One benchmark result: ours vs a peer, measured in the same run. */
export interface BenchRow {
  /** Benchmark name, e.g. "quantize_pad_640". */
  bench: string;
  /** The JavaScript runtime that ran "ours": "deno" or "bun". */
  runtime: string;
  /** Median milliseconds of ours. */
  ours_ms: number;
  /** The peer's name, e.g. "numpy". */
  peer: string;
  /** Median milliseconds of the peer. */
  peer_ms: number;
  /** peer_ms / ours_ms (> 1: ours is faster). */
  ratio: number;
  /** Bytes read + written per second by ours, in GB/s (kernels only). */
  gbps?: number;
  /** The same process's copy of the same bytes, in GB/s (emulator_lut). */
  copy_gbps?: number;
  /** int8 ops (2 x multiply-accumulates) per second, in GOPS (emulator_conv). */
  gops?: number;
  /** The int8 peak of one core, in GOPS (emulator_conv). */
  peak_gops?: number;
  /** Free-form remark. */
  note?: string;
  /** timing_* rows: modelled card FPS, modelled 4-core device FPS, Axelera's published FPS. */
  modelled_fps?: number;
  device_fps?: number;
  published_fps?: number;
}

/**
 * The JavaScript runtime's name ("deno", "bun", or "node"), from `navigator.userAgent`.
 *
 * @example
 * ```ts
 * import { runtimeName } from "./row.ts";
 * console.log(runtimeName()); // "deno"
 * ```
 */
export function runtimeName(): string {
  const ua = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? "";
  const m = /^(Deno|Bun|Node\.js)\b/i.exec(ua);
  return m ? m[1].toLowerCase().replace(".js", "") : "unknown";
}

/**
 * Median milliseconds of `fn` over at least `minRuns` runs and `minMs` milliseconds, after
 * `warmup` runs.
 *
 * @example
 * ```ts
 * import { medianMs } from "./row.ts";
 * const ms = medianMs(() => new Uint8Array(1024).fill(1));
 * ```
 */
export function medianMs(fn: () => void, opts: { warmup?: number; minRuns?: number; minMs?: number } = {}): number {
  const { warmup = 5, minRuns = 30, minMs = 300 } = opts;
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minRuns || performance.now() - start < minMs) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
    if (times.length >= 10_000) break;
  }
  return median(times);
}

/**
 * Median ms of an async function (the peer's session.run) over `runs` runs after 2 warm-ups.
 *
 * @example
 * ```ts
 * import { medianAsyncMs } from "./row.ts";
 * const session = { run: () => Promise.resolve(new Uint8Array(64).fill(1)) };
 * const ms = await medianAsyncMs(() => session.run(), 5);
 * ```
 */
export async function medianAsyncMs(fn: () => Promise<unknown>, runs: number): Promise<number> {
  for (let i = 0; i < 2; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

/**
 * Medians (ms) of `a` and `b` timed call by call in alternation (a b, b a, a b, ...), so that
 * a burst of load on the shared machine hits both sides alike: `warmup` calls of each, then
 * pairs until at least `minRuns` pairs and `minMs` milliseconds (at most 5000 pairs). A call
 * that returns a promise is awaited. Use it for every ours-vs-peer row: the ratio of two
 * medians taken minutes apart swings with the machine's load.
 *
 * @example
 * ```ts
 * import { pairedMedianMs } from "./row.ts";
 * const [oursMs, peerMs] = await pairedMedianMs(() => new Uint8Array(4096).fill(1), () => new Uint8Array(4096).fill(2));
 * console.log(peerMs / oursMs);
 * ```
 */
export async function pairedMedianMs(
  a: () => unknown,
  b: () => unknown,
  opts: { warmup?: number; minRuns?: number; minMs?: number } = {},
): Promise<[number, number]> {
  const { warmup = 3, minRuns = 10, minMs = 1000 } = opts;
  for (let i = 0; i < warmup; i++) await a(), await b();
  const ta: number[] = [], tb: number[] = [];
  const timed = async (f: () => unknown, into: number[]) => {
    const t0 = performance.now();
    await f();
    into.push(performance.now() - t0);
  };
  const start = performance.now();
  while (ta.length < minRuns || performance.now() - start < minMs) {
    if (ta.length % 2) await timed(b, tb), await timed(a, ta);
    else await timed(a, ta), await timed(b, tb);
    if (ta.length >= 5000) break;
  }
  return [median(ta), median(tb)];
}

function median(t: number[]): number {
  t.sort((p, q) => p - q);
  const m = t.length >> 1;
  return t.length % 2 ? t[m] : (t[m - 1] + t[m]) / 2;
}

/**
 * Builds a row, computing the ratio (and gbps from `bytes` moved by ours, if given).
 *
 * @example
 * ```ts
 * import { row } from "./row.ts";
 * console.log(row("x", 1, "numpy", 10).ratio); // 10
 * ```
 */
export function row(
  bench: string,
  oursMs: number,
  peer: string,
  peerMs: number,
  bytes?: number,
  note?: string,
): BenchRow {
  const r: BenchRow = {
    bench,
    runtime: runtimeName(),
    ours_ms: round(oursMs),
    peer,
    peer_ms: round(peerMs),
    ratio: round(peerMs / oursMs),
  };
  if (bytes !== undefined) r.gbps = round(bytes / oursMs / 1e6);
  if (note) r.note = note;
  return r;
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

/**
 * Whether a bench module whose rows are `names` can print a row that `--filter` keeps (a
 * row is kept when its name contains the filter). A name ending in `*` is a prefix: it
 * stands for rows that start with it, and matches a filter that lies in the prefix or
 * begins inside it (a filter wholly in the unnamed rest cannot select it). bench/main.ts
 * skips a module when this is false.
 *
 * @example
 * ```ts
 * import { rowsMayMatch } from "./row.ts";
 * rowsMayMatch(["run_overhead", "run_async_overhead"], "async"); // true
 * rowsMayMatch(["emulator_conv_*"], "conv_dw"); // true
 * rowsMayMatch(["zoo_resnet50"], "quantize"); // false
 * ```
 */
export function rowsMayMatch(names: readonly string[], filter: string): boolean {
  if (!filter) return true;
  return names.some((n) => {
    if (!n.endsWith("*")) return n.includes(filter);
    const p = n.slice(0, -1);
    if (p.includes(filter)) return true;
    for (let i = 0; i < p.length; i++) if (filter.startsWith(p.slice(i))) return true;
    return false;
  });
}
