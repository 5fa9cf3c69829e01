// The serve scheduler alone, with stand-in instances whose inferAsync the test settles
// by hand: timeouts (504) of running and of queued requests, the bounded queue (503),
// round robin, and drain(). Deterministic: no device, no HTTP.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { InferOutputs, ModelInstance } from "../mod.ts";
import { HttpError } from "../serve/errors.ts";
import { Scheduler } from "../serve/scheduler.ts";

/** An instance whose inferences wait until the test resolves them. */
class Stub {
  readonly pending: { inputs: unknown; resolve(o: InferOutputs): void; reject(e: unknown): void }[] = [];
  inferAsync(inputs: unknown): Promise<InferOutputs> {
    return new Promise((resolve, reject) => this.pending.push({ inputs, resolve, reject }));
  }
}
const out = (v: number): InferOutputs => ({ y: { data: new Float32Array([v]), shape: [1], dtype: "float32" } });
const asInstances = (s: Stub[]) => s as unknown as ModelInstance[];
const run = (inst: ModelInstance) => inst.inferAsync(new Float32Array(1));
const tick = () => new Promise((r) => setTimeout(r, 0));

async function status(p: Promise<unknown>): Promise<number | "ok"> {
  try {
    await p;
    return "ok";
  } catch (e) {
    assert.ok(e instanceof HttpError, String(e));
    return e.status;
  }
}

describe("serve scheduler", () => {
  test("a request running past its timeout is answered 504, and its late result is dropped", async () => {
    const a = new Stub();
    const s = new Scheduler(asInstances([a]), { maxQueue: 4, timeoutMs: 30 });
    const p = s.submit(run);
    await assert.rejects(
      p,
      (e: unknown) => e instanceof HttpError && e.status === 504 && /timed out after 30 ms/.test(e.message),
    );
    // the instance is busy until its run ends, then serves the next request
    assert.equal(s.inFlight, 1);
    const q = s.submit(run);
    a.pending[0].resolve(out(1)); // late: nobody gets it
    await tick();
    assert.equal(a.pending.length, 2);
    a.pending[1].resolve(out(2));
    assert.deepEqual(Array.from((await q).y.data as Float32Array), [2]);
    await s.drain();
  });

  test("a queued request that waits past its timeout is answered 504 and leaves the queue", async () => {
    const a = new Stub();
    const s = new Scheduler(asInstances([a]), { maxQueue: 4, timeoutMs: 40 });
    const first = s.submit(run);
    const queued = s.submit(run);
    assert.equal(s.queueDepth, 1);
    await new Promise((r) => setTimeout(r, 15));
    a.pending[0].resolve(out(1)); // first finishes in time
    assert.equal(await status(first), "ok");
    // queued now runs: let it run past its deadline
    assert.equal(s.queueDepth, 0);
    assert.equal(await status(queued), 504);
    const waiting = s.submit(run); // queued behind the stuck run
    assert.equal(s.queueDepth, 1);
    assert.equal(await status(waiting), 504);
    assert.equal(s.queueDepth, 0, "a timed-out request leaves the queue");
    assert.equal(a.pending.length, 2, "the timed-out queued request never ran");
    a.pending[1].resolve(out(0));
    await s.drain();
  });

  test("a full queue refuses with 503 and Retry-After; requests go round robin over the instances", async () => {
    const a = new Stub(), b = new Stub();
    const s = new Scheduler(asInstances([a, b]), { maxQueue: 2, timeoutMs: 10_000 });
    const ps = Array.from({ length: 5 }, () => s.submit(run));
    const refused = await Promise.allSettled(ps.slice(4));
    assert.equal(refused[0].status, "rejected");
    const e = (refused[0] as PromiseRejectedResult).reason as HttpError;
    assert.equal(e.status, 503);
    assert.equal(e.headers?.["Retry-After"], "1");
    assert.equal(a.pending.length, 1);
    assert.equal(b.pending.length, 1);
    assert.equal(s.queueDepth, 2);
    let drained = false;
    const d = s.drain().then(() => (drained = true));
    for (let k = 0; k < 2; k++) {
      a.pending[k].resolve(out(k));
      b.pending[k].resolve(out(k));
      await tick();
    }
    await d;
    assert.ok(drained);
    assert.deepEqual([a.pending.length, b.pending.length], [2, 2]);
    assert.equal((await Promise.all(ps.slice(0, 4))).length, 4);
  });

  test("an inference that fails reaches its request and frees the instance", async () => {
    const a = new Stub();
    const s = new Scheduler(asInstances([a]), { maxQueue: 4, timeoutMs: 10_000 });
    const p = s.submit(run);
    a.pending[0].reject(new Error("boom"));
    await assert.rejects(p, /boom/);
    const q = s.submit(run);
    await tick();
    a.pending[1].resolve(out(3));
    assert.deepEqual(Array.from((await q).y.data as Float32Array), [3]);
  });

  test("a full queue: a light client takes the waiting place of a heavy one, whose request gets 503", async () => {
    const a = new Stub();
    const s = new Scheduler(asInstances([a]), { maxQueue: 1, timeoutMs: 10_000 });
    // the heavy client asks 20 times: one runs, one waits, 18 are refused
    const heavy = Array.from({ length: 20 }, () => {
      try {
        return status(s.admit("heavy").submit(run));
      } catch (e) {
        assert.ok(e instanceof HttpError && e.status === 503);
        return Promise.resolve(503);
      }
    });
    await tick();
    assert.equal(s.queueDepth, 1);
    // a client seen once takes the waiting place; the heavy request that held it gets 503
    const light = s.admit("light").submit(run);
    assert.equal(s.queueDepth, 1);
    // another new client finds only the light one waiting, no heavier: refused
    assert.throws(() => s.admit("other"), (e: unknown) => e instanceof HttpError && e.status === 503);
    a.pending.shift()!.resolve(out(1));
    await tick();
    a.pending.shift()!.resolve(out(2));
    assert.equal(await status(light), "ok");
    const got = await Promise.all(heavy);
    assert.deepEqual([got.filter((g) => g === "ok").length, got.filter((g) => g === 503).length], [1, 19]);
    // a place held while its body is read is given up the same way
    const t = s.admit("heavy");
    const u = s.admit("heavy");
    assert.throws(() => s.admit("heavy"), (e: unknown) => e instanceof HttpError && e.status === 503);
    const v = s.admit("fresh"); // takes t's place
    assert.equal(await status(t.submit(run)), 503);
    const ru = u.submit(run);
    v.cancel();
    await tick();
    a.pending.shift()!.resolve(out(3));
    assert.equal(await status(ru), "ok");
    await s.drain();
  });
});
