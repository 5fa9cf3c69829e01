// `axr serve` (serve/): the v2 protocol driven by Triton's own Python client
// (tritonclient[http], installed into .tools/py) and, for every bad-input case, by
// plain fetch. Outputs must equal in-process infer() on the same model.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { type Server, startServer } from "../serve/mod.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const tinyDir = join(root, "tests/fixtures/tiny");
const pyDir = join(root, ".tools/py");
const x = Float32Array.from({ length: 192 }, (_, i) => i / 32 - 3);

/** Installs tritonclient[http] + numpy into .tools/py (pip --target) when missing. */
function ensureTritonClient(): Promise<void> {
  if (existsSync(join(pyDir, "tritonclient/http/_client.py")) && existsSync(join(pyDir, "ml_dtypes"))) return Promise.resolve();
  return new Promise((resolve, reject) =>
    execFile("python3", ["-m", "pip", "install", "-q", "--target", pyDir, "tritonclient[http]", "numpy"], { timeout: 600_000 }, (e) => (e ? reject(e) : resolve()))
  );
}

function runClient(args: string[]): Promise<ClientReport> {
  return new Promise((resolve, reject) =>
    execFile("python3", [join(root, "tests/serve/client.py"), ...args], {
      env: { ...process.env, PYTHONPATH: pyDir },
      timeout: 120_000,
    }, (e, stdout, stderr) => (e ? reject(new Error(`${e.message}\n${stderr}`)) : resolve(JSON.parse(stdout))))
  );
}

interface ClientInfer {
  id: string;
  outputs: Record<string, number[]>;
  shapes: Record<string, number[]>;
  binary: Record<string, boolean>;
}
/** What tests/serve/client.py prints. */
interface ClientReport {
  live: boolean;
  ready: boolean;
  model_ready: boolean;
  metadata: { inputs: unknown[]; outputs: unknown[] };
  json: ClientInfer;
  binary: ClientInfer;
  default_outputs: ClientInfer;
  index_before: { name: string; state: string }[];
  other_ready_after_unload: boolean;
  unloaded_metadata_error: string;
  other_ready_after_load: boolean;
  escape_error: string | null;
}

