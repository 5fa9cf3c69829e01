// Load test of `axr serve` (a child process, loopback only): 16 concurrent clients for
// AXR_SERVE_LOAD_S seconds (3 by default; `deno task serve-load` runs 30), 0 errors and
// every request answered exactly once with its own result; overload gives 503 +
// Retry-After and the server stays up; SIGTERM under load loses no accepted request.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { axrCommand, childEnv, removeDir, root, tempDir } from "./cli_helpers.ts";
import { paced } from "./helpers/flood.ts";

const seconds = Number(process.env.AXR_SERVE_LOAD_S ?? 3);
const x = Array.from({ length: 192 }, (_, i) => i / 32 - 3);

interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

function startChild(models: string, stateDir: string, extra: string[]): Promise<Child> {
  const { cmd, argv } = axrCommand(["serve", "--models", models, "--port", "0", ...extra]);
  const proc = spawn(cmd, argv, {
    env: childEnv(stateDir, { AXR_EMU_DEVICES: "pcie" }),
    stdio: ["ignore", "ignore", "pipe"],
  });
  const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    let text = "";
    const t = setTimeout(() => reject(new Error(`server did not start: ${text}`)), 30_000);
    proc.stderr!.on("data", (d: Uint8Array) => {
      text += new TextDecoder().decode(d);
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m) {
        clearTimeout(t);
        resolve({ proc, url: m[1], exited });
      }
    });
    proc.on("exit", () => reject(new Error(`server exited: ${text}`)));
  });
}

async function infer(
  url: string,
  id: string,
  scale: number,
): Promise<{ status: number; id?: string; data?: number[]; retryAfter: string | null }> {
  const res = await fetch(`${url}/v2/models/tiny/infer`, {
    method: "POST",
    body: JSON.stringify({
      id,
      inputs: [{ name: "input", datatype: "FP32", shape: [1, 3, 8, 8], data: x.map((v) => v * scale) }],
    }),
  });
  const b = await res.json();
  return { status: res.status, id: b.id, data: b.outputs?.[0]?.data, retryAfter: res.headers.get("retry-after") };
}

