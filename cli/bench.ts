/**
 * `axr bench`: runs the benchmarks (bench/main.ts) and, with `--plot out.svg`,
 * draws their ratios as an SVG chart. `--rows FILE` plots rows saved earlier
 * with `axr bench --json > rows.json` (or `deno task bench --json`) without
 * running anything.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { importOptional } from "./compile.ts";
import { ExitCode, FileError, UsageError } from "./errors.ts";
import { err, out } from "./output.ts";
import { type BenchRow, benchRowsToSvg, parseBenchRows } from "./plot.ts";

/** One line for `axr --help`. */
export const benchSummary = "run the benchmarks (bench/main.ts); --plot out.svg charts the ratios";

const HELP = `axr bench: ${benchSummary}

Usage: axr bench [--plot OUT.svg] [--rows ROWS.json] [bench flags...]

Flags:
  --plot FILE          write an SVG bar chart of the ratios (peer time / our time)
  --rows FILE          plot these rows (JSON array, {"rows": [...]}, or JSON Lines; - for stdin)
                       instead of running the benchmarks
  -h, --help           show this help (and the benchmark runner's own flags when present)
Every other flag goes to bench/main.ts (e.g. --json).

Rows: {"bench","runtime","ours_ms","peer","peer_ms","ratio"}, ratio = peer_ms / ours_ms.
Exit codes: 0 ok, 1 a benchmark failed, 2 bad flags or no benchmark runner, 3 rows file missing or invalid.
`;

/** What bench/main.ts may export (any one of these). */
interface BenchModule {
  /** Runs with command line arguments; returns an exit code. */
  main?: (args: string[]) => Promise<number> | number;
  /** Same as main. */
  benchMain?: (args: string[]) => Promise<number> | number;
  /** Runs every benchmark and returns the rows. */
  runAll?: (args?: string[]) => Promise<BenchRow[]>;
  /** Same as runAll. */
  runBenchmarks?: (args?: string[]) => Promise<BenchRow[]>;
}

function takeFlag(argv: string[], name: string): { value?: string; rest: string[] } {
  const rest: string[] = [];
  let value: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === `--${name}`) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a file name`, "bench");
      value = argv[++i];
    } else if (a.startsWith(`--${name}=`)) {
      value = a.slice(name.length + 3);
    } else {
      rest.push(a);
    }
  }
  if (value !== undefined && value.trim() === "") throw new UsageError(`--${name} needs a file name`, "bench");
  return { value, rest };
}

/**
 * Writes the SVG chart of `rows` to `path` and prints one line per row.
 *
 * @example
 * ```ts
 * plotRows(parseBenchRows(text), "bench.svg");
 * ```
 */
export function plotRows(rows: BenchRow[], path: string): void {
  writeFileSync(path, benchRowsToSvg(rows));
  out(`wrote ${path}: ${rows.length} benchmark${rows.length === 1 ? "" : "s"}\n`);
  for (const r of rows) {
    out(`  ${`${r.bench} (${r.runtime}) vs ${r.peer}`.padEnd(48)} ${r.ratio.toFixed(2).padStart(8)}x\n`);
  }
}

/**
 * Runs `axr bench ARGS...`; returns the exit code.
 *
 * @example
 * ```ts
 * await benchMain(["--plot", "out.svg", "--rows", "rows.json"]);
 * ```
 */
export async function benchMain(argv: string[]): Promise<number> {
  const plot = takeFlag(argv, "plot");
  const rowsArg = takeFlag(plot.rest, "rows");
  const rest = rowsArg.rest;
  const help = rest.includes("--help") || rest.includes("-h");
  if (rowsArg.value !== undefined && plot.value === undefined && !help) {
    throw new UsageError("--rows only goes with --plot FILE", "bench");
  }

  if (rowsArg.value !== undefined && !help) {
    let text: string;
    try {
      text = readFileSync(rowsArg.value === "-" ? 0 : rowsArg.value, "utf8");
    } catch (e) {
      throw new FileError(`cannot read rows file ${rowsArg.value}: ${(e as Error).message}`, { cause: e });
    }
    let rows: BenchRow[];
    try {
      rows = parseBenchRows(text);
    } catch (e) {
      throw new FileError(`${rowsArg.value}: ${(e as Error).message}`, { cause: e });
    }
    plotRows(rows, plot.value!);
    return ExitCode.ok;
  }

  const mod = await importOptional<BenchModule>("../bench/main.ts");
  if (help) {
    out(HELP);
    if (!mod) out("\n(the benchmark runner bench/main.ts is not part of this build)\n");
    else if (mod.main || mod.benchMain) {
      out("\nbench/main.ts:\n");
      return await (mod.main ?? mod.benchMain)!(["--help"]);
    }
    return ExitCode.ok;
  }
  if (!mod) {
    err("axr bench: not available in this build (the benchmark runner bench/main.ts is missing)\n");
    return ExitCode.usage;
  }
  if (plot.value !== undefined) {
    const run = mod.runAll ?? mod.runBenchmarks;
    if (!run) {
      err("axr bench --plot: bench/main.ts exports no runAll(); save rows with `axr bench --json > rows.json` and use --rows rows.json\n");
      return ExitCode.usage;
    }
    const rows = await run(rest);
    plotRows(rows, plot.value);
    return ExitCode.ok;
  }
  const main = mod.main ?? mod.benchMain;
  if (!main) {
    err("axr bench: bench/main.ts exports no main(args)\n");
    return ExitCode.usage;
  }
  return await main(rest);
}
