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
  if (existsSync(join(pyDir, "tritonclient/http/_client.py")) && existsSync(join(pyDir, "ml_dtypes"))) {
    return Promise.resolve();
  }
  return new Promise((resolve, reject) =>
    execFile("python3", ["-m", "pip", "install", "-q", "--target", pyDir, "tritonclient[http]", "numpy"], {
      timeout: 600_000,
    }, (e) => (e ? reject(e) : resolve()))
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
    server = await startServer({
      models: work,
      port: 0,
      instances: 2,
      token,
      maxBodyBytes: 1 << 20,
      modelControl: "explicit",
    });
  });
  after(async () => {
    await server?.close();
    env.restore();
    rmSync(work, { recursive: true, force: true });
  });

  test("tritonclient[http]: metadata, readiness, JSON and binary inference, repository load/unload", {
    timeout: 700_000,
  }, async () => {
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
      [
        "wrong datatype",
        () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [{ ...good, datatype: "INT8" }] })),
        400,
        /inputs\[0\]\.datatype: .*FP32, got "INT8"/,
      ],
      [
        "wrong shape",
        () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [{ ...good, shape: [1, 3, 8, 9] }] })),
        400,
        /inputs\[0\]\.shape: input 'input' needs shape \[1,3,8,8\]/,
      ],
      [
        "wrong element count",
        () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [{ ...good, data: [1, 2, 3] }] })),
        400,
        /inputs\[0\]\.data: .*needs 192 values, got 3/,
      ],
      [
        "non-numeric data",
        () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [{ ...good, data: ["a"] }] })),
        400,
        /inputs\[0\]\.data: data must hold numbers/,
      ],
      [
        "unknown tensor",
        () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [{ ...good, name: "nope" }] })),
        400,
        /unknown input tensor 'nope'/,
      ],
      [
        "missing tensor",
        () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [] })),
        400,
        /missing input tensor 'input'/,
      ],
      [
        "unknown output",
        () => post("/v2/models/tiny/infer", JSON.stringify({ inputs: [good], outputs: [{ name: "zz" }] })),
        400,
        /outputs\[0\]\.name: unknown output tensor 'zz'/,
      ],
      [
        "unknown model",
        () => post("/v2/models/nope/infer", JSON.stringify({ inputs: [good] })),
        400,
        /unknown model 'nope'/,
      ],
      [
        "unknown version",
        () => fetch(server.url + "/v2/models/tiny/versions/7", { headers: auth }),
        400,
        /no version '7'/,
      ],
      [
        "byte size mismatch",
        () => {
          const head = new TextEncoder().encode(
            JSON.stringify({ inputs: [{ ...good, data: undefined, parameters: { binary_data_size: 100 } }] }),
          );
          const body = new Uint8Array(head.length + 100);
          body.set(head);
          return post("/v2/models/tiny/infer", body, { "Inference-Header-Content-Length": String(head.length) });
        },
        400,
        /binary_data_size: input 'input' of shape \[1,3,8,8\] needs 768 bytes, got 100/,
      ],
      [
        "binary body too short",
        () => {
          const head = new TextEncoder().encode(
            JSON.stringify({ inputs: [{ ...good, data: undefined, parameters: { binary_data_size: 768 } }] }),
          );
          const body = new Uint8Array(head.length + 10);
          body.set(head);
          return post("/v2/models/tiny/infer", body, { "Inference-Header-Content-Length": String(head.length) });
        },
        400,
        /the body ends 758 bytes early/,
      ],
      [
        "bad binary header length",
        () => post("/v2/models/tiny/infer", "{}", { "Inference-Header-Content-Length": "999" }),
        400,
        /Inference-Header-Content-Length: '999'/,
      ],
      [
        "body over the limit",
        () => post("/v2/models/tiny/infer", new Uint8Array((1 << 20) + 1)),
        413,
        /exceeds the limit/,
      ],
      [
        "streamed body over the limit (no Content-Length)",
        () =>
          fetch(server.url + "/v2/models/tiny/infer", {
            method: "POST",
            headers: auth,
            body: new ReadableStream({
              start(c) {
                for (let k = 0; k < 5; k++) c.enqueue(new Uint8Array(1 << 18));
                c.close();
              },
            }),
            duplex: "half",
          } as RequestInit),
        413,
        /exceeds the limit of 1048576 bytes/,
      ],
      [
        "load outside the repository",
        () => post("/v2/repository/models/..%2Ftiny/load", ""),
        400,
        /unknown model '\.\.\/tiny'/,
      ],
      ["no token", () => fetch(server.url + "/v2/models/tiny"), 401, /bearer token/],
      [
        "wrong token",
        () => fetch(server.url + "/v2/models/tiny", { headers: { Authorization: "Bearer x" + token } }),
        401,
        /bearer token/,
      ],
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

  test("raw: the device's int8 tensors in and out (JSON and binary), as ModelInstance.run() gives them", async () => {
    // what run() gives for the quantized, padded input (NHWC, as the device takes it)
    let q: Int8Array, want: Int8Array, inShape: number[], outShape: number[];
    {
      using ctx = new axr.Context();
      const model = ctx.loadModel(join(tinyDir, "model.json"));
      using conn = ctx.deviceConnect();
      const inst = conn.loadModelInstance(model);
      const [ti] = model.inputs(), [to] = model.outputs();
      const nhwc = new Float32Array(192);
      for (let c = 0; c < 3; c++) for (let p = 0; p < 64; p++) nhwc[p * 3 + c] = x[c * 64 + p];
      q = ti.pad(ti.quantize(nhwc));
      want = new Int8Array(to.size);
      inst.run([q], [want]);
      inShape = [...ti.shape];
      outShape = [...to.shape];
    }
    const meta = await (await fetch(server.url + "/v2/models/tiny", { headers: auth })).json();
    const [ri] = meta.parameters.raw_inputs, [ro] = meta.parameters.raw_outputs;
    assert.deepEqual([ri.datatype, ri.shape, ro.datatype, ro.shape], ["INT8", inShape, "INT8", outShape]);
    assert.equal(typeof ri.parameters.scale, "number");
    // JSON
    const res = await fetch(server.url + "/v2/models/tiny/infer", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({
        parameters: { raw: true },
        inputs: [{ name: ri.name, datatype: "INT8", shape: ri.shape, data: Array.from(q) }],
      }),
    });
    assert.equal(res.status, 200);
    const out = (await res.json()).outputs[0];
    assert.deepEqual([out.name, out.datatype, out.shape], [ro.name, "INT8", outShape]);
    assert.deepEqual(out.data, Array.from(want));
    // binary in, binary out
    const head = new TextEncoder().encode(JSON.stringify({
      parameters: { raw: true, binary_data_output: true },
      inputs: [{ name: ri.name, datatype: "INT8", shape: ri.shape, parameters: { binary_data_size: q.length } }],
    }));
    const body = new Uint8Array(head.length + q.length);
    body.set(head);
    body.set(new Uint8Array(q.buffer, q.byteOffset, q.length), head.length);
    const bres = await fetch(server.url + "/v2/models/tiny/infer", {
      method: "POST",
      headers: { ...auth, "Inference-Header-Content-Length": String(head.length) },
      body,
    });
    assert.equal(bres.status, 200);
    const bytes = new Uint8Array(await bres.arrayBuffer());
    const hl = Number(bres.headers.get("inference-header-content-length"));
    assert.equal(
      JSON.parse(new TextDecoder().decode(bytes.subarray(0, hl))).outputs[0].parameters.binary_data_size,
      want.length,
    );
    assert.deepEqual(new Int8Array(bytes.buffer, bytes.byteOffset + hl), want);
    // a raw request with float data, or out-of-range values, is refused naming the field
    const badRaw = async (t: unknown, msg: RegExp) => {
      const r = await fetch(server.url + "/v2/models/tiny/infer", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ parameters: { raw: true }, inputs: [t] }),
      });
      assert.equal(r.status, 400);
      assert.match((await r.json()).error, msg);
    };
    await badRaw(
      { name: ri.name, datatype: "FP32", shape: ri.shape, data: Array.from(q) },
      /inputs\[0\]\.datatype: input '.*' must be INT8 \(raw\)/,
    );
    await badRaw(
      { name: ri.name, datatype: "INT8", shape: ri.shape, data: Array.from(q, () => 300) },
      /inputs\[0\]\.data: data must hold integers in the range of INT8, got 300/,
    );
    await badRaw(
      { name: "nope", datatype: "INT8", shape: ri.shape, data: Array.from(q) },
      /unknown input tensor 'nope'/,
    );
  });

  test("timeout: requests that wait past --timeout are answered 504 over HTTP (--timeout-ms); the server goes on", async () => {
    const slow = await startServer({ models: work, port: 0, instances: 1, timeoutMs: 1, maxQueue: 256 });
    try {
      const body = JSON.stringify({
        inputs: [{ name: "input", datatype: "FP32", shape: [1, 3, 8, 8], data: Array.from(x) }],
      });
      // 64 at once on one instance: the later ones wait in the queue for longer than 1 ms.
      const rs = await Promise.all(
        Array.from({ length: 64 }, () => fetch(slow.url + "/v2/models/tiny/infer", { method: "POST", body })),
      );
      const bodies = await Promise.all(rs.map((r) => r.json()));
      const timedOut = rs.filter((r) => r.status === 504).length;
      assert.ok(rs.every((r) => r.status === 200 || r.status === 504), JSON.stringify(rs.map((r) => r.status)));
      assert.ok(timedOut > 0, "no request timed out");
      assert.ok(bodies.every((b, i) => rs[i].status !== 504 || /timed out after 1 ms/.test(b.error)));
      assert.match(
        await (await fetch(slow.url + "/metrics")).text(),
        /axr_serve_requests_total\{model="tiny",status="504"\} [1-9]/,
      );
    } finally {
      await slow.close();
    }
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
        method: "POST",
        headers: auth,
        body: JSON.stringify({ id: `r${k}`, inputs: [{ name: "input", datatype: "FP32", shape: [1, 3, 8, 8], data }] }),
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
