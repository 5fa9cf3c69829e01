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
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  return times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
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
