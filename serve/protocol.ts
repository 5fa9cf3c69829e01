/**
 * The v2 inference request and response bodies: JSON tensors and the binary tensor
 * data extension (`Inference-Header-Content-Length`, `binary_data_size`,
 * `binary_data` / `binary_data_output`). Every malformed field is a 400 naming it.
 *
 * @module
 */
import type { InferOutputs, ModelSignature, Tensor } from "../mod.ts";
import { HttpError } from "./errors.ts";
import { fillNumbers, JsonError, JsonSpan, parseJson } from "./json.ts";

/** The tensor datatypes on the wire: FP32 for `infer()`, INT8/UINT8 for raw device tensors. */
export type WireDatatype = "FP32" | "INT8" | "UINT8";

/** One tensor a model takes or returns, as the metadata describes it. */
export interface WireTensor {
  name: string;
  shape: number[];
  datatype: WireDatatype;
}

/** Inputs and outputs of one way of running a model (its `infer()`, or raw). */
export interface WireSignature {
  inputs: WireTensor[];
  outputs: WireTensor[];
}

/** Per datatype: bytes per element, the typed array, the tensor dtype, the JSON value check. */
const TYPES = {
  FP32: {
    bytes: 4,
    make: (n: number) => new Float32Array(n),
    dtype: "float32",
    // finite as a float32 too: 1e39 would become +Infinity
    ok: (v: number) => Number.isFinite(Math.fround(v)),
  },
  INT8: {
    bytes: 1,
    make: (n: number) => new Int8Array(n),
    dtype: "int8",
    ok: (v: number) => Number.isInteger(v) && v >= -128 && v <= 127,
  },
  UINT8: {
    bytes: 1,
    make: (n: number) => new Uint8Array(n),
    dtype: "uint8",
    ok: (v: number) => Number.isInteger(v) && v >= 0 && v <= 255,
  },
} as const;

function wireDatatype(data: unknown): WireDatatype {
  if (data instanceof Int8Array) return "INT8";
  if (data instanceof Uint8Array) return "UINT8";
  return "FP32";
}

/** A parsed inference request. */
export interface InferRequest {
  id?: string;
  /** `parameters.raw`: the inputs and outputs are the device's int8/uint8 tensors. */
  raw: boolean;
  inputs: Record<string, Tensor>;
  /** Requested outputs (all when absent), each with whether it goes binary. */
  outputs: { name: string; binary: boolean }[] | undefined;
  /** Default for outputs not listed: binary_data_output. */
  binaryDefault: boolean;
}

const bad = (msg: string): HttpError => new HttpError(400, msg);
const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

/** Keys whose arrays stay in the body until their tensor is allocated. */
const LAZY = new Set(["data"]);

/** Writes the JSON `data` of one input into `out`; a 400 naming the field when it does not fit. */
function fillData(
  v: unknown,
  out: Float32Array | Int8Array | Uint8Array,
  field: string,
  dt: WireDatatype,
  what: string,
  need: number,
): void {
  const want = dt === "FP32" ? "numbers within the FP32 range" : `integers in the range of ${dt}`;
  let n: number;
  if (v instanceof JsonSpan) {
    try {
      n = fillNumbers(v, out, TYPES[dt].ok);
    } catch (e) {
      if (e instanceof JsonError) throw bad(`${field}: data must hold ${want}, got ${e.message}`);
      throw e;
    }
  } else if (typeof v === "number" && TYPES[dt].ok(v)) {
    if (out.length > 0) out[0] = v;
    n = 1;
  } else throw bad(`${field}: data must hold ${want}, got ${JSON.stringify(v)?.slice(0, 40)}`);
  if (n !== need) throw bad(`${field}: ${what} needs ${need} values, got ${n}`);
}

/**
 * Parses a request body against the model's signature (`rawSig` for a request with
 * `parameters.raw`: the device tensors).
 *
 * @example
 * ```ts
 * import { Context, modelSignature } from "@axelera/runtime";
 * import { rawSignature } from "./raw.ts";
 * using ctx = new Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const [input] = modelSignature(model).inputs;
 * const body = new TextEncoder().encode(JSON.stringify({
 *   inputs: [{ name: input.name, shape: input.shape, datatype: "FP32", data: new Array(192).fill(0.5) }],
 * }));
 * const req = parseInferRequest(body, undefined, modelSignature(model), rawSignature(model));
 * ```
 */
