/**
 * The v2 inference request and response bodies: JSON tensors and the binary tensor
 * data extension (`Inference-Header-Content-Length`, `binary_data_size`,
 * `binary_data` / `binary_data_output`). Every malformed field is a 400 naming it.
 *
 * @module
 */
import type { InferOutputs, ModelSignature, Tensor } from "../mod.ts";
import { HttpError } from "./errors.ts";

/** A parsed inference request. */
export interface InferRequest {
  id?: string;
  inputs: Record<string, Tensor>;
  /** Requested outputs (all when absent), each with whether it goes binary. */
  outputs: { name: string; binary: boolean }[] | undefined;
  /** Default for outputs not listed: binary_data_output. */
  binaryDefault: boolean;
}

const bad = (msg: string): HttpError => new HttpError(400, msg);
const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

function flatten(v: unknown, out: number[], field: string): void {
  if (Array.isArray(v)) {
    for (const x of v) flatten(x, out, field);
  } else if (typeof v === "number" && Number.isFinite(v)) out.push(v);
  else throw bad(`${field}: data must hold numbers, got ${JSON.stringify(v)?.slice(0, 40)}`);
}

/**
 * Parses a request body against the model's signature.
 *
 * @example
 * ```ts
 * const req = parseInferRequest(body, headers["inference-header-content-length"], sig);
 * ```
 */
