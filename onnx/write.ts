/**
 * ONNX writer: the object model of `model.ts` to protobuf bytes. Tensors are written
 * as raw_data (strings as string_data). `decodeModel(encodeModel(m))` gives `m` back.
 *
 * @example
 * ```ts
 * import { encodeModel } from "./write.ts";
 * import type { GraphProto } from "./model.ts";
 * const graph: GraphProto = { name: "g", nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
 * const bytes = encodeModel({ irVersion: 8, opsetImports: [{ domain: "", version: 17 }], graph });
 * await Deno.writeFile("postamble.onnx", bytes);
 * ```
 * @module
 */
import { ProtoWriter } from "./proto.ts";
import type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from "./model.ts";
import { bytesOf } from "./tensor.ts";

const enc = new TextEncoder();

/** Encodes a ModelProto. @example `encodeModel(model).length` */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, m.irVersion);
  if (m.producerName) w.string(2, m.producerName);
  if (m.producerVersion) w.string(3, m.producerVersion);
  if (m.domain) w.string(4, m.domain);
  if (m.modelVersion) w.int(5, m.modelVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, (g) => writeGraph(g, m.graph));
  for (const o of m.opsetImports) {
    w.message(8, (x) => {
      if (o.domain) x.string(1, o.domain);
      x.int(2, o.version);
    });
  }
  for (const [k, v] of Object.entries(m.metadataProps ?? {})) w.message(14, (x) => x.string(1, k).string(2, v));
  return w.finish();
}

/** Encodes one TensorProto (as in ONNX test-data `.pb` files). @example `encodeTensorProto({ name: "x", dataType: 1, dims: [1], data: new Float32Array([1]) })` */
export function encodeTensorProto(t: TensorProto): Uint8Array {
  const w = new ProtoWriter();
  writeTensor(w, t);
  return w.finish();
}

function writeGraph(w: ProtoWriter, g: GraphProto): void {
  for (const n of g.nodes) w.message(1, (x) => writeNode(x, n));
  if (g.name) w.string(2, g.name);
  for (const t of g.initializers) w.message(5, (x) => writeTensor(x, t));
  for (const v of g.inputs) w.message(11, (x) => writeValueInfo(x, v));
  for (const v of g.outputs) w.message(12, (x) => writeValueInfo(x, v));
  for (const v of g.valueInfo) w.message(13, (x) => writeValueInfo(x, v));
}

function writeNode(w: ProtoWriter, n: NodeProto): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes) w.message(5, (x) => writeAttribute(x, a));
  if (n.domain) w.string(7, n.domain);
}

function writeAttribute(w: ProtoWriter, a: AttributeProto): void {
  w.string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.bytes(4, a.s);
  if (a.t) w.message(5, (x) => writeTensor(x, a.t!));
  if (a.g) w.message(6, (x) => writeGraph(x, a.g!));
  if (a.floats) { for (const f of a.floats) w.float(7, f); // unpacked, as onnx writes them
   }
  if (a.ints) { for (const i of a.ints) w.int(8, i); }
  if (a.strings) { for (const s of a.strings) w.bytes(9, s); }
  if (a.tensors) { for (const t of a.tensors) w.message(10, (x) => writeTensor(x, t)); }
  if (a.graphs) { for (const g of a.graphs) w.message(11, (x) => writeGraph(x, g)); }
  w.int(20, a.type);
  if (a.refAttrName) w.string(21, a.refAttrName);
}

function writeTensor(w: ProtoWriter, t: TensorProto): void {
  w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  if (t.name) w.string(8, t.name);
  if (t.data && Array.isArray(t.data)) { for (const s of t.data) w.bytes(6, enc.encode(s)); }
  else if (t.data) w.bytes(9, bytesOf(t.data));
  else if (t.raw) w.bytes(9, t.raw);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfoProto): void {
  w.string(1, v.name);
  w.message(2, (ty) =>
    ty.message(1, (tt) => {
      tt.int(1, v.elemType);
      if (v.shape) {
        tt.message(2, (sh) => {
          for (const d of v.shape!) {
            sh.message(1, (dm) => {
              if (typeof d === "number") dm.int(1, d);
              else if (typeof d === "string") dm.string(2, d);
            });
          }
        });
      }
    }));
}
