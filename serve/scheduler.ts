/**
 * One bounded queue per model feeding its instances: each idle instance takes the
 * next request (round robin over the instances, which the connection spreads over the
 * sub-devices); a full queue refuses with 503; a request that waits or runs past its
 * timeout is answered 504.
 *
 * @module
 */
import type { InferOutputs, ModelInstance } from "../mod.ts";
import { HttpError } from "./errors.ts";
import { Clients } from "./fairness.ts";

/** The work of one request on whichever instance takes it (its `inferAsync`, or a raw run). */
export type Work = (inst: ModelInstance) => Promise<InferOutputs>;

/** A place taken: held while its body is read, then queued. */
interface Place {
  client: string;
  /** Given to a lighter client; its request is answered 503. */
  evicted: boolean;
  /** Set once queued. */
  job?: Job;
}

interface Job {
  place: Place;
  work: Work;
  resolve(o: InferOutputs): void;
  reject(e: unknown): void;
  done: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** A place in a model's queue, held while the request's body is read and parsed. */
export interface Ticket {
  /** Queues the work in the place held (at most once). */
  submit(work: Work): Promise<InferOutputs>;
  /** Gives the place back without running anything. */
  cancel(): void;
}

function full(maxQueue: number): HttpError {
  return new HttpError(503, `the model's queue is full (${maxQueue} waiting)`, { "Retry-After": "1" });
}

/** Limits of a {@link Scheduler}. */
export interface SchedulerOptions {
  /** Requests waiting at most (beyond those running). */
  maxQueue: number;
  /** Per-request timeout (ms), queueing included. */
  timeoutMs: number;
}

/**
 * Feeds a model's instances from one bounded queue.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * using conn = ctx.deviceConnect();
 * const inst = conn.loadModelInstance(ctx.loadModel("tests/fixtures/tiny/model.json"));
 * const s = new Scheduler([inst], { maxQueue: 64, timeoutMs: 10_000 });
 * const out = await s.submit((inst) => inst.inferAsync(new Float32Array(192)));
 * console.log(Object.keys(out));
 * await s.drain();
 * ```
 */
export class Scheduler {
  readonly #idle: ModelInstance[];
  readonly #queue: Job[] = [];
  readonly #opts: SchedulerOptions;
  #running = 0;
  /** Places admitted whose work is not queued yet. */
  #held = 0;
  /** Places admitted and not running yet (held or queued), for eviction. */
  readonly #waiting = new Set<Place>();
  readonly #clients = new Clients();
  #drainers: (() => void)[] = [];

  /**
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const inst = conn.loadModelInstance(ctx.loadModel("tests/fixtures/tiny/model.json"));
   * new Scheduler([inst], { maxQueue: 64, timeoutMs: 10_000 });
   * ```
   */
  constructor(instances: ModelInstance[], opts: SchedulerOptions) {
    this.#idle = [...instances];
    this.#opts = opts;
  }

  /** Requests waiting. @example `s.queueDepth` */
  get queueDepth(): number {
    return this.#queue.length;
  }

  /** Requests running on an instance. @example `s.inFlight` */
  get inFlight(): number {
    return this.#running;
  }

