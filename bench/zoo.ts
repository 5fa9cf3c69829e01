/**
 * zoo_<model>: `infer()` (float in, float out: host quantize, emulated device, postamble)
 * on each model of the zoo (tests/zoo/, docs/zoo.md) compiled from its onnxruntime
 * `quantize_static` QDQ form, against onnxruntime-node running that same QDQ model with
 * 1 thread and all graph optimizations (peer "onnxruntime-node qdq"). The models, their
 * QDQ forms and the compiled directories are cached (`~/.cache/axr-runtime/zoo`); the
 * first run downloads and prepares them (`deno task zoo` does the same).
 *
 * Run alone: `deno run -A bench/zoo.ts`.
 *
 * @module
 */
import process from "node:process";
import { ZOO } from "../tests/zoo/models.ts";
import { prepare, timeQdq } from "../tests/zoo/zoo.ts";
import { type BenchRow, row } from "./row.ts";

/**
 * The rows this module prints (bench/main.ts skips it when `--filter` matches none).
 *
 * @example
 * ```ts
 * import { benchRows } from "./zoo.ts";
 * console.log(benchRows.join(", "));
 * ```
 */
export const benchRows: readonly string[] = ZOO.map((m) => `zoo_${m.name}`);

/**
 * The zoo bench rows (with `filter`, those whose name contains it).
 *
 * @example
 * ```ts
 * for (const r of await zooBench()) console.log(JSON.stringify(r));
 * ```
 */
export async function zooBench(opts: { filter?: string } = {}): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const m of ZOO) {
    if (!`zoo_${m.name}`.includes(opts.filter ?? "")) continue;
    try {
      const s = await timeQdq(m, prepare(m), 10);
      if (typeof s === "string") {
        console.error(`[bench] zoo_${m.name}: ${s}`);
        continue;
      }
      rows.push(
        row(
          `zoo_${m.name}`,
          s.ours_ms,
          "onnxruntime-node qdq",
          s.peer_ms,
          undefined,
          "infer() on the compiled QDQ form",
        ),
      );
    } catch (e) {
      console.error(`[bench] zoo_${m.name}: ${(e as Error).message}`);
    }
  }
  return rows;
}

if (import.meta.main) {
  for (const r of await zooBench()) console.log(JSON.stringify(r));
  process.exit(0);
}
