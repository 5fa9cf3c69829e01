/**
 * ONNX reader: protobuf bytes to the object model of `model.ts`. Every length and
 * count is bounds-checked; external data is refused with {@link OnnxUnsupportedError}.
 *
 * @example
 * ```ts
 * import { decodeModel } from "./read.ts";
 * const model = decodeModel(await Deno.readFile("model.onnx"));
 * console.log(model.graph.nodes.map((n) => n.opType));
 * ```
 * @module
 */
import { OnnxFormatError, OnnxUnsupportedError } from "./errors.ts";
import { ProtoReader } from "./proto.ts";
import type {
  AttributeProto,
  Dim,
  GraphProto,
  ModelProto,
  NodeProto,
  OpsetImport,
  TensorProto,
  ValueInfoProto,
} from "./model.ts";
import { allocData, dataFromBytes, DataType, dtypeOf, sizeOf, type TensorData } from "./tensor.ts";

const MAX_DEPTH = 64;
const MAX_ELEMENTS = 2 ** 31;

/**
 * How one field of a message is read: the wire types it accepts, and a read that consumes
 * the field into the message. A field with another wire type, or one not listed, is skipped.
 */
type Field<M> = readonly [wires: readonly number[], read: (r: ProtoReader, m: M, wire: number, depth: number) => void];
/** A message's fields by field number. */
type Fields<M> = Readonly<Record<number, Field<M>>>;

const VARINT = [0], LEN = [2], VARINT_OR_PACKED = [0, 2], FIXED32_OR_PACKED = [5, 2], FIXED64_OR_PACKED = [1, 2];

/** Reads every field of one message into `m` by its table; `depth` counts nested graphs. */
function readFields<M>(r: ProtoReader, m: M, fields: Fields<M>, depth = 0): M {
  while (r.more()) {
    const [f, w] = r.tag();
    const field = fields[f];
    if (field !== undefined && field[0].includes(w)) field[1](r, m, w, depth);
    else r.skip(w);
  }
  return m;
}

const OPSET_FIELDS: Fields<OpsetImport> = {
  1: [LEN, (r, o) => o.domain = r.string()],
  2: [VARINT, (r, o) => o.version = r.int64()],
};

const STRING_PAIR_FIELDS: Fields<[string, string]> = {
  1: [LEN, (r, kv) => kv[0] = r.string()],
  2: [LEN, (r, kv) => kv[1] = r.string()],
};

const MODEL_FIELDS: Fields<ModelProto> = {
  1: [VARINT, (r, m) => m.irVersion = r.int64()],
  2: [LEN, (r, m) => m.producerName = r.string()],
  3: [LEN, (r, m) => m.producerVersion = r.string()],
  4: [LEN, (r, m) => m.domain = r.string()],
  5: [VARINT, (r, m) => m.modelVersion = r.int64()],
  6: [LEN, (r, m) => m.docString = r.string()],
  7: [LEN, (r, m) => m.graph = readGraph(r.sub(), 0)],
  8: [LEN, (r, m) => m.opsetImports.push(readFields(r.sub(), { domain: "", version: 0 }, OPSET_FIELDS))],
  14: [LEN, (r, m) => {
    const [k, v] = readFields(r.sub(), ["", ""], STRING_PAIR_FIELDS);
    (m.metadataProps ??= {})[k] = v;
  }],
  25: [LEN, (r, m, w) => {
    m.functions = (m.functions ?? 0) + 1;
    r.skip(w);
  }],
};

/** Decodes an ONNX ModelProto. @example `decodeModel(bytes).graph.nodes.length` */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("decodeModel: expected a Uint8Array");
  if (bytes.length === 0) throw new OnnxFormatError("empty ONNX file");
  const none = emptyGraph();
  const m = readFields<ModelProto>(
    new ProtoReader(bytes),
    { irVersion: 0, opsetImports: [], graph: none },
    MODEL_FIELDS,
  );
  if (m.graph === none) throw new OnnxFormatError("ONNX model has no graph (not an ONNX file?)");
  return m;
}

/** Decodes a serialized TensorProto (the `.pb` files of ONNX test data). @example `decodeTensorProto(bytes).dims` */
export function decodeTensorProto(bytes: Uint8Array): TensorProto {
  return readTensor(new ProtoReader(bytes));
}

