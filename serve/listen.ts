/**
 * The HTTP listener: the runtime's own HTTP/1.1 implementation behind one web-standard
 * `(Request) => Response` handler, with the timeouts and the shutdown that the server
 * owes to hostile or stalled clients:
 *
 * - idle and header timeout: a connection without a complete request head for
 *   `timeoutMs` (idle keep-alive, or a half-sent head) is closed;
 * - body timeout: a body not complete `timeoutMs` after the handler asks for it is
 *   answered 408 and its connection closed;
 * - shutdown: drain (answer with `Connection: close`) until quiet, stop accepting,
 *   close idle connections, let open requests finish, and close whatever is still open
 *   at the deadline.
 *
 * Deno: `Deno.listen` and `Deno.serveHttp` per connection, so each connection is ours to
 * time and to close (`Deno.serve` has no header or idle timeout, and `node:http`'s are
 * ignored under Deno). Bun: `Bun.serve` with `idleTimeout` (Bun closes a connection whose
 * request head is incomplete after about 10 s on its own, whatever the setting) and
 * `stop(true)` at the deadline.
 *
 * This file is the one place outside `ffi/` that knows which runtime it runs on: the
 * native servers carry 15-50% more classifier requests per second than `node:http` on
 * both runtimes (docs/serving.md, "Throughput").
 *
 * @module
 */
import { HttpError } from "./errors.ts";
import { jsonResponse, type ServeRequest, type ServeResponse } from "./handler.ts";

const QUIET_MS = 100;
const DRAIN_MAX_MS = 2000;
/** At shutdown, a keep-alive connection idle this long is closed (a request may be on its way). */
const IDLE_GRACE_MS = 1000;

/** Limits of a {@link listen}er. */
export interface ListenOptions {
  /** Request body limit in bytes (413 above). */
  maxBodyBytes: number;
  /** Idle, header and body timeout in ms. */
  timeoutMs: number;
}

/** A listening server. */
export interface Listener {
  /** The bound port. */
  port: number;
  /**
   * Drains (Connection: close) until quiet, stops accepting, closes idle connections,
   * waits for open requests until `deadline` (a `performance.now()` time), then closes
   * every connection still open. Resolves to the number of requests still open at the
   * deadline (their connections closed unanswered).
   */
  close(deadline: number): Promise<number>;
}

type WebHandler = (req: Request, client: string) => Promise<Response>;

/** What starting a native server gives back. */
interface Native {
  port: number;
  /** Stops accepting; open connections go on. */
  stopAccepting(): void;
  /** Closes the connections idle for `graceMs`; how many connections are left. */
  sweep(graceMs: number): number;
  /** Closes every connection. */
  abort(): void;
}

/** The slice of `Deno` and `Bun` used here (typed here: Bun's types are not installed). */
interface RuntimeGlobals {
  Deno?: {
    listen(opts: { hostname: string; port: number }): DenoListener;
    serveHttp(conn: DenoConn): DenoHttpConn;
  };
  Bun?: {
    serve(opts: {
      hostname: string;
      port: number;
      maxRequestBodySize: number;
      idleTimeout: number;
      fetch: (req: Request, server: BunServer) => Promise<Response>;
      error?: (e: unknown) => Response;
    }): BunServer;
  };
}
interface BunServer {
  port: number;
  stop(closeActive?: boolean): Promise<void> | void;
  requestIP(req: Request): { address: string; port: number } | null;
}
interface DenoConn {
  close(): void;
}
interface DenoListener extends AsyncIterable<DenoConn> {
  addr: { port: number };
  close(): void;
}
interface DenoHttpConn {
  nextRequest(): Promise<{ request: Request; respondWith(r: Response): Promise<void> } | null>;
  close(): void;
}

function internalError(): Response {
  return new Response(JSON.stringify({ error: "internal error" }), {
    status: 500,
    headers: { "Content-Type": "application/json" },
  });
}