describe("axr serve under load", () => {
  let work: string;
  let stateDir: string;
  before(() => {
    work = tempDir("axr-serve-load-");
    stateDir = tempDir("axr-serve-state-");
    cpSync(join(root, "tests/fixtures/tiny"), join(work, "models/tiny"), { recursive: true });
  });
  after(() => {
    removeDir(work);
    removeDir(stateDir);
  });

  test(`16 concurrent clients for ${seconds} s: 0 errors, each request answered once with its own result`, {
    timeout: (seconds + 60) * 1000,
  }, async () => {
    const s = await startChild(join(work, "models"), stateDir, ["--instances", "2"]);
    try {
      const ref = [await infer(s.url, "ref0", 1), await infer(s.url, "ref1", 0.5)];
      const seen = new Set<string>();
      let sent = 0;
      const errors: string[] = [];
      const end = Date.now() + seconds * 1000;
      await Promise.all(Array.from({ length: 16 }, async (_, c) => {
        for (let k = 0; Date.now() < end; k++) {
          const id = `c${c}-${k}`;
          sent++;
          const r = await infer(s.url, id, k % 2 ? 0.5 : 1);
          if (r.status !== 200) errors.push(`${id}: ${r.status}`);
          else if (r.id !== id) errors.push(`${id}: answered as ${r.id}`);
          else if (JSON.stringify(r.data) !== JSON.stringify(ref[k % 2].data)) errors.push(`${id}: wrong output`);
          if (seen.has(r.id!)) errors.push(`${id}: duplicated`);
          seen.add(r.id!);
        }
      }));
      assert.deepEqual(errors, []);
      assert.equal(seen.size, sent);
      assert.ok(sent > 16, `only ${sent} requests`);
      console.log(`serve load: ${sent} requests in ${seconds} s (${(sent / seconds).toFixed(0)}/s)`);
    } finally {
      process.kill(s.proc.pid!, "SIGTERM");
      assert.equal(await s.exited, 0);
    }
  });

  test("overload: a full queue answers 503 with Retry-After and the server stays up", { timeout: 60_000 }, async () => {
    const s = await startChild(join(work, "models"), stateDir, ["--instances", "1", "--max-queue", "2"]);
    try {
      const rs = await Promise.all(Array.from({ length: 200 }, (_, k) => infer(s.url, `o${k}`, 1)));
      const by = (st: number) => rs.filter((r) => r.status === st).length;
      assert.equal(
        by(200) + by(503),
        200,
        JSON.stringify(rs.filter((r) => r.status !== 200 && r.status !== 503).slice(0, 3)),
      );
      assert.ok(by(503) > 0, "no 503 under overload");
      assert.ok(by(200) >= 3, "too few served");
      assert.ok(rs.filter((r) => r.status === 503).every((r) => r.retryAfter === "1"));
      assert.equal((await fetch(`${s.url}/v2/health/live`)).status, 200);
      assert.equal((await infer(s.url, "after", 1)).status, 200);
    } finally {
      process.kill(s.proc.pid!, "SIGTERM");
      assert.equal(await s.exited, 0);
    }
  });

  test("SIGTERM under load: every request sent before the signal is answered 200, then a clean exit", {
    timeout: 60_000,
  }, async () => {
    const s = await startChild(join(work, "models"), stateDir, ["--instances", "2"]);
    let stopped = false;
    const results: Promise<{ status: number }>[] = [];
    const clients = Array.from({ length: 16 }, async (_, c) => {
      for (let k = 0; !stopped; k++) {
        const p = infer(s.url, `s${c}-${k}`, 1);
        results.push(p);
        await p.catch(() => undefined);
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    stopped = true; // no new requests after this point
    const inFlight = [...results];
    process.kill(s.proc.pid!, "SIGTERM");
    const settled = await Promise.allSettled(inFlight);
    await Promise.all(clients);
    const lost = settled.filter((r) => r.status === "rejected" || r.value.status !== 200);
    const why = lost.slice(0, 3).map((r) => r.status === "rejected" ? String(r.reason?.cause ?? r.reason) : r.value);
    assert.equal(lost.length, 0, JSON.stringify(why));
    assert.ok(inFlight.length >= 16, `${inFlight.length} requests in flight`);
    assert.equal(await s.exited, 0);
  });

  test("a flood of 24 clients against --max-queue 2: a well-behaved client keeps at least half its rate", {
    timeout: 60_000,
  }, async () => {
    const s = await startChild(join(work, "models"), stateDir, ["--instances", "1", "--max-queue", "2"]);
    try {
      const port = Number(new URL(s.url).port);
      // one request at a time, 100 ms apart (10/s), on a connection of its own
      const alone = await paced(port, 2, 100);
      // 24 flooders in a process of their own, for 4 s; the paced client measures 3 s of it
      const script = join(root, "tests/helpers/flood.ts");
      const argv = process.versions.bun ? [script] : ["run", "-A", script];
      const flooding = new Promise<{ answered: number; ok: number }>((resolve, reject) => {
        const p = spawn(process.execPath, [...argv, String(port), "24", "4"], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        p.stdout!.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
        p.on("exit", (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`flooders exited ${code}`))));
      });
      await new Promise((r) => setTimeout(r, 700)); // the flood under way (the child starts)
      const flooded = await paced(port, 3, 100);
      const f = await flooding;
      const ratio = flooded.rate / alone.rate;
      console.log(
        `serve flood: well-behaved client ${alone.rate.toFixed(1)}/s alone, ${flooded.rate.toFixed(1)}/s beside 24 ` +
          `flooders (${ratio.toFixed(2)}x); flooders: ${f.answered} answered, ${f.ok} of them 200`,
      );
      assert.ok(alone.ok >= 10, JSON.stringify(alone));
      assert.ok(f.answered > f.ok, "the flood never filled the queue");
      assert.ok(ratio >= 0.5, JSON.stringify({ alone, flooded, flood: f }));
    } finally {
      process.kill(s.proc.pid!, "SIGTERM");
      assert.equal(await s.exited, 0);
    }
  });
});
