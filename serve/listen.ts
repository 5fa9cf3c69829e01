/**
 * The HTTP listener: the runtime's own server, `Deno.serve` or `Bun.serve`, both of
 * which take a web-standard `(Request) => Response` handler, so everything but the two
 * calls that start and stop them is one code path. Bodies over the size limit are
 * refused with 413.
 *
 * This file is the one place outside `ffi/` that knows which runtime it runs on: the
 * native servers carry 15-50% more classifier requests per second than `node:http` on
 * both runtimes (docs/serving.md, "Throughput").
 *
 * @module
 */
import { jsonResponse, type ServeRequest, type ServeResponse } from "./handler.ts";

const QUIET_MS = 100;
const DRAIN_MAX_MS = 2000;

/** A listening server. */
export interface Listener {
  /** The bound port. */
  port: number;
  /** Drains (Connection: close) until quiet, stops accepting; resolves once every open request was answered. */
  close(): Promise<void>;
}

type WebHandler = (req: Request) => Promise<Response>;

/** What starting a native server gives back: its port and a graceful stop. */
interface Native {
  port: number;
  stop(): Promise<void>;
}

/** The slice of `Deno.serve` and `Bun.serve` used here (typed here: Bun's types are not installed). */
interface RuntimeGlobals {
  Deno?: {
    serve(
      opts: { hostname: string; port: number; onListen?: () => void; onError?: (e: unknown) => Response },
      handler: WebHandler,
    ): { addr: { port: number }; shutdown(): Promise<void>; finished: Promise<void> };
  };
  Bun?: {
    serve(opts: {
      hostname: string;
      port: number;
      maxRequestBodySize: number;
      fetch: WebHandler;
      error?: (e: unknown) => Response;
    }): { port: number; stop(closeActive?: boolean): Promise<void> | void };
  };
}

function internalError(): Response {
  return new Response(JSON.stringify({ error: "internal error" }), {
    status: 500,
    headers: { "Content-Type": "application/json" },
  });
}

function startNative(host: string, port: number, maxBodyBytes: number, fetch: WebHandler): Native {
  const g = globalThis as unknown as RuntimeGlobals;
  if (g.Bun) {
    // Bun answers a body over maxRequestBodySize with a bare 413 of its own. The handler
    // refuses at maxBodyBytes, with the same message as on Deno; Bun's own limit sits
    // above it, a backstop for bodies that arrive faster than the handler reads them.
    const s = g.Bun.serve({
      hostname: host,
      port,
      maxRequestBodySize: 2 * maxBodyBytes + (1 << 20),
      fetch,
      error: internalError,
    });
    return { port: s.port, stop: async () => void (await s.stop(false)) };
  }
  if (g.Deno) {
    const s = g.Deno.serve({ hostname: host, port, onListen: () => {}, onError: internalError }, fetch);
    return { port: s.addr.port, stop: () => s.shutdown() };
  }
  throw new Error("axr serve needs Deno (Deno.serve) or Bun (Bun.serve)");
}

/** Reads a body of at most `max` bytes; undefined when it is longer. */
async function readBody(req: Request, max: number): Promise<Uint8Array | undefined> {
  if (!req.body) return new Uint8Array(0);
  // With a Content-Length (already checked against max) the runtime reads the body in
  // one piece, several times faster on Deno than a chunk loop in JavaScript; the loop
  // below is for chunked bodies, whose size shows only as they arrive.
  if (req.headers.has("content-length")) return new Uint8Array(await req.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return body;
}

function toResponse(r: ServeResponse, closing: boolean): Response {
  const headers = closing ? { ...r.headers, Connection: "close" } : r.headers;
  return new Response(r.body as Uint8Array<ArrayBuffer>, { status: r.status, headers });
}

/**
 * Listens on host:port (port 0: any free port) and hands each request to `handle`.
 *
 * @example
 * ```ts
 * const l = await listen("127.0.0.1", 0, 64 << 20, handle);
 * console.log(l.port);
 * await l.close();
 * ```
 */
export function listen(
  host: string,
  port: number,
  maxBodyBytes: number,
  handle: (r: ServeRequest) => Promise<ServeResponse>,
): Promise<Listener> {
  let open = 0;
  let idle: (() => void) | undefined;
  let closing = false;
  let lastRequest = 0;
  const tooLarge = (what: string) => toResponse(jsonResponse(413, { error: what }), true);
  const fetch = async (req: Request): Promise<Response> => {
    open++;
    lastRequest = performance.now();
    try {
      const declared = Number(req.headers.get("content-length") ?? 0);
      if (declared > maxBodyBytes) {
        return tooLarge(`request body of ${declared} bytes exceeds the limit of ${maxBodyBytes}`);
      }
      const body = await readBody(req, maxBodyBytes);
      if (!body) return tooLarge(`request body exceeds the limit of ${maxBodyBytes} bytes`);
      const headers: Record<string, string | undefined> = {};
      req.headers.forEach((v, k) => (headers[k] = v)); // Headers keys are lower case
      const u = new URL(req.url);
      const r = await handle({ method: req.method, url: u.pathname + u.search, headers, body });
      return toResponse(r, closing);
    } catch {
      return toResponse(jsonResponse(500, { error: "internal error" }), closing);
    } finally {
      open--;
      if (open === 0 && idle) idle();
    }
  };
  let native: Native;
  try {
    native = startNative(host, port, maxBodyBytes, fetch);
  } catch (e) {
    return Promise.reject(e);
  }
  return Promise.resolve({
    port: native.port,
    close: async () => {
      // Drain first: keep serving, answer with Connection: close, until no request has
      // come for QUIET_MS (at most DRAIN_MAX_MS), so a request already on the wire of a
      // keep-alive connection is served rather than reset; then stop accepting and wait
      // for the requests still open.
      closing = true;
      const t0 = performance.now();
      while (performance.now() - lastRequest < QUIET_MS && performance.now() - t0 < DRAIN_MAX_MS) {
        await new Promise((r) => setTimeout(r, QUIET_MS / 4));
      }
      const stopped = native.stop();
      if (open > 0) await new Promise<void>((r) => (idle = r));
      await stopped;
    },
  });
}
