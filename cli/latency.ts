/**
 * Latency statistics of `axr run-model`: percentiles over the measured request
 * latencies (nearest-rank on the sorted samples).
 *
 * @module
 */

/**
 * Summary of a set of latency samples, in milliseconds.
 *
 * @example
 * ```ts
 * const s: LatencySummary = summarizeLatencies([1, 2, 3]);
 * s.p50; // 2
 * ```
 */
export interface LatencySummary {
  /** Number of samples. */
  count: number;
  /** Smallest sample. */
  min: number;
  /** Arithmetic mean. */
  mean: number;
  /** Median (nearest rank). */
  p50: number;
  /** 90th percentile (nearest rank). */
  p90: number;
  /** 99th percentile (nearest rank). */
  p99: number;
  /** Largest sample. */
  max: number;
}

/**
 * The p-th percentile (0 < p <= 100) of ascending-sorted samples, nearest-rank
 * method: the smallest sample such that at least p% of samples are <= it.
 * NaN for no samples.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * percentile([1, 2, 3, 4], 99); // 4
 * ```
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n)));
  return sorted[rank - 1];
}

/**
 * Sorts a copy of the samples and summarizes them.
 *
 * @example
 * ```ts
 * summarizeLatencies([5, 1, 3]).max; // 5
 * ```
 */
export function summarizeLatencies(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples as ArrayLike<number>).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const n = sorted.length;
  return {
    count: n,
    min: n ? sorted[0] : NaN,
    mean: n ? sum / n : NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: n ? sorted[n - 1] : NaN,
  };
}
