/**
 * `axr serve`: the Open Inference Protocol (KServe v2, HTTP/REST) over the runtime,
 * for every compiled model directory under one folder.
 *
 * @example
 * ```ts
 * import { startServer } from "./mod.ts";
 * const s = await startServer({ models: "models", port: 8000 });
 * // ... GET http://127.0.0.1:8000/v2/health/ready
 * await s.close();
 * ```
 *
 * @module
 */
import { Context } from "../mod.ts";
import { makeHandler, type ModelControl } from "./handler.ts";
import { listen } from "./listen.ts";
import { Metrics } from "./metrics.ts";
import { Repository } from "./repository.ts";

export { HttpError } from "./errors.ts";
export type { ModelControl } from "./handler.ts";

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** The model repository: a folder of compiled model directories. */
  models: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8000; 0 picks a free port. */
  port?: number;
  /** Instances per model (default 1). */
  instances?: number;
  /** Requests waiting per model at most (default 64). */
  maxQueue?: number;
  /** Per-request timeout in ms (default 30000). */
  timeoutMs?: number;
  /** Request body limit in bytes (default 64 MiB). */
  maxBodyBytes?: number;
  /** Bearer token; every route but health and /metrics then requires it. */
  token?: string;
  /** `explicit` opens the repository load/unload routes; `none` (default) refuses them with 400. */
  modelControl?: ModelControl;
  /** Idle, request-head and body timeout per connection in ms (default 30000). */
  httpTimeoutMs?: number;
  /** How long close() waits for open requests before closing their connections, in ms (default 30000). */
  exitTimeoutMs?: number;
  /** Where start-up and shutdown lines go (default: stderr). */
  log?: (line: string) => void;
}

/** A running server. */
export interface Server {
  /** Where it listens. */
  readonly url: string;
  readonly port: number;
  /**
   * Stops accepting, finishes what is in flight, releases the devices, within the exit
   * timeout: requests still open then have their connections closed.
   */
  close(): Promise<void>;
}

/**
 * Loads every model under `models` and serves them.
 *
 * @example
 * ```ts
 * const s = await startServer({ models: "tests/fixtures", port: 0 });
 * console.log(s.url);
 * await s.close();
 * ```
 */
export async function startServer(opts: ServeOptions): Promise<Server> {
  const ctx = new Context();
  try {
    const conn = ctx.deviceConnect();
    const repo = new Repository(opts.models, ctx, conn, {
      instances: opts.instances ?? 1,
      maxQueue: opts.maxQueue ?? 64,
      timeoutMs: opts.timeoutMs ?? 30_000,
    });
    const log = opts.log ?? ((line: string) => console.error(line));
    for (const [name, why] of repo.loadAll()) log(`axr serve: model '${name}' failed to load: ${why}`);
    const metrics = new Metrics();
    const handle = makeHandler(repo, metrics, { token: opts.token, modelControl: opts.modelControl ?? "none" });
    const host = opts.host ?? "127.0.0.1";
    const l = await listen(host, opts.port ?? 8000, {
      maxBodyBytes: opts.maxBodyBytes ?? 64 << 20,
      timeoutMs: opts.httpTimeoutMs ?? 30_000,
    }, handle);
    const exitTimeoutMs = opts.exitTimeoutMs ?? 30_000;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host.includes(":") ? `[${host}]` : host}:${l.port}`,
      port: l.port,
      close: () =>
        closing ??= (async () => {
          // the connections get the exit timeout less what releasing the models may take
          const deadline = performance.now() + exitTimeoutMs - Math.min(1000, exitTimeoutMs / 4);
          handle.state.draining = true; // readiness 503: load balancers stop sending
          const cut = await l.close(deadline);
          if (cut > 0) log(`axr serve: exit timeout: closed ${cut} connection(s) with a request still open`);
          handle.state.stopping = true;
          await repo.close();
          ctx.release();
        })(),
    };
  } catch (e) {
    ctx.release();
    throw e;
  }
}
