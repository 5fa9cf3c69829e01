/**
 * A flood against `axr serve` for tests/serve_load.test.ts and for figures: one
 * well-behaved client (one keep-alive connection of its own, one request at a time,
 * paced, heeding Retry-After) alone, then beside `flooders` clients that send as fast as
 * they are answered and ignore 503s. Loopback only, bounded in time.
 *
 * @module
 */
import net from "node:net";

const x = Array.from({ length: 192 }, (_, i) => i / 32 - 3);
const body = JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 3, 8, 8], data: x }] });

/** One HTTP/1.1 keep-alive connection sending one request at a time; resolves each response's status. */
class RawClient {
  #sock: net.Socket;
  #buf = "";
  #waiting: ((status: number) => void) | undefined;
  readonly ready: Promise<void>;
  constructor(port: number) {
    this.#sock = net.connect(port, "127.0.0.1");
    this.#sock.setNoDelay(true);
    this.ready = new Promise((r) => this.#sock.once("connect", () => r()));
    this.#sock.setEncoding("utf8");
    this.#sock.on("data", (d: string) => {
      this.#buf += d;
      for (;;) {
        const end = this.#buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const len = Number(/content-length: *(\d+)/i.exec(this.#buf.slice(0, end))?.[1] ?? 0);
        if (this.#buf.length < end + 4 + len) return;
        const status = Number(this.#buf.slice(9, 12));
        this.#buf = this.#buf.slice(end + 4 + len);
        const w = this.#waiting;
        this.#waiting = undefined;
        w?.(status);
      }
    });
    this.#sock.on("error", () => this.#waiting?.(0));
    this.#sock.on("close", () => this.#waiting?.(0));
  }
  infer(): Promise<number> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
      this.#sock.write(
        `POST /v2/models/tiny/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
    });
  }
  close(): void {
    this.#sock.destroy();
  }
}

/** What the well-behaved client got. */
export interface Paced {
  sent: number;
  ok: number;
  /** Successful requests per second. */
  rate: number;
}

/**
 * The well-behaved client for `seconds`: one request at a time, `periodMs` apart, on a
 * connection of its own; after a 503 it waits the Retry-After (1 s).
 *
 * @example
 * ```ts
 * const alone = await paced(port, 2, 50);
 * ```
 */
export async function paced(port: number, seconds: number, periodMs: number): Promise<Paced> {
  const end = performance.now() + seconds * 1000;
  const r: Paced = { sent: 0, ok: 0, rate: 0 };
  const good = new RawClient(port);
  await good.ready;
  const t0 = performance.now();
  for (let next = t0; performance.now() < end; next += periodMs) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    r.sent++;
    const st = await good.infer();
    if (st === 200) r.ok++;
    else if (st === 503) next = performance.now() + 1000 - periodMs;
  }
  r.rate = r.ok / ((performance.now() - t0) / 1000);
  good.close();
  return r;
}

/**
 * `flooders` clients, each on its own connection, sending as fast as they are answered
 * and ignoring 503s, for `seconds`: how many answers they got, and how many were 200.
 *
 * @example
 * ```ts
 * const f = await flood(port, 24, 3);
 * ```
 */
export async function flood(
  port: number,
  flooders: number,
  seconds: number,
): Promise<{ answered: number; ok: number }> {
  const end = performance.now() + seconds * 1000;
  const r = { answered: 0, ok: 0 };
  await Promise.all(Array.from({ length: flooders }, async () => {
    const c = new RawClient(port);
    await c.ready;
    while (performance.now() < end) {
      const s = await c.infer();
      if (s === 0) break;
      r.answered++;
      if (s === 200) r.ok++;
    }
    c.close();
  }));
  return r;
}

// as a program: `flood.ts PORT FLOODERS SECONDS` floods and prints what it got
if (import.meta.main) {
  const g = globalThis as unknown as { Deno?: { args: string[] }; process: { argv: string[] } };
  const [port, flooders, seconds] = (g.Deno?.args ?? g.process.argv.slice(2)).map(Number);
  console.log(JSON.stringify(await flood(port, flooders, seconds)));
}
