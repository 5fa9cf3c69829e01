/**
 * bench/main.ts: the benchmark runner (`deno task bench`, or `bun bench/main.ts`).
 *
 *   deno task bench            a table of every row, for Deno and then Bun
 *   deno task bench --json     one JSON object per line (see bench/row.ts, BenchRow)
 *   options: --only-this-runtime (no child run under the other runtime), --no-numpy,
 *            --filter SUBSTRING (only benches whose name contains it)
 *
 * Under Deno it runs its own benches and then spawns itself under Bun (`bun bench/main.ts
 * --json --only-this-runtime`) for the Bun rows, when `bun` is on PATH (scripts/task.sh
 * puts it there). Bench modules: bench/kernels.ts (always) and the optional modules listed in
 * OPTIONAL below, imported dynamically when their file exists; each exports a function
 * returning `BenchRow[]` (or a promise of them). To add one, create the file and add a line.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { runKernels } from "./kernels.ts";
import { type BenchRow, runtimeName } from "./row.ts";

const HERE = dirname(fileURLToPath(import.meta.url));

/** Optional bench modules: [file in bench/, exported function name]. */
const OPTIONAL: [string, string][] = [
  ["run_overhead.ts", "runOverhead"],
  ["postamble.ts", "postambleBench"],
  ["emulator.ts", "emulatorBench"],
  ["serve.ts", "runServe"],
  ["timing.ts", "timingBench"],
];

const args = process.argv.slice(2);
const json = args.includes("--json");
const onlyHere = args.includes("--only-this-runtime");
const numpy = !args.includes("--no-numpy");
const fi = args.indexOf("--filter");
const filter = fi >= 0 ? args[fi + 1] ?? "" : "";

function emit(rows: BenchRow[], all: BenchRow[]): void {
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

async function main(): Promise<number> {
  const rows: BenchRow[] = [];
  const kernelBenches = ["copy_bandwidth", "quantize_pad_640", "depad_dequant_yolo"];
  if (!filter || kernelBenches.some((b) => b.includes(filter) || filter.includes(b))) {
    emit(await runKernels({ numpy }), rows);
  }
  for (const [file, fn] of OPTIONAL) {
    if (!existsSync(join(HERE, file))) continue;
    try {
      const mod = await import(`./${file}`);
      if (typeof mod[fn] !== "function") {
        console.error(`[bench] ${file} does not export ${fn}()`);
        continue;
      }
      emit(await mod[fn](), rows);
    } catch (e) {
      console.error(`[bench] ${file}: ${e instanceof Error ? e.stack ?? e.message : e}`);
    }
  }
  if (!onlyHere && runtimeName() === "deno") {
    const child = [join(HERE, "main.ts"), "--json", "--only-this-runtime", ...args.filter((a) => a !== "--json")];
    const r = spawnSync("bun", child, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
    if (r.error) console.error(`[bench] no Bun rows: ${r.error.message}`);
    else {
      for (const l of r.stdout.split("\n")) {
        if (l.trim().startsWith("{")) emit([JSON.parse(l)], rows);
      }
      if (r.status !== 0) console.error(`[bench] bun run exited with ${r.status}`);
    }
  }
  if (!json) console.log(table(rows));
  return 0;
}

process.exitCode = await main();
