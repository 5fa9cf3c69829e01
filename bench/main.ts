/**
 * bench/main.ts: the benchmark runner (`deno task bench`, or `bun bench/main.ts`).
 *
 *   deno task bench            a table of every row, for Deno and then Bun
 *   deno task bench --json     one JSON object per line (see bench/row.ts, BenchRow)
 *   deno task bench --help     the flags ({@link benchSpec}); unknown flags are usage errors (exit 2)
 *
 * Under Deno it runs its own benches and then spawns itself under Bun (`bun bench/main.ts
 * --json --only-this-runtime`) for the Bun rows, when `bun` is on PATH (scripts/task.sh
 * puts it there). Bench modules: bench/kernels.ts (always) and the optional modules listed in
 * OPTIONAL below, imported dynamically when their file exists; each exports a function
 * returning `BenchRow[]` (or a promise of them) and `benchRows`, the names of its rows (or
 * prefixes ending in `*`): with `--filter X`, a module none of whose rows can contain X is
 * not run, and the function gets `{ filter }` to skip its own rows. To add one, create the
 * file and add a line.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { formatHelp, parseArgs } from "../cli/args.ts";
import { ExitCode, UsageError } from "../cli/errors.ts";
import { benchRows as kernelRows, runKernels } from "./kernels.ts";
import { benchSpec } from "./spec.ts";
import { type BenchRow, rowsMayMatch, runtimeName } from "./row.ts";

const HERE = dirname(fileURLToPath(import.meta.url));

/** Optional bench modules: [file in bench/, exported function name]. */
const OPTIONAL: [string, string][] = [
  ["run_overhead.ts", "runOverhead"],
  ["postamble.ts", "postambleBench"],
  ["emulator.ts", "emulatorBench"],
  ["emulator_cpu.ts", "emulatorCpuBench"],
  ["emulator_threads.ts", "emulatorThreadsBench"],
  ["emulator_conv.ts", "emulatorConvBench"],
  ["serve.ts", "runServe"],
  ["timing.ts", "timingBench"],
  ["zoo.ts", "zooBench"],
];

interface RunOptions {
  json: boolean;
  filter: string;
}

function emit(rows: BenchRow[], all: BenchRow[], { json, filter }: RunOptions): void {
  for (const r of rows) {
    if (filter && !r.bench.includes(filter)) continue;
    all.push(r);
    if (json) console.log(JSON.stringify(r));
  }
}

function table(rows: BenchRow[]): string {
  const cols = ["bench", "runtime", "ours_ms", "peer", "peer_ms", "ratio", "gbps", "note"] as const;
  const fmt = (v: unknown) =>
    v === undefined ? "" : typeof v === "number" && Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v);
  const cells = rows.map((r) => cols.map((c) => fmt(r[c])));
  const w = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (v: readonly string[]) => v.map((s, i) => s.padEnd(w[i])).join("  ").trimEnd();
  return [line(cols), line(w.map((n) => "-".repeat(n))), ...cells.map(line)].join("\n");
}

/**
 * Runs the benchmarks with the runner's flags `argv`; returns the exit code.
 *
 * @example
 * ```ts
 * const code = await benchRunnerMain(["--json", "--filter", "quantize"]);
 * ```
 */
export async function benchRunnerMain(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(benchSpec, argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`bench: ${e.message}\n\n${formatHelp(benchSpec)}`);
    return ExitCode.usage;
  }
  if (parsed.help) {
    console.log(formatHelp(benchSpec));
    return ExitCode.ok;
  }
  const json = parsed.boolean("json");
  const onlyHere = parsed.boolean("only-this-runtime");
  const numpy = parsed.boolean("numpy");
  const filter = parsed.string("filter") ?? "";
  const opts = { json, filter };
  const rows: BenchRow[] = [];
  const skip = (file: string) => console.error(`[bench] ${file}: skipped, no row can match --filter ${filter}`);
  if (rowsMayMatch(kernelRows, filter)) emit(await runKernels({ numpy }), rows, opts);
  else skip("kernels.ts");
  for (const [file, fn] of OPTIONAL) {
    if (!existsSync(join(HERE, file))) continue;
    try {
      const mod = await import(`./${file}`);
      if (typeof mod[fn] !== "function") {
        console.error(`[bench] ${file} does not export ${fn}()`);
        continue;
      }
      // a module declares its rows (benchRows): with --filter, one without a match is skipped
      if (Array.isArray(mod.benchRows) && !rowsMayMatch(mod.benchRows, filter)) {
        skip(file);
        continue;
      }
      // a module may also skip its own rows that the filter drops (postamble.ts does)
      emit(await mod[fn]({ filter }), rows, opts);
    } catch (e) {
      console.error(`[bench] ${file}: ${e instanceof Error ? e.stack ?? e.message : e}`);
    }
  }
  if (!onlyHere && runtimeName() === "deno") {
    const child = [join(HERE, "main.ts"), "--json", "--only-this-runtime", ...argv.filter((a) => a !== "--json")];
    const r = spawnSync("bun", child, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (r.error) console.error(`[bench] no Bun rows: ${r.error.message}`);
    else {
      for (const l of r.stdout.split("\n")) {
        if (l.trim().startsWith("{")) emit([JSON.parse(l)], rows, opts);
      }
      if (r.status !== 0) console.error(`[bench] bun run exited with ${r.status}`);
    }
  }
  if (!json) console.log(table(rows));
  return 0;
}

if (import.meta.main) process.exitCode = await benchRunnerMain(process.argv.slice(2));