/** Resolves to `fallback` after `ms` unless `p` settles first. */
function within<T, F>(p: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<F>((r) => (timer = setTimeout(() => r(fallback), ms)));
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const TIMED_OUT = Symbol("timed out");

/** One connection served with Deno.serveHttp: its requests in turn, each within the timeouts. */
let connections = 0;

class DenoConnection {
  busy = false;
  /** When it last finished a response (or opened). */
  idleSince = performance.now();
  readonly key = `c${++connections}`;
  #http: DenoHttpConn;
  #closed = false;
  constructor(conn: DenoConn, readonly server: { closing: boolean; timeoutMs: number; fetch: WebHandler }) {
    this.#http = g().Deno!.serveHttp(conn);
  }

  async run(): Promise<void> {
    try {
      while (!this.#closed) {
        // no complete request head within the timeout (idle or half-sent): closed
        const ev = await within(this.#http.nextRequest(), this.server.timeoutMs, TIMED_OUT);
        if (ev === TIMED_OUT || ev === null) break;
        this.busy = true;
        await ev.respondWith(await this.server.fetch(ev.request, this.key));
        this.busy = false;
        this.idleSince = performance.now();
        // A response with Connection: close (draining, 408, 413) ends the connection once
        // hyper has written it: the next nextRequest() then gives null.
      }
    } catch { /* the client went away, or the connection was closed here */ }
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#http.close();
    } catch { /* closed already */ }
  }
}

const g = () => globalThis as unknown as RuntimeGlobals;

function startDeno(host: string, port: number, server: DenoConnection["server"]): Native {
  const listener = g().Deno!.listen({ hostname: host, port });
  const conns = new Set<DenoConnection>();
  (async () => {
    try {
      for await (const conn of listener) {
        const c = new DenoConnection(conn, server);
        conns.add(c);
        c.run().finally(() => conns.delete(c));
      }
    } catch { /* the listener was closed */ }
  })();
  return {
    port: listener.addr.port,
    stopAccepting: () => {
      try {
        listener.close();
      } catch { /* closed already */ }
    },
    sweep: (graceMs) => {
      const now = performance.now();
      for (const c of conns) if (!c.busy && now - c.idleSince >= graceMs) c.close();
      return conns.size;
    },
    abort: () => {
      for (const c of conns) c.close();
    },
  };
}

function startBun(host: string, port: number, maxBodyBytes: number, timeoutMs: number, fetch: WebHandler): Native {
  // Bun answers a body over maxRequestBodySize with a bare 413 of its own. The handler
  // refuses at maxBodyBytes, with the same message as on Deno; Bun's own limit sits
  // above it, a backstop for bodies that arrive faster than the handler reads them.
  const s = g().Bun!.serve({
    hostname: host,
    port,
    maxRequestBodySize: 2 * maxBodyBytes + (1 << 20),
    idleTimeout: Math.min(255, Math.max(1, Math.ceil(timeoutMs / 1000))),
    fetch: (req, server) => {
      const ip = server.requestIP(req);
      return fetch(req, ip ? `${ip.address}:${ip.port}` : "");
    },
    error: internalError,
  });
  return {
    port: s.port,
    stopAccepting: () => void s.stop(false), // Bun closes the idle connections itself
    sweep: () => 0,
    abort: () => void s.stop(true),
  };
}

/** Reads a body of at most `max` bytes within `timeoutMs`; HttpError 413 when longer, 408 when it stalls. */
async function readBody(req: Request, max: number, timeoutMs: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const stalled = () =>
    new HttpError(408, `the request body did not arrive within ${timeoutMs / 1000} s`, { Connection: "close" });
  // With a Content-Length (already checked against max) the runtime reads the body in
  // one piece, several times faster on Deno than a chunk loop in JavaScript; the loop
  // below is for chunked bodies, whose size shows only as they arrive.
  if (req.headers.has("content-length")) {
    const b = await within(req.arrayBuffer(), timeoutMs, TIMED_OUT);
    if (b === TIMED_OUT) throw stalled();
    return new Uint8Array(b);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  const end = performance.now() + timeoutMs;
  for (;;) {
    const r = await within(reader.read(), Math.max(0, end - performance.now()), TIMED_OUT);
    if (r === TIMED_OUT) {
      reader.cancel().catch(() => {});
      throw stalled();
    }
    if (r.done) break;
    size += r.value.length;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new HttpError(413, `request body exceeds the limit of ${max} bytes`, { Connection: "close" });
    }
    chunks.push(r.value);
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
 * import { jsonResponse } from "./handler.ts";
 * const handle = () => Promise.resolve(jsonResponse(200, { live: true }));
 * const l = await listen("127.0.0.1", 0, { maxBodyBytes: 64 << 20, timeoutMs: 30_000 }, handle);
 * console.log(l.port);
 * await l.close(performance.now() + 30_000);
 * ```
 */
export function listen(
  host: string,
  port: number,
  opts: ListenOptions,
  handle: (r: ServeRequest) => Promise<ServeResponse>,
): Promise<Listener> {
  const { maxBodyBytes, timeoutMs } = opts;
  let open = 0;
  let lastRequest = 0;
  const state = { closing: false, timeoutMs, fetch: undefined as unknown as WebHandler };
  state.fetch = async (req: Request, client: string): Promise<Response> => {
    open++;
    lastRequest = performance.now();
    try {
      const declared = Number(req.headers.get("content-length") ?? 0);
      if (declared > maxBodyBytes) {
        const msg = `request body of ${declared} bytes exceeds the limit of ${maxBodyBytes}`;
        return toResponse(jsonResponse(413, { error: msg }), true);
      }
      const headers: Record<string, string | undefined> = {};
      req.headers.forEach((v, k) => (headers[k] = v)); // Headers keys are lower case
      const u = new URL(req.url);
      const r = await handle({
        method: req.method,
        url: u.pathname + u.search,
        headers,
        client,
        body: () => readBody(req, maxBodyBytes, timeoutMs),
      });
      return toResponse(r, state.closing);
    } catch {
      return toResponse(jsonResponse(500, { error: "internal error" }), state.closing);
    } finally {
      open--;
    }
  };
  let native: Native;
  try {
    if (g().Bun) native = startBun(host, port, maxBodyBytes, timeoutMs, state.fetch);
    else if (g().Deno) native = startDeno(host, port, state);
    else throw new Error("axr serve needs Deno (Deno.listen) or Bun (Bun.serve)");
  } catch (e) {
    return Promise.reject(e);
  }
  return Promise.resolve({
    port: native.port,
    close: async (deadline: number) => {
      // Drain first: keep serving, answer with Connection: close, until no request has
      // come for QUIET_MS (at most DRAIN_MAX_MS), so a request already on the wire of a
      // keep-alive connection is served rather than reset; then stop accepting, close the
      // idle connections, and wait for the requests still open until the deadline.
      state.closing = true;
      const t0 = performance.now();
      const drainEnd = Math.min(t0 + DRAIN_MAX_MS, deadline);
      while (performance.now() - lastRequest < QUIET_MS && performance.now() < drainEnd) {
        await new Promise((r) => setTimeout(r, QUIET_MS / 4));
      }
      native.stopAccepting();
      // A keep-alive connection may carry a request the server has not read yet: idle
      // connections get IDLE_GRACE_MS before they are closed (any request they bring is
      // answered with Connection: close).
      for (;;) {
        const left = native.sweep(IDLE_GRACE_MS);
        if (open === 0 && left === 0) break;
        if (performance.now() >= deadline) {
          const n = open;
          native.abort();
          return n;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      native.abort();
      return 0;
    },
  });
}
