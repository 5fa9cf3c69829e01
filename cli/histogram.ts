/**
 * A text histogram of latencies for `axr run-model --show-histogram`.
 *
 * @module
 */

/**
 * Renders samples (milliseconds) as a text histogram with `buckets` equal-width
 * bins between the smallest and largest sample, one line per bin:
 * `  1.234 - 1.456 ms |#####      |   123`.
 *
 * @example
 * ```ts
 * console.log(formatHistogram([1, 1.1, 2, 2.2, 5], { buckets: 4, width: 20 }));
 * ```
 */
export function formatHistogram(
  samples: ArrayLike<number>,
  options: { buckets?: number; width?: number; unit?: string } = {},
): string {
  const buckets = Math.max(1, Math.floor(options.buckets ?? 12));
  const width = Math.max(1, Math.floor(options.width ?? 40));
  const unit = options.unit ?? "ms";
  const n = samples.length;
  if (n === 0) return "(no samples)\n";
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < n; i++) {
    lo = Math.min(lo, samples[i]);
    hi = Math.max(hi, samples[i]);
  }
  const span = hi - lo;
  const counts = new Array<number>(span > 0 ? buckets : 1).fill(0);
  for (let i = 0; i < n; i++) {
    const k = span > 0 ? Math.min(counts.length - 1, Math.floor(((samples[i] - lo) / span) * counts.length)) : 0;
    counts[k]++;
  }
  const top = Math.max(...counts);
  const step = span > 0 ? span / counts.length : 0;
  const digits = Math.max(3, Math.min(6, 3 - Math.floor(Math.log10(Math.max(step, 1e-6)))));
  const lines: string[] = [];
  for (let k = 0; k < counts.length; k++) {
    const a = (lo + k * step).toFixed(digits), b = (lo + (k + 1) * step).toFixed(digits);
    const bar = "#".repeat(Math.round((counts[k] / top) * width));
    lines.push(
      `  ${a.padStart(10)} - ${b.padStart(10)} ${unit} |${bar.padEnd(width)}| ${String(counts[k]).padStart(7)}`,
    );
  }
  return lines.join("\n") + "\n";
}
