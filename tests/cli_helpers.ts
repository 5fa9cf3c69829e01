/**
 * Test helpers for the `axr` command: run it as a user would, in a child
 * process of the current runtime (deno or bun), with a private emulator state
 * directory.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const root: string = fileURLToPath(new URL("..", import.meta.url));
/** cli/main.ts. */
export const cliMain: string = join(root, "cli", "main.ts");
/** The tiny fixture model. */
export const tinyModel: string = join(root, "tests", "fixtures", "tiny", "model.json");
/** True under bun test. */
export const isBun: boolean = typeof process.versions.bun === "string";

/** What a finished child process left. */
export interface CliResult {
  /** Exit code (null if killed). */
  code: number | null;
  /** Standard output. */
  stdout: string;
  /** Standard error. */
  stderr: string;
}

/** A fresh temp directory; remove it with {@link removeDir}. */
export function tempDir(prefix = "axr-cli-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Removes a directory tree, ignoring errors. */
export function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch { /* already gone */ }
}

/** The command line that runs `axr ARGS` under the current runtime. */
export function axrCommand(args: string[]): { cmd: string; argv: string[] } {
  return { cmd: process.execPath, argv: isBun ? [cliMain, ...args] : ["run", "-A", cliMain, ...args] };
}

/** Environment for a child: a private emulator state dir, no colours, overrides on top. */
export function childEnv(stateDir: string, extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.AXR_EMU_STATE_DIR = stateDir;
  env.NO_COLOR = "1";
  delete env.AXR_EMU_DEVICES;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `axr ARGS` to completion. */
export function runAxr(
  args: string[],
  options: { stateDir: string; env?: Record<string, string | undefined>; cwd?: string; timeoutMs?: number },
): CliResult {
  const { cmd, argv } = axrCommand(args);
  const r = spawnSync(cmd, argv, {
    cwd: options.cwd ?? root,
    env: childEnv(options.stateDir, options.env),
    encoding: "utf8",
    timeout: options.timeoutMs ?? 120_000,
  });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/**
 * Starts `axr ARGS` in the background and resolves once its stdout contains
 * `marker`; `done` resolves with the final result.
 */
export function startAxr(
  args: string[],
  options: { stateDir: string; env?: Record<string, string | undefined>; marker: string; timeoutMs?: number },
): Promise<{ done: Promise<CliResult> }> {
  const { cmd, argv } = axrCommand(args);
  const child = spawn(cmd, argv, {
    cwd: root,
    env: childEnv(options.stateDir, options.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "", stderr = "";
  let seen: (() => void) | undefined;
  const ready = new Promise<void>((resolve) => (seen = resolve));
  child.stdout!.setEncoding("utf8");
  child.stderr!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => {
    stdout += d;
    if (stdout.includes(options.marker)) seen?.();
  });
  child.stderr!.on("data", (d: string) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => {
    child.on("close", (code) => {
      seen?.();
      resolve({ code, stdout, stderr });
    });
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  done.then(() => clearTimeout(timer));
  return ready.then(() => ({ done }));
}