function emptyGraph(): GraphProto {
  return { name: "", nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
}

const GRAPH_FIELDS: Fields<GraphProto> = {
  1: [LEN, (r, g, _w, depth) => g.nodes.push(readFields(r.sub(), emptyNode(), NODE_FIELDS, depth))],
  2: [LEN, (r, g) => g.name = r.string()],
  5: [LEN, (r, g) => g.initializers.push(readTensor(r.sub()))],
  11: [LEN, (r, g) => g.inputs.push(readValueInfo(r.sub()))],
  12: [LEN, (r, g) => g.outputs.push(readValueInfo(r.sub()))],
  13: [LEN, (r, g) => g.valueInfo.push(readValueInfo(r.sub()))],
  15: [LEN, (r, g, w) => {
    g.sparseInitializers = (g.sparseInitializers ?? 0) + 1;
    r.skip(w);
  }],
};

function readGraph(r: ProtoReader, depth: number): GraphProto {
  if (depth > MAX_DEPTH) throw new OnnxFormatError("subgraphs nested too deeply");
  return readFields(r, emptyGraph(), GRAPH_FIELDS, depth);
}

function emptyNode(): NodeProto {
  return { name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [] };
}

const NODE_FIELDS: Fields<NodeProto> = {
  1: [LEN, (r, n) => n.inputs.push(r.string())],
  2: [LEN, (r, n) => n.outputs.push(r.string())],
  3: [LEN, (r, n) => n.name = r.string()],
  4: [LEN, (r, n) => n.opType = r.string()],
  5: [LEN, (r, n, _w, depth) => n.attributes.push(readAttribute(r.sub(), depth))],
  7: [LEN, (r, n) => n.domain = r.string()],
};

const ATTRIBUTE_FIELDS: Fields<AttributeProto> = {
  1: [LEN, (r, a) => a.name = r.string()],
  2: [[5], (r, a) => a.f = r.float()],
  3: [VARINT, (r, a) => a.i = r.int64()],
  4: [LEN, (r, a) => a.s = r.bytes()],
  5: [LEN, (r, a) => a.t = readTensor(r.sub())],
  6: [LEN, (r, a, _w, depth) => a.g = readGraph(r.sub(), depth + 1)],
  7: [FIXED32_OR_PACKED, (r, a, w) => r.repeated(w, a.floats ??= [], () => r.float())],
  8: [VARINT_OR_PACKED, (r, a, w) => r.repeated(w, a.ints ??= [], () => r.int64())],
  9: [LEN, (r, a) => (a.strings ??= []).push(r.bytes())],
  10: [LEN, (r, a) => (a.tensors ??= []).push(readTensor(r.sub()))],
  11: [LEN, (r, a, _w, depth) => (a.graphs ??= []).push(readGraph(r.sub(), depth + 1))],
  20: [VARINT, (r, a) => a.type = r.int64()],
  21: [LEN, (r, a) => a.refAttrName = r.string()],
};

function readAttribute(r: ProtoReader, depth: number): AttributeProto {
  const a = readFields<AttributeProto>(r, { name: "", type: 0 }, ATTRIBUTE_FIELDS, depth);
  if (a.type === 0) a.type = inferAttrType(a);
  return a;
}

function inferAttrType(a: AttributeProto): number {
  if (a.f !== undefined) return 1;
  if (a.i !== undefined) return 2;
  if (a.s !== undefined) return 3;
  if (a.t) return 4;
  if (a.g) return 5;
  if (a.floats) return 6;
  if (a.ints) return 7;
  if (a.strings) return 8;
  if (a.tensors) return 9;
  if (a.graphs) return 10;
  return 0;
}

/** TypeProto.Tensor (elem_type 1, shape 2) and TensorShapeProto.Dimension (dim_value 1, dim_param 2). */
const TENSOR_TYPE_FIELDS: Fields<ValueInfoProto> = {
  1: [VARINT, (r, v) => v.elemType = r.int64()],
  2: [LEN, (r, v) => v.shape = readFields(r.sub(), [] as Dim[], SHAPE_FIELDS)],
};
const SHAPE_FIELDS: Fields<Dim[]> = {
  1: [LEN, (r, dims) => dims.push(readFields(r.sub(), [null] as [Dim], DIM_FIELDS)[0])],
};
const DIM_FIELDS: Fields<[Dim]> = {
  1: [VARINT, (r, d) => d[0] = r.int64()],
  2: [LEN, (r, d) => d[0] = r.string()],
};

const VALUE_INFO_FIELDS: Fields<ValueInfoProto> = {
  1: [LEN, (r, v) => v.name = r.string()],
  2: [LEN, (r, v) => readType(r.sub(), v)],
};

function readValueInfo(r: ProtoReader): ValueInfoProto {
  return readFields<ValueInfoProto>(r, { name: "", elemType: 0, shape: null }, VALUE_INFO_FIELDS);
}

/** TypeProto: a tensor type (field 1) fills `v`; any other kind but a denotation (6) marks it non-tensor. */
function readType(r: ProtoReader, v: ValueInfoProto): void {
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) readFields(r.sub(), v, TENSOR_TYPE_FIELDS);
    else {
      if (w === 2 && f !== 6) v.nonTensor = true;
      r.skip(w);
    }
  }
}

