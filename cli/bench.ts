/**
 * `axr bench`: runs the benchmarks (bench/main.ts) and, with `--plot out.svg`,
 * draws their ratios as an SVG chart. `--rows FILE` plots rows saved earlier
 * with `axr bench --json > rows.json` (or `deno task bench --json`) without
 * running anything.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
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
export function benchMain(argv: string[]): Promise<number> {
  try {
    return Promise.resolve(benchSync(argv));
  } catch (e) {
    return Promise.reject(e);
  }
}

function benchSync(argv: string[]): number {
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

  // bench/main.ts is a script (it runs on import and reads process.argv): run it in a
  // child process of the same runtime.
  const url = new URL("../bench/main.ts", import.meta.url);
  const script = url.protocol === "file:" ? fileURLToPath(url) : "";
  if (!script || !existsSync(script)) {
    if (help) {
      out(HELP + "\n(the benchmark runner bench/main.ts is not part of this build)\n");
      return ExitCode.ok;
    }
    err("axr bench: not available in this build (the benchmark runner bench/main.ts is missing)\n");
    return ExitCode.usage;
  }
  if (help) {
    out(HELP);
    return ExitCode.ok;
  }
  const runtimeArgs = typeof process.versions.bun === "string" ? [script] : ["run", "-A", script];
  if (plot.value === undefined) {
    const r = spawnSync(process.execPath, [...runtimeArgs, ...rest], { stdio: "inherit" });
    return r.status ?? ExitCode.runtime;
  }
  const r = spawnSync(process.execPath, [...runtimeArgs, "--json", ...rest.filter((a) => a !== "--json")], {
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
  plotRows(rows, plot.value);
  return ExitCode.ok;
}