describe("axr serve", () => {
  let env: EmulatorEnv;
  let work: string;
  let server: Server;
  let expected: Float32Array;
  const token = "t0ken-" + Math.random().toString(36).slice(2);
  const auth = { Authorization: `Bearer ${token}` };

  before(async () => {
    env = useEmulatorEnv({ devices: "pcie" });
    work = mkdtempSync(join(tmpdir(), "axr-serve-"));
    cpSync(tinyDir, join(work, "tiny"), { recursive: true });
    cpSync(tinyDir, join(work, "tiny2"), { recursive: true });
    {
      using ctx = new axr.Context();
      const model = ctx.loadModel(join(tinyDir, "model.json"));
      using conn = ctx.deviceConnect();
      const inst = conn.loadModelInstance(model);
      expected = inst.infer(x).fc.data as Float32Array;
    }
    server = await startServer({ models: work, port: 0, instances: 2, token, maxBodyBytes: 1 << 20 });
  });
  after(async () => {
    await server?.close();
    env.restore();
    rmSync(work, { recursive: true, force: true });
  });

  test("tritonclient[http]: metadata, readiness, JSON and binary inference, repository load/unload", { timeout: 700_000 }, async () => {
    await ensureTritonClient();
    const r = await runClient([server.url, "tiny", "tiny2", token]);
    assert.equal(r.live, true);
    assert.equal(r.ready, true);
    assert.equal(r.model_ready, true);
    assert.deepEqual(r.metadata.inputs, [{ name: "input", shape: [1, 3, 8, 8], datatype: "FP32" }]);
    assert.deepEqual(r.metadata.outputs, [{ name: "fc", shape: [1, 10, 1, 1], datatype: "FP32" }]);
    for (const k of ["json", "binary", "default_outputs"] as const) {
      assert.deepEqual(r[k].outputs.fc, Array.from(expected), k);
      assert.deepEqual(r[k].shapes.fc, [1, 10, 1, 1]);
      assert.equal(r[k].id, "req-1");
    }
    assert.deepEqual(r.json.binary, { fc: false });
    assert.deepEqual(r.binary.binary, { fc: true });
    assert.deepEqual(r.default_outputs.binary, { fc: true }); // no outputs listed: binary_data_output
    assert.deepEqual(r.index_before.map((m) => [m.name, m.state]), [["tiny", "READY"], ["tiny2", "READY"]]);
    assert.equal(r.other_ready_after_unload, false);
    assert.match(r.unloaded_metadata_error, /unknown model 'tiny2'/);
    assert.equal(r.other_ready_after_load, true);
    assert.ok(r.escape_error, "a name outside the repository must be refused");
  });

  test("bad input: status code and a message naming the field", async () => {
    const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
      fetch(server.url + path, { method: "POST", body, headers: { ...auth, ...headers } });
    const good = { name: "input", datatype: "FP32", shape: [1, 3, 8, 8], data: Array.from(x) };
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ["malformed JSON", () => post("/v2/models/tiny/infer", "{not json"), 400, /malformed JSON/],
      ["not an object", () => post("/v2/models/tiny/infer", "[1]"), 400, /request: must be a JSON object/],
      ["no inputs", () => post("/v2/models/tiny/infer", "{}"), 400, /inputs: must be a list/],
      ["wrong datatype", () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [{ ...good, datatype: "INT8" }] })), 400, /inputs\[0\]\.datatype: .*FP32, got "INT8"/],
      ["wrong shape", () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [{ ...good, shape: [1, 3, 8, 9] }] })), 400, /inputs\[0\]\.shape: input 'input' needs shape \[1,3,8,8\]/],
      ["wrong element count", () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [{ ...good, data: [1, 2, 3] }] })), 400, /inputs\[0\]\.data: .*needs 192 values, got 3/],
      ["non-numeric data", () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [{ ...good, data: ["a"] }] })), 400, /inputs\[0\]\.data: data must hold numbers/],
      ["unknown tensor", () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [{ ...good, name: "nope" }] })), 400, /unknown input tensor 'nope'/],
      ["missing tensor", () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [] })), 400, /missing input tensor 'input'/],
      ["unknown output", () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [good], outputs: [{ name: "zz" }] })), 400, /outputs\[0\]\.name: unknown output tensor 'zz'/],
      ["unknown model", () => post("/v2/models/nope/infer", JSON.stringify({ inputs: [good] })), 400, /unknown model 'nope'/],
      ["unknown version", () => fetch(server.url + "/v2/models/tiny/versions/7", { headers: auth }), 400, /no version '7'/],
      ["byte size mismatch", () => {
        const head = new TextEncoder().encode(JSON.stringify({ inputs: [{ ...good, data: undefined, parameters: { binary_data_size: 100 } }] }));
        const body = new Uint8Array(head.length + 100);
        body.set(head);
        return post("/v2/models/tiny/infer", body, { "Inference-Header-Content-Length": String(head.length) });
      }, 400, /binary_data_size: input 'input' of shape \[1,3,8,8\] needs 768 bytes, got 100/],
      ["binary body too short", () => {
        const head = new TextEncoder().encode(JSON.stringify({ inputs: [{ ...good, data: undefined, parameters: { binary_data_size: 768 } }] }));
        const body = new Uint8Array(head.length + 10);
        body.set(head);
        return post("/v2/models/tiny/infer", body, { "Inference-Header-Content-Length": String(head.length) });
      }, 400, /the body ends 758 bytes early/],
      ["bad binary header length", () => post("/v2/models/tiny/infer", "{}", { "Inference-Header-Content-Length": "999" }), 400, /Inference-Header-Content-Length: '999'/],
      ["body over the limit", () => post("/v2/models/tiny/infer", new Uint8Array((1 << 20) + 1)), 413, /exceeds the limit/],
      ["load outside the repository", () => post("/v2/repository/models/..%2Ftiny/load", ""), 400, /unknown model '\.\.\/tiny'/],
      ["no token", () => fetch(server.url + "/v2/models/tiny"), 401, /bearer token/],
      ["wrong token", () => fetch(server.url + "/v2/models/tiny", { headers: { Authorization: "Bearer x" + token } }), 401, /bearer token/],
      ["unknown route", () => fetch(server.url + "/v3", { headers: auth }), 404, /no route/],
    ];
    for (const [what, call, status, msg] of cases) {
      const res = await call();
      const body = await res.json();
      assert.equal(res.status, status, `${what}: ${JSON.stringify(body)}`);
      assert.match(body.error, msg, what);
    }
    // the server is still up and answers correctly
    const res = await post("/v2/models/tiny/infer", JSON.stringify({ inputs: [good] }));
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).outputs[0].data, Array.from(expected));
  });

  test("/metrics: requests by status, latency histogram, queue depth, device figures", async () => {
    const text = await (await fetch(server.url + "/metrics")).text();
    assert.match(text, /axr_serve_requests_total\{model="tiny",status="200"\} [1-9]/);
    assert.match(text, /axr_serve_requests_total\{model="tiny",status="400"\} [1-9]/);
    assert.match(text, /axr_serve_request_seconds_count\{model="tiny"\} [1-9]/);
    assert.match(text, /axr_serve_queue_depth\{model="tiny"\} 0/);
    assert.match(text, /axr_serve_device_fps\{model="tiny",instance="\d"\} \d/);
  });

  test("concurrent requests: each answered once with its own result", async () => {
    const one = async (k: number) => {
      const data = Array.from(x, (v) => v * (k % 3 === 0 ? 1 : 0.5));
      const res = await fetch(server.url + "/v2/models/tiny/infer", {
        method: "POST", headers: auth, body: JSON.stringify({ id: `r${k}`, inputs: [{ name: "input", datatype: "FP32", shape: [1, 3, 8, 8], data }] }),
      });
      assert.equal(res.status, 200);
      const b = await res.json();
      assert.equal(b.id, `r${k}`);
      return b.outputs[0].data as number[];
    };
    const outs = await Promise.all(Array.from({ length: 32 }, (_, k) => one(k)));
    outs.forEach((o, k) => k % 3 === 0 && assert.deepEqual(o, Array.from(expected)));
    assert.notDeepEqual(outs[1], outs[0]);
  });
});