export function parseInferRequest(
  body: Uint8Array,
  headerLength: string | undefined,
  floatSig: ModelSignature | WireSignature,
  rawSig?: WireSignature,
): InferRequest {
  let jsonEnd = body.length;
  if (headerLength !== undefined) {
    if (!/^\d+$/.test(headerLength) || Number(headerLength) > body.length) {
      throw bad(
        `Inference-Header-Content-Length: '${headerLength}' is not a length within the ${body.length}-byte body`,
      );
    }
    jsonEnd = Number(headerLength);
  }
  let req: unknown;
  try {
    req = parseJson(body, jsonEnd, LAZY);
  } catch (e) {
    if (!(e instanceof JsonError)) throw e;
    throw bad(`malformed JSON in the request header: ${e.message}`);
  }
  if (typeof req !== "object" || req === null || Array.isArray(req)) throw bad("request: must be a JSON object");
  const r = req as Record<string, unknown>;
  if (!Array.isArray(r.inputs)) throw bad("inputs: must be a list of tensors");
  const rp = (typeof r.parameters === "object" && r.parameters !== null ? r.parameters : {}) as Record<string, unknown>;
  if (rp.raw !== undefined && typeof rp.raw !== "boolean") throw bad("parameters.raw: must be true or false");
  const rawMode = rp.raw === true;
  if (rawMode && !rawSig) throw bad("parameters.raw: this model has no raw device tensors to expose");
  const sig: WireSignature = rawMode ? rawSig! : floatSig;
  let offset = jsonEnd;
  const inputs: Record<string, Tensor> = {};
  for (const [i, raw] of (r.inputs as unknown[]).entries()) {
    if (typeof raw !== "object" || raw === null) throw bad(`inputs[${i}]: must be an object`);
    const t = raw as Record<string, unknown>;
    const name = t.name;
    if (typeof name !== "string") throw bad(`inputs[${i}].name: must be a string`);
    const spec = sig.inputs.find((x) => x.name === name);
    if (!spec) {
      throw bad(
        `inputs[${i}].name: unknown input tensor '${name}' (inputs: ${sig.inputs.map((x) => x.name).join(", ")})`,
      );
    }
    if (name in inputs) throw bad(`inputs[${i}].name: input '${name}' given twice`);
    const dt = spec.datatype;
    if (t.datatype !== dt) {
      throw bad(
        `inputs[${i}].datatype: input '${name}' must be ${dt}${rawMode ? " (raw)" : ""}, got ${
          JSON.stringify(t.datatype)
        }`,
      );
    }
    const shape = t.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw bad(`inputs[${i}].shape: must be a list of non-negative integers`);
    }
    if (shape.length !== spec.shape.length || shape.some((d, k) => spec.shape[k] >= 0 && spec.shape[k] !== d)) {
      throw bad(
        `inputs[${i}].shape: input '${name}' needs shape ${JSON.stringify(spec.shape)}, got ${JSON.stringify(shape)}`,
      );
    }
    const n = product(shape as number[]);
    const params = (typeof t.parameters === "object" && t.parameters !== null ? t.parameters : {}) as Record<
      string,
      unknown
    >;
    const type = TYPES[dt];
    let data: Float32Array | Int8Array | Uint8Array;
    if (params.binary_data_size !== undefined) {
      const size = params.binary_data_size;
      if (headerLength === undefined) {
        throw bad(
          `inputs[${i}].parameters.binary_data_size: binary data needs the Inference-Header-Content-Length header`,
        );
      }
      if (!Number.isInteger(size) || (size as number) < 0) {
        throw bad(`inputs[${i}].parameters.binary_data_size: must be a non-negative integer`);
      }
      if ((size as number) !== type.bytes * n) {
        throw bad(
          `inputs[${i}].parameters.binary_data_size: input '${name}' of shape ${JSON.stringify(shape)} needs ${
            type.bytes * n
          } bytes, got ${size}`,
        );
      }
      if (offset + (size as number) > body.length) {
        throw bad(
          `inputs[${i}].parameters.binary_data_size: the body ends ${
            offset + (size as number) - body.length
          } bytes early`,
        );
      }
      data = type.make(n);
      new Uint8Array(data.buffer).set(body.subarray(offset, offset + (size as number)));
      offset += size as number;
    } else {
      if (t.data === undefined) throw bad(`inputs[${i}].data: missing (or give parameters.binary_data_size)`);
      // Every JSON value takes at least one byte: a shape the text cannot fill is refused
      // before its tensor is allocated.
      const room = t.data instanceof JsonSpan ? t.data.end - t.data.start : 1;
      data = type.make(Math.min(n, room));
      fillData(t.data, data, `inputs[${i}].data`, dt, `input '${name}' of shape ${JSON.stringify(shape)}`, n);
    }
    inputs[name] = { data, shape: shape as number[], dtype: type.dtype };
  }
  if (offset !== body.length) {
    throw bad(`binary data: ${body.length - offset} bytes beyond the inputs' binary_data_size`);
  }
  for (const s of sig.inputs) if (!(s.name in inputs)) throw bad(`inputs: missing input tensor '${s.name}'`);
  let outputs: InferRequest["outputs"];
  if (r.outputs !== undefined) {
    if (!Array.isArray(r.outputs)) throw bad("outputs: must be a list");
    outputs = (r.outputs as unknown[]).map((o, i) => {
      const oo = (typeof o === "object" && o !== null ? o : {}) as Record<string, unknown>;
      if (typeof oo.name !== "string") throw bad(`outputs[${i}].name: must be a string`);
      if (!sig.outputs.some((s) => s.name === oo.name)) {
        throw bad(
          `outputs[${i}].name: unknown output tensor '${oo.name}' (outputs: ${
            sig.outputs.map((x) => x.name).join(", ")
          })`,
        );
      }
      const p = (typeof oo.parameters === "object" && oo.parameters !== null ? oo.parameters : {}) as Record<
        string,
        unknown
      >;
      return { name: oo.name, binary: p.binary_data === true };
    });
  }
  if (r.id !== undefined && typeof r.id !== "string") throw bad("id: must be a string");
  return {
    id: r.id as string | undefined,
    raw: rawMode,
    inputs,
    outputs,
    binaryDefault: rp.binary_data_output === true,
  };
}

