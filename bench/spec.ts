/**
 * The flags of the benchmark runner (bench/main.ts), on the one CLI parser
 * (cli/args.ts). `axr bench` (cli/bench.ts) takes the same flags and passes them on.
 *
 * @module
 */
import type { CommandSpec } from "../cli/args.ts";

/**
 * The runner's flags.
 *
 * @example
 * ```ts
 * console.log(benchSpec.flags.map((f) => f.name)); // ["json", "filter", ...]
 * ```
 */
export const benchSpec: CommandSpec = {
  name: "bench",
  summary: "the benchmark runner: ours against peers, side by side in one run",
  positionals: [],
  flags: [
    { name: "json", type: "boolean", description: "one JSON object per line (bench/row.ts) instead of a table" },
    {
      name: "filter",
      type: "string",
      valueName: "SUBSTRING",
      description: "only benches whose name contains it (modules without such a row do not run)",
    },
    { name: "only-this-runtime", type: "boolean", description: "no child run under the other runtime" },
    { name: "numpy", type: "boolean", default: true, description: "numpy peers (--no-numpy skips them)" },
  ],
  epilog: "Rows: ratio = peer_ms / ours_ms (above 1: we are faster). Exit codes: 0 ok, 2 bad flags.",
};
