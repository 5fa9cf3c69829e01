/**
 * The load generator of the `serve_throughput` benchmark, run as its own process (as a
 * real client would be): `CLIENTS` loops, each sending one inference request and
 * waiting for its answer, for `SECONDS` after a warm-up. Prints one JSON line:
 * `{"n": requests, "ms": elapsed, "p50_ms", "p99_ms"}`.
 *
 *   deno run -A bench/serve_client.ts SPEC_JSON     bun bench/serve_client.ts SPEC_JSON
 *
 * SPEC_JSON: `{"url", "model", "input", "shape", "binary", "clients", "seconds"}`; the
 * input holds `sin(i)`; `binary` uses the binary tensor data extension for the input
 * and the outputs, as Triton's clients do by default.
 *
 * @module
 */
import process from "node:process";

/** What to send, and for how long. */
export interface ClientSpec {
  url: string;
  model: string;
  input: string;
  shape: number[];
  binary: boolean;
  clients: number;
  seconds: number;
}

/** One request's body and headers for `spec`. */
function request(spec: ClientSpec): { body: Uint8Array<ArrayBuffer>; headers: Record<string, string> } {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  if (!spec.binary) {
    const json = { inputs: [{ name: spec.input, datatype: "FP32", shape: spec.shape, data: Array.from(x) }] };
    return { body: new TextEncoder().encode(JSON.stringify(json)), headers: { "Content-Type": "application/json" } };
  }
  const head = new TextEncoder().encode(JSON.stringify({
    inputs: [{ name: spec.input, datatype: "FP32", shape: spec.shape, parameters: { binary_data_size: 4 * n } }],
    parameters: { binary_data_output: true },
  }));
  const body = new Uint8Array(head.length + 4 * n);
  body.set(head);
  body.set(new Uint8Array(x.buffer), head.length);
  return { body, headers: { "Inference-Header-Content-Length": String(head.length) } };
}

/**
 * Drives the server; resolves to the count, elapsed ms and latency percentiles.
 *
 * @example
 * ```ts
 * const r = await drive({ url: "http://127.0.0.1:8000", model: "tiny", input: "input", shape: [1, 3, 8, 8], binary: false, clients: 4, seconds: 2 });
 * ```
 */
export async function drive(spec: ClientSpec): Promise<{ n: number; ms: number; p50_ms: number; p99_ms: number }> {
  const { body, headers } = request(spec);
  const url = `${spec.url}/v2/models/${spec.model}/infer`;
  const one = async () => {
    const res = await fetch(url, { method: "POST", body, headers });
    if (res.status !== 200) throw new Error(`serve client: HTTP ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  };
  for (let i = 0; i < spec.clients * 10; i++) await one();
  const lat: number[] = [];
  const t0 = performance.now();
  const end = t0 + spec.seconds * 1000;
  await Promise.all(Array.from({ length: spec.clients }, async () => {
    while (performance.now() < end) {
      const s = performance.now();
      await one();
      lat.push(performance.now() - s);
    }
  }));
  const ms = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))];
  return { n: lat.length, ms, p50_ms: pct(50), p99_ms: pct(99) };
}

if (import.meta.main) {
  console.log(JSON.stringify(await drive(JSON.parse(process.argv[2]) as ClientSpec)));
  process.exit(0);
}
