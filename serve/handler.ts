/**
 * The v2 REST routes over a {@link Repository}, independent of the HTTP listener:
 * a request in, a response out, never a throw.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { HttpError } from "./errors.ts";
import type { Metrics } from "./metrics.ts";
import { encodeInferResponse, parseInferRequest } from "./protocol.ts";
import { runRaw } from "./raw.ts";
import type { Repository } from "./repository.ts";

/** A request as the listener hands it over. */
export interface ServeRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  /** Who sent it: one key per connection (fair sharing of a full queue). */
  client?: string;
  /**
   * Reads the body, at most the size limit: an {@link HttpError} 413 when longer, 408
   * when the client stalls. Called only once a request is admitted (token, route, model
   * and a place in the model's queue), so a refused request costs no body.
   */
  body(): Promise<Uint8Array>;
}

/** A response for the listener to send. */
export interface ServeResponse {
  status: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

const enc = new TextEncoder();

/**
 * A JSON response.
 *
 * @example
 * ```ts
 * jsonResponse(200, { live: true });
 * ```
 */
export function jsonResponse(status: number, value: unknown, headers: Record<string, string> = {}): ServeResponse {
  return {
    status,
    headers: { "Content-Type": "application/json", ...headers },
    body: enc.encode(JSON.stringify(value)),
  };
}

/** Options of {@link makeHandler}. */
export interface HandlerOptions {
  /** Bearer token required on every route but health and metrics. */
  token?: string;
  /** Server name in GET /v2. */
  name?: string;
  /** Version in GET /v2. */
  version?: string;
  /** `explicit`: the repository load/unload routes work; `none` (default, as Triton): they answer 400. */
  modelControl?: ModelControl;
}

/** Triton's model control modes that `axr serve` has: models are loaded at start in both. */
export type ModelControl = "none" | "explicit";

function tokenOk(header: string | undefined, token: string): boolean {
  const got = enc.encode(header?.startsWith("Bearer ") ? header.slice(7) : "");
  const want = enc.encode(token);
  // constant time in the token's content; length differences compare against itself
  return timingSafeEqual(got.length === want.length ? got : want, want) && got.length === want.length;
}

/**
 * Makes the route handler.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * import { Metrics } from "./metrics.ts";
 * import { Repository } from "./repository.ts";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const repo = new Repository("tests/fixtures", ctx, conn, { instances: 1, maxQueue: 64, timeoutMs: 10_000 });
 * const handle = makeHandler(repo, new Metrics(), { token: "s3cret" });
 * const res = await handle({
 *   method: "GET",
 *   url: "/v2/health/live",
 *   headers: {},
 *   body: () => Promise.resolve(new Uint8Array()),
 * });
 * console.log(res.status); // 200
 * ```
 */
export function makeHandler(
  repo: Repository,
  metrics: Metrics,
  opts: HandlerOptions = {},
): ((req: ServeRequest) => Promise<ServeResponse>) & { state: { draining: boolean; stopping: boolean } } {
  const state = { draining: false, stopping: false };
  const handle = async (req: ServeRequest): Promise<ServeResponse> => {
    const path = req.url.split("?")[0];
    const parts = path.split("/").filter((p) => p !== "");
    let segs: string[];
    try {
      segs = parts.map((p) => decodeURIComponent(p));
    } catch {
      return jsonResponse(400, { error: `malformed path '${path}'` });
    }
    const m = req.method;
    if (m === "GET" && path === "/v2/health/live") return jsonResponse(200, { live: true });
    if (m === "GET" && path === "/v2/health/ready") {
      return jsonResponse(state.draining ? 503 : 200, { ready: !state.draining });
    }
    if (m === "GET" && path === "/metrics") {
      return {
        status: 200,
        headers: { "Content-Type": "text/plain; version=0.0.4" },
        body: enc.encode(metrics.render(repo)),
      };
    }
    if (opts.token !== undefined && !tokenOk(req.headers["authorization"], opts.token)) {
      return jsonResponse(401, { error: "missing or wrong bearer token (Authorization: Bearer ...)" }, {
        "WWW-Authenticate": "Bearer",
      });
    }
    if (segs[0] !== "v2") return jsonResponse(404, { error: `no route ${m} ${path}` });
    if (m === "GET" && segs.length === 1) {
      return jsonResponse(200, {
        name: opts.name ?? "axr",
        version: opts.version ?? "0.1.0",
        extensions: ["binary_tensor_data", "model_repository"],
      });
    }
    if (m === "POST" && segs[1] === "repository") {
      if (segs.length === 3 && segs[2] === "index") return jsonResponse(200, repo.index());
      const control = segs.length === 5 && segs[2] === "models" && (segs[4] === "load" || segs[4] === "unload");
      if (control && opts.modelControl !== "explicit") {
        return jsonResponse(400, {
          error: `model control mode is 'none': models are loaded at start; ${
            segs[4]
          } needs the server started with --model-control explicit`,
        });
      }
      if (segs.length === 5 && segs[2] === "models" && segs[4] === "load") {
        if (state.stopping) return jsonResponse(503, { error: "the server is shutting down" });
        repo.load(segs[3]);
        return jsonResponse(200, {});
      }
      if (segs.length === 5 && segs[2] === "models" && segs[4] === "unload") {
        await repo.unload(segs[3]);
        return jsonResponse(200, {});
      }
      return jsonResponse(404, { error: `no route ${m} ${path}` });
    }
    if (segs[1] !== "models" || segs.length < 3) return jsonResponse(404, { error: `no route ${m} ${path}` });
    const name = segs[2];
    let rest = segs.slice(3);
    if (rest[0] === "versions") {
      if (rest.length < 2) return jsonResponse(404, { error: `no route ${m} ${path}` });
      if (rest[1] !== "1") {
        return jsonResponse(400, { error: `model '${name}' has no version '${rest[1]}' (versions: 1)` });
      }
      rest = rest.slice(2);
    }
    const lm = repo.get(name);
    if (!lm) return jsonResponse(400, { error: `unknown model '${name}' (not in the repository, or not loaded)` });
    if (m === "GET" && rest.length === 0) {
      return jsonResponse(200, {
        name,
        versions: ["1"],
        platform: "axelera_metis",
        inputs: lm.signature.inputs,
        outputs: lm.signature.outputs,
        // What a request with "parameters": {"raw": true} sends and gets back.
        parameters: { raw_inputs: lm.raw.inputs, raw_outputs: lm.raw.outputs },
      });
    }
    if (m === "GET" && rest.length === 1 && rest[0] === "ready") return jsonResponse(200, { name, ready: true });
    if (m === "POST" && rest.length === 1 && rest[0] === "infer") {
      const t0 = performance.now();
      let status = 500;
      try {
        if (state.stopping) throw new HttpError(503, "the server is shutting down", { "Retry-After": "1" });
        // Admission first: a place in the queue before the body is read or parsed, so a
        // refused request costs its headers only.
        const ticket = lm.scheduler.admit(req.client);
        let parsed;
        try {
          parsed = parseInferRequest(
            await req.body(),
            req.headers["inference-header-content-length"],
            lm.signature,
            lm.raw,
          );
        } catch (e) {
          ticket.cancel();
          throw e;
        }
        const outs = await ticket.submit(
          parsed.raw
            ? (inst) => runRaw(inst, lm.model, lm.raw, parsed.inputs)
            : (inst) => inst.inferAsync(parsed.inputs),
        );
        const { body, headerLength } = encodeInferResponse(name, parsed, outs);
        status = 200;
        return {
          status,
          headers: headerLength === undefined
            ? { "Content-Type": "application/json" }
            : { "Content-Type": "application/octet-stream", "Inference-Header-Content-Length": String(headerLength) },
          body,
        };
      } catch (e) {
        status = e instanceof HttpError ? e.status : 500;
        throw e;
      } finally {
        metrics.observe(name, status, (performance.now() - t0) / 1000);
      }
    }
    return jsonResponse(404, { error: `no route ${m} ${path}` });
  };
  const safe = async (req: ServeRequest): Promise<ServeResponse> => {
    try {
      return await handle(req);
    } catch (e) {
      if (e instanceof HttpError) return jsonResponse(e.status, { error: e.message }, e.headers);
      const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      // the runtime's InvalidArgument is the client's fault (its input); anything else is ours
      const status = e instanceof Error && /InvalidArgument|ValueError/.test(e.name) ? 400 : 500;
      return jsonResponse(status, { error: msg });
    }
  };
  return Object.assign(safe, { state });
}
