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

/** The work of one request on whichever instance takes it (its `inferAsync`, or a raw run). */
export type Work = (inst: ModelInstance) => Promise<InferOutputs>;

interface Job {
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
 * const s = new Scheduler([inst], { maxQueue: 64, timeoutMs: 10_000 });
 * const out = await s.submit((inst) => inst.inferAsync(new Float32Array(192)));
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
  #drainers: (() => void)[] = [];

  /**
   * @example
   * ```ts
   * new Scheduler(instances, { maxQueue: 64, timeoutMs: 10_000 });
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
   * Takes a place for one request, or throws HttpError 503 when every instance is busy
   * and `maxQueue` requests wait already (places held by admitted requests count).
   *
   * @example
   * ```ts
   * const t = s.admit(); // before reading the body
   * const out = await t.submit((inst) => inst.inferAsync(x));
   * ```
   */
  admit(): Ticket {
    if (this.#queue.length + this.#held >= this.#opts.maxQueue + this.#idle.length) {
      throw new HttpError(503, `the model's queue is full (${this.#opts.maxQueue} waiting)`, { "Retry-After": "1" });
    }
    this.#held++;
    const admitted = performance.now(); // the timeout runs from admission: reading and parsing count
    let used = false;
    const use = () => {
      if (used) throw new Error("a scheduler ticket is used once");
      used = true;
      this.#held--;
    };
    return {
      submit: (work) => {
        use();
        return this.#enqueue(work, this.#opts.timeoutMs - (performance.now() - admitted));
      },
      cancel: () => {
        if (used) return;
        use();
        this.#checkDrained();
      },
    };
  }

  /**
   * Queues one inference; rejects with HttpError 503 when the queue is full, 504 on timeout.
   *
   * @example
   * ```ts
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

  #enqueue(work: Work, leftMs: number): Promise<InferOutputs> {
    if (leftMs <= 0) {
      this.#checkDrained();
      return Promise.reject(new HttpError(504, `the request timed out after ${this.#opts.timeoutMs} ms`));
    }
    return new Promise<InferOutputs>((resolve, reject) => {
      const job: Job = { work, resolve, reject, done: false, timer: undefined };
      job.timer = setTimeout(() => {
        if (job.done) return;
        job.done = true;
        const i = this.#queue.indexOf(job);
        if (i >= 0) this.#queue.splice(i, 1);
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
   * await s.drain();
   * ```
   */
  drain(): Promise<void> {
    if (this.#running === 0 && this.#queue.length === 0 && this.#held === 0) return Promise.resolve();
    return new Promise((r) => this.#drainers.push(r));
  }
}
