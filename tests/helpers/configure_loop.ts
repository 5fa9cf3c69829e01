/**
 * Child process of tests/process_faults.test.ts: prints "ready <pid>", then configures
 * device 0 in a tight loop with changing clocks and MVM utilisations until it is killed.
 *
 * @module
 */
import process from "node:process";
import * as axr from "../../mod.ts";

const ctx = new axr.Context();
const clocks = [100, 200, 400, 600, 700, 800];
console.log(`ready ${process.pid}`);
for (let i = 0;; i++) {
  ctx.configureDevice(0, {
    clockProfile: clocks[i % clocks.length],
    mvmUtilisationCore1: 1 + (i % 100),
    clockProfileCore3: clocks[(i * 7) % clocks.length],
  });
}
