/**
 * `axr serve --models DIR [--host H] [--port P] [--instances N] [--max-queue N]
 * [--timeout-ms MS] [--token T]`: the Open Inference Protocol (v2) over every model
 * directory under DIR, until SIGTERM/SIGINT (then: stop accepting, finish what is in
 * flight, release the devices).
 *
 * @module
 */
import { existsSync, statSync } from "node:fs";
import process from "node:process";
import { startServer } from "../serve/mod.ts";
import { FileError, UsageError } from "./errors.ts";
import { err } from "./output.ts";

/** One line for `axr --help`. */
export const serveSummary = "serve compiled models over the KServe/Triton v2 protocol (HTTP)";

const help = `Usage: axr serve --models DIR [--host 127.0.0.1] [--port 8000] [--instances 1]
                 [--max-queue 64] [--timeout-ms 30000] [--max-body-bytes 67108864] [--token T]
Serves every model directory (with a model.json) under DIR. The bearer token may also come
from AXR_SERVE_TOKEN. Stop with SIGTERM or SIGINT.`;

function intFlag(name: string, v: string, min: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min) {
    throw new UsageError(`--${name} needs an integer >= ${min}, got '${v}'`, "serve");
  }
  return Number(v);
}

/**
 * Runs the server until a signal; resolves to the exit code.
 *
 * @example
 * ```ts
 * await serveMain(["--models", "models", "--port", "8000"]);
 * ```
 */
export async function serveMain(argv: string[]): Promise<number> {
  const f: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--help" || a === "-h") {
      console.log(help);
      return 0;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (
      !m ||
      !["models", "host", "port", "instances", "max-queue", "timeout-ms", "max-body-bytes", "token"].includes(m[1])
    ) {
      throw new UsageError(`unknown argument '${a}'`, "serve");
    }
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new UsageError(`--${m[1]} needs a value`, "serve");
    f[m[1]] = v;
  }
  if (!f.models) throw new UsageError("--models DIR is required", "serve");
  if (!existsSync(f.models) || !statSync(f.models).isDirectory()) {
    throw new FileError(`--models: '${f.models}' is not a directory`);
  }
  const server = await startServer({
    models: f.models,
    host: f.host ?? "127.0.0.1",
    port: f.port === undefined ? 8000 : intFlag("port", f.port, 0),
    instances: f.instances === undefined ? 1 : intFlag("instances", f.instances, 1),
    maxQueue: f["max-queue"] === undefined ? 64 : intFlag("max-queue", f["max-queue"], 0),
    timeoutMs: f["timeout-ms"] === undefined ? 30_000 : intFlag("timeout-ms", f["timeout-ms"], 1),
    maxBodyBytes: f["max-body-bytes"] === undefined ? 64 << 20 : intFlag("max-body-bytes", f["max-body-bytes"], 1),
    token: f.token ?? (process.env.AXR_SERVE_TOKEN || undefined),
  });
  err(`axr serve: listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      err("axr serve: stopping (finishing in-flight requests)\n");
      server.close().then(resolve, resolve);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  return 0;
}
