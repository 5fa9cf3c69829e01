/**
 * `axr bench`: runs the benchmarks (bench/main.ts) and, with `--plot out.svg`,
 * draws their ratios as an SVG chart. `--rows FILE` plots rows saved earlier
 * with `axr bench --json > rows.json` (or `deno task bench --json`) without
 * running anything.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { benchSpec } from "../bench/spec.ts";
import { type CommandSpec, formatHelp, parseArgs, type ParsedArgs } from "./args.ts";
import { ExitCode, FileError, UsageError } from "./errors.ts";
import { err, out } from "./output.ts";
import { type BenchRow, benchRowsToSvg, parseBenchRows } from "./plot.ts";

/** One line for `axr --help`. */
export const benchSummary = "run the benchmarks (bench/main.ts); --plot out.svg charts the ratios";

/** `axr bench`: its own flags (--plot, --rows) and the runner's ({@link benchSpec}), one parser. */
export const benchCommandSpec: CommandSpec = {
  name: "bench",
  summary: benchSummary,
  positionals: [],
  flags: [
    { name: "plot", type: "string", valueName: "FILE", description: "write an SVG bar chart of the ratios" },
    {
      name: "rows",
      type: "string",
      valueName: "FILE",
      description: "plot these rows (JSON array, {rows}, JSON Lines; - for stdin) instead of running",
    },
    ...benchSpec.flags,
  ],
  epilog: `Rows: {"bench","runtime","ours_ms","peer","peer_ms","ratio"}, ratio = peer_ms / ours_ms.
Exit codes: 0 ok, 1 a benchmark failed, 2 bad flags, 3 rows file missing or invalid.`,
};

/** The runner's arguments for the flags the user gave (defaults stay the runner's). */
function runnerArgs(a: ParsedArgs): string[] {
  const out: string[] = [];
  for (const f of benchSpec.flags) {
    if (!a.given(f.name)) continue;
    if (f.type === "boolean") out.push(a.boolean(f.name) ? `--${f.name}` : `--no-${f.name}`);
    else out.push(`--${f.name}`, String(f.type === "number" ? a.number(f.name) : a.string(f.name)));
  }
  return out;
}

/**
 * Writes the SVG chart of `rows` to `path` and prints one line per row.
 *
 * @example
 * ```ts
 * import { readFileSync } from "node:fs";
 * import { parseBenchRows } from "./plot.ts";
 * plotRows(parseBenchRows(readFileSync("rows.json", "utf8")), "bench.svg");
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
export function benchMain(argv: string[]): Promise<number> {
  try {
    return Promise.resolve(benchSync(argv));
  } catch (e) {
    return Promise.reject(e);
  }
}

function benchSync(argv: string[]): number {
  const a = parseArgs(benchCommandSpec, argv);
  if (a.help) {
    out(formatHelp(benchCommandSpec));
    return ExitCode.ok;
  }
  const plot = a.string("plot"), rowsFile = a.string("rows");
  if (plot !== undefined && plot.trim() === "") throw new UsageError("--plot needs a file name", "bench");
  if (rowsFile !== undefined && rowsFile.trim() === "") throw new UsageError("--rows needs a file name", "bench");
  if (rowsFile !== undefined && plot === undefined) throw new UsageError("--rows only goes with --plot FILE", "bench");

  if (rowsFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(rowsFile === "-" ? 0 : rowsFile, "utf8");
    } catch (e) {
      throw new FileError(`cannot read rows file ${rowsFile}: ${(e as Error).message}`, { cause: e });
    }
    let rows: BenchRow[];
    try {
      rows = parseBenchRows(text);
    } catch (e) {
      throw new FileError(`${rowsFile}: ${(e as Error).message}`, { cause: e });
    }
    plotRows(rows, plot!);
    return ExitCode.ok;
  }

  // The runner measures in a child process of the same runtime (a clean heap and JIT).
  const script = fileURLToPath(new URL("../bench/main.ts", import.meta.url));
  const runtimeArgs = typeof process.versions.bun === "string" ? [script] : ["run", "-A", script];
  const rest = runnerArgs(a);
  if (plot === undefined) {
    const r = spawnSync(process.execPath, [...runtimeArgs, ...rest], { stdio: "inherit" });
    return r.status ?? ExitCode.runtime;
  }
  const r = spawnSync(process.execPath, [...runtimeArgs, "--json", ...rest.filter((x) => x !== "--json")], {
    stdio: ["inherit", "pipe", "inherit"],
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    err(`axr bench: the benchmark runner failed (exit ${r.status})\n`);
    return ExitCode.runtime;
  }
  let rows: BenchRow[];
  try {
    rows = parseBenchRows(r.stdout);
  } catch (e) {
    err(`axr bench: cannot read the runner's rows: ${(e as Error).message}\n`);
    return ExitCode.runtime;
  }
  plotRows(rows, plot);
  return ExitCode.ok;
}
