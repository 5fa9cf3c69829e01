/**
 * timing_<model>: the timing model against Axelera's published PCIe throughput, one row
 * per timing network (bench/timing/nets.ts) that is built in the cache (`deno task timing`
 * builds them; skipped, with the reason, when none is). `modelled_fps` is the modelled
 * PCIe card FPS (4 cores + host transfer), `published_fps` Axelera's figure, `ratio`
 * modelled / published (= peer_ms / ours_ms with ours_ms = 1000 / modelled_fps). The
 * figures are modelled, so they do not depend on the JavaScript runtime: Deno only.
 *
 * @module
 */
import { cachedModel } from "./timing/build.ts";
import { timeNet } from "./timing/main.ts";
import { TIMING_NETS } from "./timing/nets.ts";
import { type BenchRow, runtimeName } from "./row.ts";

/**
 * The rows this module prints (bench/main.ts skips it when `--filter` matches none).
 *
 * @example
 * ```ts
 * import { benchRows } from "./timing.ts";
 * console.log(benchRows.join(", "));
 * ```
 */
export const benchRows: readonly string[] = TIMING_NETS.map((n) => `timing_${n.name}`);

/**
 * The timing rows.
 *
 * @example
 * ```ts
 * for (const r of timingBench()) console.log(r.bench, r.ratio);
 * ```
 */
export function timingBench(): BenchRow[] {
  if (runtimeName() !== "deno") return [];
  const rows: BenchRow[] = [];
  const missing: string[] = [];
  for (const net of TIMING_NETS) {
    const modelJson = cachedModel(net);
    if (!modelJson) {
      missing.push(net.name);
      continue;
    }
    const r = timeNet(net, modelJson);
    rows.push({
      bench: `timing_${net.name}`,
      runtime: runtimeName(),
      ours_ms: 1000 / r.modelledFps,
      peer: "published_pcie",
      peer_ms: 1000 / r.publishedFps,
      ratio: r.ratio,
      modelled_fps: Math.round(r.modelledFps),
      device_fps: Math.round(r.deviceFps),
      published_fps: r.publishedFps,
      note: `${r.set}; ${r.pass ? "within" : "outside"} 25%`,
    });
  }
  if (missing.length) {
    console.error(
      `[bench] timing_*: skipped ${missing.join(", ")}: the timing networks are not built (run deno task timing)`,
    );
  }
  return rows;
}