export function parseInferRequest(body: Uint8Array, headerLength: string | undefined, sig: ModelSignature): InferRequest {
  let jsonEnd = body.length;
  if (headerLength !== undefined) {
    if (!/^\d+$/.test(headerLength) || Number(headerLength) > body.length) {
      throw bad(`Inference-Header-Content-Length: '${headerLength}' is not a length within the ${body.length}-byte body`);
    }
    jsonEnd = Number(headerLength);
  }
  let req: unknown;
  try {
    req = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body.subarray(0, jsonEnd)));
  } catch (e) {
    throw bad(`malformed JSON in the request header: ${e instanceof Error ? e.message : e}`);
  }
  if (typeof req !== "object" || req === null || Array.isArray(req)) throw bad("request: must be a JSON object");
  const r = req as Record<string, unknown>;
  if (!Array.isArray(r.inputs)) throw bad("inputs: must be a list of tensors");
  let offset = jsonEnd;
  const inputs: Record<string, Tensor> = {};
  for (const [i, raw] of (r.inputs as unknown[]).entries()) {
    if (typeof raw !== "object" || raw === null) throw bad(`inputs[${i}]: must be an object`);
    const t = raw as Record<string, unknown>;
    const name = t.name;
    if (typeof name !== "string") throw bad(`inputs[${i}].name: must be a string`);
    const spec = sig.inputs.find((x) => x.name === name);
    if (!spec) throw bad(`inputs[${i}].name: unknown input tensor '${name}' (inputs: ${sig.inputs.map((x) => x.name).join(", ")})`);
    if (name in inputs) throw bad(`inputs[${i}].name: input '${name}' given twice`);
    if (t.datatype !== "FP32") throw bad(`inputs[${i}].datatype: input '${name}' must be FP32, got ${JSON.stringify(t.datatype)}`);
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw bad(`inputs[${i}].shape: must be a list of non-negative integers`);
    if (shape.length !== spec.shape.length || shape.some((d, k) => spec.shape[k] >= 0 && spec.shape[k] !== d)) {
      throw bad(`inputs[${i}].shape: input '${name}' needs shape ${JSON.stringify(spec.shape)}, got ${JSON.stringify(shape)}`);
    }
    const n = product(shape as number[]);
    const params = (typeof t.parameters === "object" && t.parameters !== null ? t.parameters : {}) as Record<string, unknown>;
    let data: Float32Array;
    if (params.binary_data_size !== undefined) {
      const size = params.binary_data_size;
      if (headerLength === undefined) throw bad(`inputs[${i}].parameters.binary_data_size: binary data needs the Inference-Header-Content-Length header`);
      if (!Number.isInteger(size) || (size as number) < 0) throw bad(`inputs[${i}].parameters.binary_data_size: must be a non-negative integer`);
      if ((size as number) !== 4 * n) throw bad(`inputs[${i}].parameters.binary_data_size: input '${name}' of shape ${JSON.stringify(shape)} needs ${4 * n} bytes, got ${size}`);
      if (offset + (size as number) > body.length) throw bad(`inputs[${i}].parameters.binary_data_size: the body ends ${offset + (size as number) - body.length} bytes early`);
      data = new Float32Array(n);
      new Uint8Array(data.buffer).set(body.subarray(offset, offset + (size as number)));
      offset += size as number;
    } else {
      if (t.data === undefined) throw bad(`inputs[${i}].data: missing (or give parameters.binary_data_size)`);
      const flat: number[] = [];
      flatten(t.data, flat, `inputs[${i}].data`);
      if (flat.length !== n) throw bad(`inputs[${i}].data: input '${name}' of shape ${JSON.stringify(shape)} needs ${n} values, got ${flat.length}`);
      data = Float32Array.from(flat);
    }
    inputs[name] = { data, shape: shape as number[], dtype: "float32" };
  }
  if (offset !== body.length) throw bad(`binary data: ${body.length - offset} bytes beyond the inputs' binary_data_size`);
  for (const s of sig.inputs) if (!(s.name in inputs)) throw bad(`inputs: missing input tensor '${s.name}'`);
  const rp = (typeof r.parameters === "object" && r.parameters !== null ? r.parameters : {}) as Record<string, unknown>;
  let outputs: InferRequest["outputs"];
  if (r.outputs !== undefined) {
    if (!Array.isArray(r.outputs)) throw bad("outputs: must be a list");
    outputs = (r.outputs as unknown[]).map((o, i) => {
      const oo = (typeof o === "object" && o !== null ? o : {}) as Record<string, unknown>;
      if (typeof oo.name !== "string") throw bad(`outputs[${i}].name: must be a string`);
      if (!sig.outputs.some((s) => s.name === oo.name)) throw bad(`outputs[${i}].name: unknown output tensor '${oo.name}' (outputs: ${sig.outputs.map((x) => x.name).join(", ")})`);
      const p = (typeof oo.parameters === "object" && oo.parameters !== null ? oo.parameters : {}) as Record<string, unknown>;
      return { name: oo.name, binary: p.binary_data === true };
    });
  }
  if (r.id !== undefined && typeof r.id !== "string") throw bad("id: must be a string");
  return { id: r.id as string | undefined, inputs, outputs, binaryDefault: rp.binary_data_output === true };
}

/**
 * Encodes the response: JSON, or a JSON header followed by binary output data.
 *
 * @example
 * ```ts
 * const { body, headerLength } = encodeInferResponse("tiny", req, outs);
 * ```
 */
export function encodeInferResponse(model: string, req: InferRequest, outs: InferOutputs): { body: Uint8Array; headerLength: number | undefined } {
  const wanted = req.outputs ?? Object.keys(outs).map((name) => ({ name, binary: req.binaryDefault }));
  const chunks: Uint8Array[] = [];
  const outputs = wanted.map(({ name, binary }) => {
    const t = outs[name];
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
    const o: Record<string, unknown> = { name, datatype: "FP32", shape: t.shape };
    if (binary) {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      o.parameters = { binary_data_size: bytes.length };
      chunks.push(bytes);
    } else o.data = Array.from(data);
    return o;
  });
  const head = new TextEncoder().encode(JSON.stringify({ model_name: model, model_version: "1", ...(req.id !== undefined ? { id: req.id } : {}), outputs }));
  if (chunks.length === 0) return { body: head, headerLength: undefined };
  const body = new Uint8Array(head.length + chunks.reduce((a, c) => a + c.length, 0));
  body.set(head);
  let at = head.length;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return { body, headerLength: head.length };
}
