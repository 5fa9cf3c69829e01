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

/** Decodes an ONNX ModelProto. @example `decodeModel(bytes).graph.nodes.length` */
export function decodeModel(bytes: Uint8Array): ModelProto {
  if (!(bytes instanceof Uint8Array)) throw new TypeError("decodeModel: expected a Uint8Array");
  if (bytes.length === 0) throw new OnnxFormatError("empty ONNX file");
  const r = new ProtoReader(bytes);
  const m: ModelProto = { irVersion: 0, opsetImports: [], graph: emptyGraph() };
  let sawGraph = false;
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 0) m.irVersion = r.int64();
    else if (f === 2 && w === 2) m.producerName = r.string();
    else if (f === 3 && w === 2) m.producerVersion = r.string();
    else if (f === 4 && w === 2) m.domain = r.string();
    else if (f === 5 && w === 0) m.modelVersion = r.int64();
    else if (f === 6 && w === 2) m.docString = r.string();
    else if (f === 7 && w === 2) {
      m.graph = readGraph(r.sub(), 0);
      sawGraph = true;
    } else if (f === 8 && w === 2) m.opsetImports.push(readOpset(r.sub()));
    else if (f === 14 && w === 2) {
      const [k, v] = readStringPair(r.sub());
      (m.metadataProps ??= {})[k] = v;
    } else if (f === 25 && w === 2) {
      m.functions = (m.functions ?? 0) + 1;
      r.skip(w);
    } else r.skip(w);
  }
  if (!sawGraph) throw new OnnxFormatError("ONNX model has no graph (not an ONNX file?)");
  return m;
}

/** Decodes a serialized TensorProto (the `.pb` files of ONNX test data). @example `decodeTensorProto(bytes).dims` */
export function decodeTensorProto(bytes: Uint8Array): TensorProto {
  return readTensor(new ProtoReader(bytes));
}

function emptyGraph(): GraphProto {
  return { name: "", nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
}

function readOpset(r: ProtoReader): OpsetImport {
  const o: OpsetImport = { domain: "", version: 0 };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) o.domain = r.string();
    else if (f === 2 && w === 0) o.version = r.int64();
    else r.skip(w);
  }
  return o;
}

function readStringPair(r: ProtoReader): [string, string] {
  let k = "", v = "";
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) k = r.string();
    else if (f === 2 && w === 2) v = r.string();
    else r.skip(w);
  }
  return [k, v];
}

function readGraph(r: ProtoReader, depth: number): GraphProto {
  if (depth > MAX_DEPTH) throw new OnnxFormatError("subgraphs nested too deeply");
  const g = emptyGraph();
  while (r.more()) {
    const [f, w] = r.tag();
    if (w !== 2) {
      r.skip(w);
      continue;
    }
    switch (f) {
      case 1:
        g.nodes.push(readNode(r.sub(), depth));
        break;
      case 2:
        g.name = r.string();
        break;
      case 5:
        g.initializers.push(readTensor(r.sub()));
        break;
      case 11:
        g.inputs.push(readValueInfo(r.sub()));
        break;
      case 12:
        g.outputs.push(readValueInfo(r.sub()));
        break;
      case 13:
        g.valueInfo.push(readValueInfo(r.sub()));
        break;
      case 15:
        g.sparseInitializers = (g.sparseInitializers ?? 0) + 1;
        r.skip(w);
        break;
      default:
        r.skip(w);
    }
  }
  return g;
}

function readNode(r: ProtoReader, depth: number): NodeProto {
  const n: NodeProto = { name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [] };
  while (r.more()) {
    const [f, w] = r.tag();
    if (w !== 2) {
      r.skip(w);
      continue;
    }
    switch (f) {
      case 1:
        n.inputs.push(r.string());
        break;
      case 2:
        n.outputs.push(r.string());
        break;
      case 3:
        n.name = r.string();
        break;
      case 4:
        n.opType = r.string();
        break;
      case 5:
        n.attributes.push(readAttribute(r.sub(), depth));
        break;
      case 7:
        n.domain = r.string();
        break;
      default:
        r.skip(w);
    }
  }
  return n;
}