/** A TensorProto as read: its fields, and the data fields that decide `data` once all are read. */
interface TensorParts {
  t: TensorProto;
  raw?: Uint8Array;
  floats: number[];
  int32s: number[];
  doubles: number[];
  int64s: bigint[];
  uint64s: bigint[];
  strings: Uint8Array[];
  external: boolean;
}

const TENSOR_FIELDS: Fields<TensorParts> = {
  1: [VARINT_OR_PACKED, (r, p, w) => r.repeated(w, p.t.dims, () => r.int64())],
  2: [VARINT, (r, p) => p.t.dataType = r.int64()],
  4: [FIXED32_OR_PACKED, (r, p, w) => r.repeated(w, p.floats, () => r.float())],
  5: [VARINT_OR_PACKED, (r, p, w) => r.repeated(w, p.int32s, () => r.int32())],
  6: [LEN, (r, p) => p.strings.push(r.bytes())],
  7: [VARINT_OR_PACKED, (r, p, w) => r.repeated64(w, p.int64s)],
  8: [LEN, (r, p) => p.t.name = r.string()],
  9: [LEN, (r, p) => p.raw = r.bytes()],
  10: [FIXED64_OR_PACKED, (r, p, w) => r.repeated(w, p.doubles, () => r.double())],
  11: [VARINT_OR_PACKED, (r, p, w) => r.repeated64(w, p.uint64s, true)],
  13: [LEN, (r, p, w) => {
    p.external = true;
    r.skip(w);
  }],
  14: [VARINT, (r, p) => {
    if (r.int64() === 1) p.external = true;
  }],
};

function readTensor(r: ProtoReader): TensorProto {
  const { t, raw, floats, int32s, doubles, int64s, uint64s, strings, external } = readFields<TensorParts>(r, {
    t: { name: "", dataType: 0, dims: [], data: null },
    floats: [],
    int32s: [],
    doubles: [],
    int64s: [],
    uint64s: [],
    strings: [],
    external: false,
  }, TENSOR_FIELDS);
  if (external) {
    throw new OnnxUnsupportedError(
      `tensor '${t.name}' uses external data, which is not supported: save the model with all tensors inside the .onnx file`,
    );
  }
  for (const d of t.dims) {
    if (!Number.isInteger(d) || d < 0) throw new OnnxFormatError(`tensor '${t.name}' has invalid dimension ${d}`);
  }
  const n = sizeOf(t.dims);
  if (n > MAX_ELEMENTS) throw new OnnxFormatError(`tensor '${t.name}' is too large (${n} elements)`);
  const dtype = dtypeOf(t.dataType);
  if (!dtype) {
    t.raw = raw ?? new Uint8Array(0);
    return t;
  }
  let data: TensorData;
  if (raw) {
    if (dtype === "string") throw new OnnxFormatError(`string tensor '${t.name}' has raw_data`);
    data = dataFromBytes(dtype, raw);
  } else {
    data = allocData(dtype, 0);
    switch (dtype) {
      case "float32":
        data = Float32Array.from(floats);
        break;
      case "float64":
        data = Float64Array.from(doubles);
        break;
      case "int64":
        data = BigInt64Array.from(int64s);
        break;
      case "uint64":
        data = BigUint64Array.from(uint64s);
        break;
      case "uint32":
        data = Uint32Array.from(uint64s, (x) => Number(x));
        break;
      case "string": {
        const dec = new TextDecoder();
        data = strings.map((s) => dec.decode(s));
        break;
      }
      default: {
        data = allocData(dtype, int32s.length);
        const d = data as Int32Array;
        for (let i = 0; i < int32s.length; i++) d[i] = int32s[i];
      }
    }
  }
  if (data.length !== n) {
    throw new OnnxFormatError(`tensor '${t.name}' has ${data.length} elements, its dims [${t.dims}] need ${n}`);
  }
  t.data = data;
  return t;
}

export { DataType };
