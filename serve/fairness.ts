/**
 * What the scheduler knows of each client (one keep-alive connection) to share a full
 * queue fairly: its request rate, decayed with a half-life of one second, and when it
 * was last refused. A client back before the `Retry-After` of its last refusal ignores
 * it: it is "pressing", and its waiting places are the first given to other clients.
 *
 * @module
 */

const HALF_LIFE_MS = 1000;
/** The `Retry-After` of a 503, in ms. */
export const RETRY_AFTER_MS = 1000;
const SWEEP_AT = 4096;

interface Entry {
  n: number;
  t: number;
  refused: number;
}

/**
 * Decayed request counts and refusals per client key.
 *
 * @example
 * ```ts
 * const clients = new Clients();
 * clients.note("conn-1");
 * clients.rate("conn-1"); // about 1, halving every second
 * ```
 */
export class Clients {
  readonly #m = new Map<string, Entry>();

  /** The decayed request count of `client` now (0 for one never seen). @example `clients.rate("conn-1")` */
  rate(client: string, now = performance.now()): number {
    const e = this.#m.get(client);
    return e ? e.n * 2 ** (-(now - e.t) / HALF_LIFE_MS) : 0;
  }

  /** True when `client` was refused less than Retry-After ago. @example `clients.pressing("conn-1")` */
  pressing(client: string, now = performance.now()): boolean {
    const e = this.#m.get(client);
    return e !== undefined && now - e.refused < RETRY_AFTER_MS;
  }

  /** Counts one request of `client`. @example `clients.note("conn-1")` */
  note(client: string, now = performance.now()): void {
    const refused = this.#m.get(client)?.refused ?? -Infinity;
    this.#m.set(client, { n: this.rate(client, now) + 1, t: now, refused });
    if (this.#m.size > SWEEP_AT) {
      for (const [k, e] of this.#m) if (this.rate(k, now) < 0.05 && now - e.refused > RETRY_AFTER_MS) this.#m.delete(k);
    }
  }

  /** Records a 503 to `client`. @example `clients.refuse("conn-1")` */
  refuse(client: string, now = performance.now()): void {
    const e = this.#m.get(client);
    if (e) e.refused = now;
    else this.#m.set(client, { n: 0, t: now, refused: now });
  }
}
