/**
 * Child process of tests/api.test.ts: connects to a device (argument: number of
 * sub-devices, default 4), prints "ready <pid>", and holds the connection until
 * its stdin closes. On failure prints "error <name> <message>".
 *
 * @module
 */
import process from "node:process";
import * as axr from "../../mod.ts";

const subs = Number(process.argv[process.argv.length - 1]) || 4;
try {
  const ctx = new axr.Context();
  const conn = ctx.deviceConnect(0, subs);
  console.log(`ready ${process.pid}`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    conn.release();
    ctx.release();
    process.exit(0);
  });
} catch (e) {
  console.log(`error ${(e as Error).name} ${(e as Error).message}`);
  process.exit(1);
}
