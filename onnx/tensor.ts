/**
 * Tensors of the graph runner: a typed array, a shape and a dtype name.
 *
 * @example
 * ```ts
 * import { tensor } from "./tensor.ts";
 * const t = tensor("float32", [2, 2], [1, 2, 3, 4]);
 * ```
 * @module
 */
import { OnnxUnsupportedError } from "./errors.ts";

/** Element types the runner computes with. @example `const d: DType = "float32"` */
export type DType =
  | "float32"
  | "float64"
  | "int8"
  | "uint8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "uint64"
  | "bool"
  | "float16"
  | "string";

/** Typed arrays that hold tensor data. @example `const a: TensorData = new Float32Array(4)` */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

/** A tensor: row-major `data`, `shape`, `dtype`. bool is a Uint8Array of 0/1; float16 is raw Uint16Array bits. @example `const t: Tensor = { data: new Float32Array(1), shape: [1], dtype: "float32" }` */
export interface Tensor {
  /** The elements, row-major. */
  data: TensorData;
  /** The dimensions. */
  shape: number[];
  /** The element type. */
  dtype: DType;
}

/** ONNX TensorProto.DataType codes. @example `DataType.FLOAT === 1` */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;

const CODE_TO_DTYPE: Record<number, DType> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
};
const DTYPE_TO_CODE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
};

/** The dtype of an ONNX data type code, or undefined when the runner has none. @example `dtypeOf(1) === "float32"` */
export function dtypeOf(code: number): DType | undefined {
  return CODE_TO_DTYPE[code];
}

/** ONNX data type code of a dtype. @example `dataTypeCode("int64") === 7` */
export function dataTypeCode(d: DType): number {
  return DTYPE_TO_CODE[d];
}

/** Bytes per element (strings: 0). @example `bytesPerElement("int64") === 8` */
export function bytesPerElement(d: DType): number {
  switch (d) {
    case "float64":
    case "int64":
    case "uint64":
      return 8;
    case "float32":
    case "int32":
    case "uint32":
      return 4;
    case "int16":
    case "uint16":
    case "float16":
      return 2;
    case "string":
      return 0;
    default:
      return 1;
  }
}

/** A zeroed typed array for `dtype` of `n` elements. @example `allocData("float32", 4)` */
export function allocData(d: DType, n: number): TensorData {
  switch (d) {
    case "float32":
      return new Float32Array(n);
    case "float64":
      return new Float64Array(n);
    case "int8":
      return new Int8Array(n);
    case "uint8":
    case "bool":
      return new Uint8Array(n);
    case "int16":
      return new Int16Array(n);
    case "uint16":
    case "float16":
      return new Uint16Array(n);
    case "int32":
      return new Int32Array(n);
    case "uint32":
      return new Uint32Array(n);
    case "int64":
      return new BigInt64Array(n);
    case "uint64":
      return new BigUint64Array(n);
    case "string":
      return new Array<string>(n).fill("");
  }
}

function copyBytes(bytes: Uint8Array): Uint8Array {
  const c = new Uint8Array(bytes.length);
  c.set(bytes);
  return c;
}

/**
 * Typed array of `dtype` over little-endian bytes: a zero-copy view when `bytes` is
 * aligned for the element size, else a copy. The view shares memory with `bytes`.
 * @example `dataFromBytes("float32", bytes)`
 */
export function dataFromBytes(d: DType, bytes: Uint8Array): TensorData {
  const bpe = bytesPerElement(d);
  if (d === "string" || bpe === 0) throw new OnnxUnsupportedError("string tensors have no raw data");
  const n = Math.floor(bytes.length / bpe);
  // A copy into a fresh ArrayBuffer (offset 0) when misaligned: not bytes.slice(), which
  // is a view for a Node Buffer (readFileSync) and keeps the misalignment.
  const aligned = bytes.byteOffset % bpe === 0 ? bytes : copyBytes(bytes);
  const buf = aligned.buffer, off = aligned.byteOffset;
  switch (d) {
    case "float32":
      return new Float32Array(buf, off, n);
    case "float64":
      return new Float64Array(buf, off, n);
    case "int8":
      return new Int8Array(buf, off, n);
    case "uint8":
    case "bool":
      return new Uint8Array(buf, off, n);
    case "int16":
      return new Int16Array(buf, off, n);
    case "uint16":
    case "float16":
      return new Uint16Array(buf, off, n);
    case "int32":
      return new Int32Array(buf, off, n);
    case "uint32":
      return new Uint32Array(buf, off, n);
    case "int64":
      return new BigInt64Array(buf, off, n);
    case "uint64":
      return new BigUint64Array(buf, off, n);
  }
}

/** Little-endian bytes of a typed array. @example `bytesOf(new Float32Array([1]))` */
export function bytesOf(data: TensorData): Uint8Array {
  if (Array.isArray(data)) throw new OnnxUnsupportedError("string tensors have no raw data");
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Number of elements of a shape. @example `sizeOf([2, 3]) === 6` */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Builds a tensor from numbers/bigints (or takes a typed array as is). @example `tensor("int64", [2], [1, 2])` */
export function tensor(
  dtype: DType,
  shape: number[],
  values?: ArrayLike<number | bigint | string> | TensorData,
): Tensor {
  const n = sizeOf(shape);
  if (values !== undefined && values.length !== n) {
    throw new RangeError(`tensor: ${values.length} values for shape [${shape}] (${n} elements)`);
  }
  const data = allocData(dtype, n);
  if (values) {
    if (ArrayBuffer.isView(values) && values.constructor === data.constructor) {
      return { data: values as TensorData, shape, dtype };
    }
    const big = dtype === "int64" || dtype === "uint64";
    for (let i = 0; i < n; i++) {
      const v = values[i];
      (data as unknown as unknown[])[i] = big
        ? BigInt(typeof v === "number" ? Math.trunc(v) : v as bigint)
        : dtype === "string"
        ? String(v)
        : Number(v);
    }
  }
  return { data, shape, dtype };
}

/** Tensor values as plain numbers (bigints converted). @example `toNumbers(t)` */
export function toNumbers(t: Tensor): number[] {
  const out = new Array<number>(t.data.length);
  for (let i = 0; i < t.data.length; i++) out[i] = Number(t.data[i]);
  return out;
}

/** float16 bits to a number. @example `halfToFloat(0x3c00) === 1` */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
