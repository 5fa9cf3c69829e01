/**
 * `axr serve --models DIR [flags]`: the Open Inference Protocol (v2) over every model
 * directory under DIR, until SIGTERM/SIGINT (then: stop accepting, finish what is in
 * flight within `--exit-timeout`, release the devices, exit 0).
 *
 * @module
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import process from "node:process";
import { type ModelControl, startServer } from "../serve/mod.ts";
import { type CommandSpec, formatHelp, parseArgs, type ParsedArgs } from "./args.ts";
import { FileError, UsageError } from "./errors.ts";
import { err } from "./output.ts";

/**
 * The flags of `axr serve`.
 *
 * @example
 * ```ts
 * import { formatHelp } from "./args.ts";
 * console.log(formatHelp(serveSpec));
 * ```
 */
export const serveSpec: CommandSpec = {
  name: "serve",
  summary: "serve compiled models over the KServe/Triton v2 protocol (HTTP)",
  positionals: [],
  flags: [
    { name: "models", type: "string", valueName: "DIR", description: "the model repository (required)" },
    { name: "host", type: "string", default: "127.0.0.1", valueName: "H", description: "address to listen on" },
    { name: "port", type: "number", integer: true, min: 0, default: 8000, valueName: "P", description: "0: any" },
    { name: "instances", type: "number", integer: true, min: 1, default: 1, description: "instances per model" },
    { name: "max-queue", type: "number", integer: true, min: 0, default: 64, description: "waiting requests/model" },
    {
      name: "timeout-ms",
      type: "number",
      integer: true,
      min: 1,
      default: 30000,
      valueName: "MS",
      description: "per-request timeout from admission: body, queue and run (504)",
    },
    {
      name: "max-body-bytes",
      type: "number",
      integer: true,
      min: 1,
      default: 64 << 20,
      valueName: "B",
      description: "request body limit (413)",
    },
    {
      name: "http-timeout",
      type: "number",
      min: 0.1,
      default: 30,
      valueName: "S",
      description: "idle, request-head and body timeout per connection",
    },
    {
      name: "exit-timeout",
      type: "number",
      min: 0.1,
      default: 30,
      valueName: "S",
      description: "on SIGTERM, how long open requests may take before their connections are closed",
    },
    {
      name: "model-control",
      type: "string",
      default: "none",
      valueName: "MODE",
      description: "none: load/unload refused (400); explicit: allowed",
    },
    { name: "token", type: "string", valueName: "T", description: "bearer token (visible in ps: prefer the next two)" },
    { name: "token-file", type: "string", valueName: "FILE", description: "read the bearer token from FILE" },
  ],
  epilog: `Serves every model directory (with a model.json) under DIR, symbolic links to
directories included. The bearer token comes from --token, --token-file or the
environment variable AXR_SERVE_TOKEN (at most one of them); it is required on every
route but /v2/health/* and /metrics. Stop with SIGTERM or SIGINT.`,
};

/** One line for `axr --help`. */
export const serveSummary = serveSpec.summary;

/** The token from --token, --token-file or AXR_SERVE_TOKEN; undefined for none. Never empty. */
function tokenOf(a: ParsedArgs): string | undefined {
  const env = process.env.AXR_SERVE_TOKEN;
  const sources = [
    a.given("token") && "--token",
    a.given("token-file") && "--token-file",
    env !== undefined && "AXR_SERVE_TOKEN",
  ]
    .filter((s) => s);
  if (sources.length > 1) throw new UsageError(`give the token once, not by ${sources.join(" and ")}`, "serve");
  let token: string | undefined;
  let from = sources[0];
  if (a.given("token")) token = a.string("token");
  else if (a.given("token-file")) {
    const file = a.string("token-file")!;
    if (!existsSync(file)) throw new FileError(`--token-file: '${file}' does not exist`);
    token = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    from = `--token-file '${file}'`;
  } else token = env;
  // An empty token would mean "no auth" to a reader of the command line: refused.
  if (token !== undefined && token.trim() === "") {
    throw new UsageError(`${from}: the token is empty (leave it out to serve without a token)`, "serve");
  }
  if (token !== undefined && /[\s]/.test(token)) throw new UsageError(`${from}: the token holds white space`, "serve");
  return token;
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
  const a = parseArgs(serveSpec, argv);
  if (a.help) {
    console.log(formatHelp(serveSpec));
    return 0;
  }
  const models = a.string("models");
  if (!models) throw new UsageError("--models DIR is required", "serve");
  const control = a.string("model-control")!;
  if (control !== "none" && control !== "explicit") {
    throw new UsageError(`--model-control must be none or explicit, got '${control}'`, "serve");
  }
  const token = tokenOf(a);
  if (!existsSync(models) || !statSync(models).isDirectory()) {
    throw new FileError(`--models: '${models}' is not a directory`);
  }
  const exitTimeoutMs = a.number("exit-timeout")! * 1000;
  const server = await startServer({
    models,
    host: a.string("host"),
    port: a.number("port"),
    instances: a.number("instances"),
    maxQueue: a.number("max-queue"),
    timeoutMs: a.number("timeout-ms"),
    maxBodyBytes: a.number("max-body-bytes"),
    httpTimeoutMs: a.number("http-timeout")! * 1000,
    exitTimeoutMs,
    modelControl: control as ModelControl,
    token,
    log: (line) => err(line + "\n"),
  });
  err(`axr serve: listening on ${server.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      err("axr serve: stopping (finishing in-flight requests)\n");
      // close() keeps to the exit timeout; this is the backstop should releasing hang
      const backstop = setTimeout(() => {
        err("axr serve: exit timeout reached\n");
        resolve();
      }, exitTimeoutMs);
      server.close().then(resolve, resolve).finally(() => clearTimeout(backstop));
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  return 0;
}
