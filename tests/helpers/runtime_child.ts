/**
 * Spawning a script under Deno or Bun from a test (node:child_process, which
 * both runtimes support).
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The JS runtime running this test. */
export const currentRuntime: "deno" | "bun" = "Bun" in globalThis ? "bun" : "deno";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * The executable of `runtime`: this process's own for the current runtime,
 * else the pinned one in .tools/bin, else the PATH's.
 *
 * @example
 * ```ts
 * const deno = runtimeExecutable("deno");
 * ```
 */
export function runtimeExecutable(runtime: "deno" | "bun"): string {
  if (runtime === currentRuntime) return process.execPath;
  const pinned = join(root, ".tools", "bin", runtime);
  return existsSync(pinned) ? pinned : runtime;
}

/**
 * The command line that runs `script` under `runtime`.
 *
 * @example
 * ```ts
 * const [cmd, args] = scriptCommand("deno", "examples/quickstart.ts");
 * ```
 */
export function scriptCommand(
  runtime: "deno" | "bun",
  script: string,
  args: string[] = [],
  denoFlags: string[] = [],
): [string, string[]] {
  const exe = runtimeExecutable(runtime);
  return runtime === "deno" ? [exe, ["run", "-A", "--quiet", ...denoFlags, script, ...args]] : [exe, [script, ...args]];
}

/**
 * Runs `script` to completion; returns exit status and output.
 *
 * @example
 * ```ts
 * const r = runScript("bun", "examples/quickstart.ts", { env: { ...process.env } });
 * ```
 */
export function runScript(
  runtime: "deno" | "bun",
  script: string,
  opts: { env?: Record<string, string | undefined>; args?: string[]; timeoutMs?: number; denoFlags?: string[] } = {},
): { status: number | null; stdout: string; stderr: string } {
  const [cmd, args] = scriptCommand(runtime, script, opts.args, opts.denoFlags);
  const r = spawnSync(cmd, args, {
    cwd: root,
    env: opts.env ?? process.env,
    encoding: "utf8",
    timeout: opts.timeoutMs ?? 60000,
  });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** A running child that printed a line `ready` (or failed). */
export interface ReadyChild {
  /** Its first output line ("ready ..." or an error). */
  line: string;
  /** Closes its stdin (it exits) and waits for the exit. */
  stop(): Promise<number | null>;
}

/**
 * Starts `script` under the current runtime and waits for its first stdout line.
 *
 * @example
 * ```ts
 * const child = await startUntilLine("tests/helpers/hold_device.ts", env);
 * await child.stop();
 * ```
 */
export function startUntilLine(
  script: string,
  env: Record<string, string | undefined>,
  args: string[] = [],
): Promise<ReadyChild> {
  const [cmd, argv] = scriptCommand(currentRuntime, script, args);
  const child = spawn(cmd, argv, { cwd: root, env, stdio: ["pipe", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let out = "";
  let err = "";
  child.stderr!.on("data", (d) => (err += String(d)));
  return new Promise<ReadyChild>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error(`${script}: no output line within 60 s; stderr: ${err}`));
    }, 60000);
    child.stdout!.on("data", (d) => {
      out += String(d);
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({
          line: out.slice(0, nl),
          stop: () => {
            child.stdin!.end();
            return exited;
          },
        });
      }
    });
    exited.then((code) => {
      clearTimeout(timer);
      if (!out.includes("\n")) reject(new Error(`${script} exited (${code}) before a line; stderr: ${err}`));
    });
  });
}
