/**
 * The HTTP listener: `node:http`, which Deno and Bun both provide, so one code path
 * serves on both runtimes. Bodies over the size limit are refused with 413.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
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

function send(res: ServerResponse, r: ServeResponse, closing: boolean): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(r.status, { ...r.headers, "Content-Length": String(r.body.length), ...(closing ? { Connection: "close" } : {}) });
  res.end(r.body);
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
export function listen(host: string, port: number, maxBodyBytes: number, handle: (r: ServeRequest) => Promise<ServeResponse>): Promise<Listener> {
  let open = 0;
  let idle: (() => void) | undefined;
  let closing = false;
  let lastRequest = 0;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    open++;
    lastRequest = performance.now();
    res.on("close", () => {
      open--;
      if (open === 0 && idle) idle();
    });
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > maxBodyBytes) {
      send(res, jsonResponse(413, { error: `request body of ${declared} bytes exceeds the limit of ${maxBodyBytes}` }, { Connection: "close" }), closing);
      return;
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    let refused = false;
    req.on("data", (c: Uint8Array) => {
      if (refused) return;
      size += c.length;
      if (size > maxBodyBytes) {
        refused = true;
        send(res, jsonResponse(413, { error: `request body exceeds the limit of ${maxBodyBytes} bytes` }, { Connection: "close" }), closing);
        return;
      }
      chunks.push(c);
    });
    req.on("error", () => res.destroy());
    req.on("end", () => {
      if (refused) return;
      const body = new Uint8Array(size);
      let at = 0;
      for (const c of chunks) {
        body.set(c, at);
        at += c.length;
      }
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
      handle({ method: req.method ?? "GET", url: req.url ?? "/", headers, body })
        .then((r) => send(res, r, closing), () => send(res, jsonResponse(500, { error: "internal error" }), closing));
    });
  };
  const server: Server = createServer(onRequest);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const addr = server.address();
      resolve({
        port: typeof addr === "object" && addr ? addr.port : port,
        close: async () => {
          // Drain first: keep serving, answer with Connection: close, until no request has
          // come for QUIET_MS (at most DRAIN_MAX_MS), so a request already on the wire of a
          // keep-alive connection is served rather than reset; then stop accepting.
          closing = true;
          const t0 = performance.now();
          while (performance.now() - lastRequest < QUIET_MS && performance.now() - t0 < DRAIN_MAX_MS) {
            await new Promise((r) => setTimeout(r, QUIET_MS / 4));
          }
          await new Promise<void>((done) => {
            server.close();
            const finish = () => {
              (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
              done();
            };
            if (open === 0) finish();
            else idle = finish;
          });
        },
      });
    });
  });
}