function readAttribute(r: ProtoReader, depth: number): AttributeProto {
  const a: AttributeProto = { name: "", type: 0 };
  while (r.more()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1:
        if (w === 2) {
          a.name = r.string();
          continue;
        }
        break;
      case 2:
        if (w === 5) {
          a.f = r.float();
          continue;
        }
        break;
      case 3:
        if (w === 0) {
          a.i = r.int64();
          continue;
        }
        break;
      case 4:
        if (w === 2) {
          a.s = r.bytes();
          continue;
        }
        break;
      case 5:
        if (w === 2) {
          a.t = readTensor(r.sub());
          continue;
        }
        break;
      case 6:
        if (w === 2) {
          a.g = readGraph(r.sub(), depth + 1);
          continue;
        }
        break;
      case 7:
        if (w === 2 || w === 5) {
          r.repeated(w, a.floats ??= [], () => r.float());
          continue;
        }
        break;
      case 8:
        if (w === 2 || w === 0) {
          r.repeated(w, a.ints ??= [], () => r.int64());
          continue;
        }
        break;
      case 9:
        if (w === 2) {
          (a.strings ??= []).push(r.bytes());
          continue;
        }
        break;
      case 10:
        if (w === 2) {
          (a.tensors ??= []).push(readTensor(r.sub()));
          continue;
        }
        break;
      case 11:
        if (w === 2) {
          (a.graphs ??= []).push(readGraph(r.sub(), depth + 1));
          continue;
        }
        break;
      case 20:
        if (w === 0) {
          a.type = r.int64();
          continue;
        }
        break;
      case 21:
        if (w === 2) {
          a.refAttrName = r.string();
          continue;
        }
        break;
    }
    r.skip(w);
  }
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

function readValueInfo(r: ProtoReader): ValueInfoProto {
  const v: ValueInfoProto = { name: "", elemType: 0, shape: null };
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) v.name = r.string();
    else if (f === 2 && w === 2) readType(r.sub(), v);
    else r.skip(w);
  }
  return v;
}

function readType(r: ProtoReader, v: ValueInfoProto): void {
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) {
      const t = r.sub();
      while (t.more()) {
        const [tf, tw] = t.tag();
        if (tf === 1 && tw === 0) v.elemType = t.int64();
        else if (tf === 2 && tw === 2) v.shape = readShape(t.sub());
        else t.skip(tw);
      }
    } else {
      if (w === 2 && f !== 6) v.nonTensor = true; // 6 = denotation
      r.skip(w);
    }
  }
}

function readShape(r: ProtoReader): Dim[] {
  const dims: Dim[] = [];
  while (r.more()) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) {
      const d = r.sub();
      let dim: Dim = null;
      while (d.more()) {
        const [df, dw] = d.tag();
        if (df === 1 && dw === 0) dim = d.int64();
        else if (df === 2 && dw === 2) dim = d.string();
        else d.skip(dw);
      }
      dims.push(dim);
    } else r.skip(w);
  }
  return dims;
}

function readTensor(r: ProtoReader): TensorProto {
  const t: TensorProto = { name: "", dataType: 0, dims: [], data: null };
  let raw: Uint8Array | undefined;
  const floats: number[] = [], int32s: number[] = [], doubles: number[] = [];
  const int64s: bigint[] = [], uint64s: bigint[] = [], strings: Uint8Array[] = [];
  let external = false;
  while (r.more()) {
    const [f, w] = r.tag();
    switch (f) {
      case 1:
        if (w === 0 || w === 2) {
          r.repeated(w, t.dims, () => r.int64());
          continue;
        }
        break;
      case 2:
        if (w === 0) {
          t.dataType = r.int64();
          continue;
        }
        break;
      case 4:
        if (w === 2 || w === 5) {
          r.repeated(w, floats, () => r.float());
          continue;
        }
        break;
      case 5:
        if (w === 2 || w === 0) {
          r.repeated(w, int32s, () => r.int32());
          continue;
        }
        break;
      case 6:
        if (w === 2) {
          strings.push(r.bytes());
          continue;
        }
        break;
      case 7:
        if (w === 2 || w === 0) {
          r.repeated64(w, int64s);
          continue;
        }
        break;
      case 8:
        if (w === 2) {
          t.name = r.string();
          continue;
        }
        break;
      case 9:
        if (w === 2) {
          raw = r.bytes();
          continue;
        }
        break;
      case 10:
        if (w === 2 || w === 1) {
          r.repeated(w, doubles, () => r.double());
          continue;
        }
        break;
      case 11:
        if (w === 2 || w === 0) {
          r.repeated64(w, uint64s, true);
          continue;
        }
        break;
      case 13:
        if (w === 2) {
          external = true;
          r.skip(w);
          continue;
        }
        break;
      case 14:
        if (w === 0) {
          if (r.int64() === 1) external = true;
          continue;
        }
        break;
    }
    r.skip(w);
  }
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
