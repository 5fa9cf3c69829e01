/**
 * Child process of tests/api.test.ts: leaks connections (never released) and
 * checks that the garbage collector frees them natively (the sub-device
 * reservations come back). Prints "ok <rounds>" or "leak <message>".
 * Needs a collectable heap: `deno run --v8-flags=--expose-gc` or `bun`.
 *
 * @module
 */
import * as axr from "../../mod.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const collect = async () => {
  for (let i = 0; i < 3; i++) {
    if (typeof g.gc === "function") g.gc();
    else g.Bun?.gc(true);
    await new Promise((r) => setTimeout(r, 10));
  }
};

const ctx = new axr.Context();
const model = ctx.loadModel(new URL("../fixtures/tiny/model.json", import.meta.url));
function leak(): void {
  // all 4 sub-devices, plus an instance on them, dropped without release()
  const conn = ctx.deviceConnect(0, 4);
  conn.loadModelInstance(model);
}
let rounds = 0;
try {
  for (; rounds < 3; rounds++) {
    leak();
    let ok = false;
    for (let t = 0; t < 50 && !ok; t++) {
      await collect();
      try {
        ctx.deviceConnect(0, 4).release();
        ok = true;
      } catch (e) {
        if (!(e instanceof axr.DeviceInUse)) throw e;
      }
    }
    if (!ok) throw new Error(`round ${rounds}: the leaked connection was never collected`);
  }
  console.log(`ok ${rounds}`);
} catch (e) {
  console.log(`leak ${(e as Error).message}`);
}
ctx.release();
