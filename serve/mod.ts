/**
 * `axr serve`: the Open Inference Protocol (KServe v2, HTTP/REST) over the runtime,
 * for every compiled model directory under one folder.
 *
 * @example
 * ```ts
 * import { startServer } from "./serve/mod.ts";
 * const s = await startServer({ models: "models", port: 8000 });
 * // ... GET http://127.0.0.1:8000/v2/health/ready
 * await s.close();
 * ```
 *
 * @module
 */
import { Context } from "../mod.ts";
import { makeHandler } from "./handler.ts";
import { listen } from "./listen.ts";
import { Metrics } from "./metrics.ts";
import { Repository } from "./repository.ts";

export { HttpError } from "./errors.ts";

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
}

/** A running server. */
export interface Server {
  /** Where it listens. */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, finishes what is in flight, releases the devices. */
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
    repo.loadAll();
    const metrics = new Metrics();
    const handle = makeHandler(repo, metrics, { token: opts.token });
    const host = opts.host ?? "127.0.0.1";
    const l = await listen(host, opts.port ?? 8000, opts.maxBodyBytes ?? 64 << 20, handle);
    let closing: Promise<void> | undefined;
    return {
      url: `http://${host.includes(":") ? `[${host}]` : host}:${l.port}`,
      port: l.port,
      close: () =>
        closing ??= (async () => {
          handle.state.draining = true; // readiness 503: load balancers stop sending
          await l.close();
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