/**
 * Encodes the response: JSON, or a JSON header followed by binary output data.
 *
 * @example
 * ```ts
 * import { Context, modelSignature } from "@axelera/runtime";
 * import { rawSignature } from "./raw.ts";
 * using ctx = new Context();
 * const model = ctx.loadModel("tests/fixtures/tiny/model.json");
 * const [input] = modelSignature(model).inputs;
 * const body = new TextEncoder().encode(JSON.stringify({
 *   inputs: [{ name: input.name, shape: input.shape, datatype: "FP32", data: new Array(192).fill(0.5) }],
 * }));
 * const req = parseInferRequest(body, undefined, modelSignature(model), rawSignature(model));
 * using conn = ctx.deviceConnect();
 * const outs = await conn.loadModelInstance(model).inferAsync(req.inputs);
 * const { body: response, headerLength } = encodeInferResponse("tiny", req, outs);
 * ```
 */
export function encodeInferResponse(
  model: string,
  req: InferRequest,
  outs: InferOutputs,
): { body: Uint8Array; headerLength: number | undefined } {
  const wanted = req.outputs ?? Object.keys(outs).map((name) => ({ name, binary: req.binaryDefault }));
  const chunks: Uint8Array[] = [];
  const outputs = wanted.map(({ name, binary }) => {
    const t = outs[name];
    const data = t.data instanceof Float32Array || t.data instanceof Int8Array || t.data instanceof Uint8Array
      ? t.data
      : Float32Array.from(t.data as ArrayLike<number>);
    const o: Record<string, unknown> = { name, datatype: wireDatatype(data), shape: t.shape };
    if (binary) {
      const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      o.parameters = { binary_data_size: bytes.length };
      chunks.push(bytes);
    } else o.data = Array.from(data);
    return o;
  });
  const head = new TextEncoder().encode(
    JSON.stringify({ model_name: model, model_version: "1", ...(req.id !== undefined ? { id: req.id } : {}), outputs }),
  );
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