  /**
   * Takes a place for one request of `client` (a key per connection). When every
   * instance is busy and `maxQueue` requests wait already (places held by admitted
   * requests count), the waiting place of a clearly heavier client is given to this one
   * (that request is answered 503), or this one is refused: HttpError 503.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const inst = conn.loadModelInstance(ctx.loadModel("tests/fixtures/tiny/model.json"));
   * const s = new Scheduler([inst], { maxQueue: 64, timeoutMs: 10_000 });
   * const x = new Float32Array(192);
   * const t = s.admit("conn-7"); // before reading the body
   * const out = await t.submit((inst) => inst.inferAsync(x));
   * ```
   */
  admit(client = ""): Ticket {
    this.#clients.note(client);
    if (this.#queue.length + this.#held >= this.#opts.maxQueue + this.#idle.length) this.#evictFor(client);
    this.#held++;
    const place: Place = { client, evicted: false };
    this.#waiting.add(place);
    const admitted = performance.now(); // the timeout runs from admission: reading and parsing count
    let used = false;
    const use = () => {
      if (used) throw new Error("a scheduler ticket is used once");
      used = true;
      if (!place.evicted) this.#held--;
    };
    return {
      submit: (work) => {
        use();
        if (place.evicted) {
          this.#checkDrained();
          return Promise.reject(full(this.#opts.maxQueue));
        }
        return this.#enqueue(place, work, this.#opts.timeoutMs - (performance.now() - admitted));
      },
      cancel: () => {
        if (used) return;
        use();
        this.#waiting.delete(place);
        this.#checkDrained();
      },
    };
  }

  /**
   * The queue is full. A waiting place goes to `client` (its request answered 503) when
   * `client` heeds Retry-After and the place's owner does not (it came back before the
   * Retry-After of its last 503), or when the owner asks clearly more often (decayed
   * request rate); otherwise `client` is refused. A flood of clients that ignore 503s
   * cannot starve one that asks at a modest rate.
   */
  #evictFor(client: string): void {
    const now = performance.now();
    const c = this.#clients;
    const refuse = (who: string) => {
      c.refuse(who, now);
      return full(this.#opts.maxQueue);
    };
    if (c.pressing(client, now)) throw refuse(client);
    const mine = c.rate(client, now);
    let victim: Place | undefined, worst = -1;
    for (const p of this.#waiting) {
      // pressing clients first, the heaviest among them
      const r = c.rate(p.client, now) + (c.pressing(p.client, now) ? 1e9 : 0);
      if (r > worst) [victim, worst] = [p, r];
    }
    if (!victim || worst <= 1.5 * mine + 1) throw refuse(client);
    c.refuse(victim.client, now);
    victim.evicted = true;
    this.#waiting.delete(victim);
    const job = victim.job;
    if (job) {
      this.#queue.splice(this.#queue.indexOf(job), 1);
      clearTimeout(job.timer);
      job.done = true;
      job.reject(full(this.#opts.maxQueue));
    } else this.#held--;
  }

  /**
   * Queues one inference; rejects with HttpError 503 when the queue is full, 504 on timeout.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const inst = conn.loadModelInstance(ctx.loadModel("tests/fixtures/tiny/model.json"));
   * const s = new Scheduler([inst], { maxQueue: 64, timeoutMs: 10_000 });
   * const x = new Float32Array(192);
   * const out = await s.submit((inst) => inst.inferAsync({ input: x }));
   * ```
   */
  submit(work: Work): Promise<InferOutputs> {
    let t: Ticket;
    try {
      t = this.admit();
    } catch (e) {
      return Promise.reject(e);
    }
    return t.submit(work);
  }

  #enqueue(place: Place, work: Work, leftMs: number): Promise<InferOutputs> {
    if (leftMs <= 0) {
      this.#waiting.delete(place);
      this.#checkDrained();
      return Promise.reject(new HttpError(504, `the request timed out after ${this.#opts.timeoutMs} ms`));
    }
    return new Promise<InferOutputs>((resolve, reject) => {
      const job: Job = { place, work, resolve, reject, done: false, timer: undefined };
      place.job = job;
      job.timer = setTimeout(() => {
        if (job.done) return;
        job.done = true;
        const i = this.#queue.indexOf(job);
        if (i >= 0) this.#queue.splice(i, 1);
        this.#waiting.delete(place);
        reject(new HttpError(504, `the request timed out after ${this.#opts.timeoutMs} ms`));
        this.#checkDrained();
      }, leftMs);
      this.#queue.push(job);
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#waiting.delete(job.place);
      const inst = this.#idle.shift()!;
      this.#running++;
      let p: Promise<InferOutputs>;
      try {
        p = job.work(inst);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (o) => this.#finish(job, () => job.resolve(o)),
        (e) => this.#finish(job, () => job.reject(e)),
      ).finally(() => {
        this.#running--;
        this.#idle.push(inst); // to the back: round robin
        this.#pump();
        this.#checkDrained();
      });
    }
  }

  #finish(job: Job, settle: () => void): void {
    clearTimeout(job.timer);
    if (job.done) return; // timed out already
    job.done = true;
    settle();
  }

  #checkDrained(): void {
    if (this.#running === 0 && this.#queue.length === 0 && this.#held === 0) {
      const d = this.#drainers;
      this.#drainers = [];
      d.forEach((f) => f());
    }
  }

  /**
   * Resolves once nothing is queued, running or admitted.
   *
   * @example
   * ```ts
   * import { Context } from "@axelera/runtime";
   * using ctx = new Context();
   * using conn = ctx.deviceConnect();
   * const inst = conn.loadModelInstance(ctx.loadModel("tests/fixtures/tiny/model.json"));
   * const s = new Scheduler([inst], { maxQueue: 64, timeoutMs: 10_000 });
   * await s.drain();
   * ```
   */
  drain(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0 && this.#held === 0) return Promise.resolve();
    return new Promise((r) => this.#drainers.push(r));
  }
}
