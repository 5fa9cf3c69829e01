/**
 * Child process of tests/process_faults.test.ts: configures device 0 once, prints
 * "ready <pid>", then configures it in a tight loop with changing clocks and MVM
 * utilisations until it is killed (so a kill always lands after a first write, however
 * slow the machine).
 *
 * @module
 */
import process from "node:process";
import * as axr from "../../mod.ts";

const ctx = new axr.Context();
const clocks = [100, 200, 400, 600, 700, 800];
const configure = (i: number) =>
  ctx.configureDevice(0, {
    clockProfile: clocks[i % clocks.length],
    mvmUtilisationCore1: 1 + (i % 100),
    clockProfileCore3: clocks[(i * 7) % clocks.length],
  });
configure(0);
console.log(`ready ${process.pid}`);
for (let i = 1;; i++) configure(i);
