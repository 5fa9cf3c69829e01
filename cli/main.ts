/**
 * The `axr` command: `axr devices | run-model | compile | bench | serve`.
 *
 *     deno task axr devices                  # under Deno
 *     bun cli/main.ts run-model model.json   # under Bun
 *     ./dist/axr run-model model.json        # the single-file executable
 *
 * Exit codes scripts can rely on: 0 ok, 1 runtime failure (device error),
 * 2 usage error (bad flags), 3 file not found / bad model (docs/cli.md).
 *
 * @module
 */
import process from "node:process";
import denoJson from "../deno.json" with { type: "json" };
import { benchMain, benchSummary } from "./bench.ts";
import { compileMain, compileSummary } from "./compile.ts";
import { devicesMain, devicesSpec } from "./devices.ts";
import { ExitCode, exitCodeOf, UsageError } from "./errors.ts";
import { err, out } from "./output.ts";
import { runModelMain, runModelSpec } from "./run_model.ts";
import { serveMain, serveSummary } from "./serve.ts";

/** The version printed by `axr --version`: the package's, from deno.json (the one source). */
export const version: string = denoJson.version;

interface Command {
  summary: string;
  run: (argv: string[]) => Promise<number>;
}

const commands: Record<string, Command> = {
  "devices": { summary: devicesSpec.summary, run: devicesMain },
  "run-model": { summary: runModelSpec.summary, run: runModelMain },
  "compile": { summary: compileSummary, run: compileMain },
  "bench": { summary: benchSummary, run: benchMain },
  "serve": { summary: serveSummary, run: serveMain },
};

/**
 * The text of `axr --help`.
 *
 * @example
 * ```ts
 * console.log(topLevelHelp());
 * ```
 */
export function topLevelHelp(): string {
  const lines = [
    "axr: the Axelera Metis runtime command (TypeScript, Deno and Bun)",
    "",
    "Usage: axr COMMAND [flags]",
    "",
    "Commands:",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`),
    "",
    "Flags:",
    "  -h, --help     show this help; `axr COMMAND --help` shows a command's flags",
    "  --version      print the version",
    "",
    "Exit codes: 0 ok, 1 runtime failure (device error), 2 usage error (bad flags),",
    "3 file not found or bad model.",
    "Environment: AXR_LIBRARY (use another libaxruntime-compatible library), AXR_EMU_DEVICES,",
    "AXR_EMU_STATE_DIR, AXR_EMU_SETTLE_MS (the emulated device; see docs/emulator.md).",
  ];
  return lines.join("\n") + "\n";
}

/** "DeviceInUse: ..." for runtime exceptions, the message alone for our own errors. */
function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const own = ["UsageError", "FileError", "RuntimeFailure"];
  const name = e.constructor?.name && e.constructor.name !== "Error" ? e.constructor.name : e.name;
  return own.includes(e.name) || name === "Error" ? e.message : `${name}: ${e.message}`;
}

/**
 * Runs `axr` with its arguments (without the program name); returns the exit
 * code instead of exiting, so that it can be called from code and tests.
 *
 * @example
 * ```ts
 * const code = await main(["devices", "--json"]);
 * ```
 */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    if (name === "help" && rest[0] && commands[rest[0]]) return await commands[rest[0]].run(["--help"]);
    out(topLevelHelp());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  if (name === "--version" || name === "-V") {
    out(`axr ${version}\n`);
    return ExitCode.ok;
  }
  const command = commands[name];
  if (!command) {
    err(`axr: unknown command '${name}' (commands: ${Object.keys(commands).join(", ")}; see axr --help)\n`);
    return ExitCode.usage;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    const code = exitCodeOf(e);
    let text = `axr ${name}: ${describe(e)}\n`;
    if (e instanceof UsageError) text += `(see axr ${name} --help)\n`;
    if (code === ExitCode.runtime && process.env.AXR_DEBUG && e instanceof Error && e.stack) text += e.stack + "\n";
    err(text);
    return code;
  }
}

if (import.meta.main) {
  process.exit(await main(process.argv.slice(2)));
}
