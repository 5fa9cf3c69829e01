/**
 * `TensorInfo`: shape, dtype, quantization and padding of a model input or
 * output, with the host-side conversions (quantize, pad, and back) done by the
 * WASM kernels.
 *
 * @module
 */
import * as kernels from "../kernels/mod.ts";
import type { WasmBuffer } from "../kernels/mod.ts";

export type { WasmBuffer };
import { invalidArgument } from "./errors.ts";

/** Element types of tensors. */
export type DType = "int8" | "uint8" | "float32";

/** Padding of one axis: `[begin, end]` elements (numpy.pad style). */
export type AxisPadding = [number, number];

/** Quantized tensor data: a typed array or a buffer in the kernels' memory. */
export type QuantizedData = Int8Array | Uint8Array | WasmBuffer;

/** Float tensor data: a Float32Array or a buffer in the kernels' memory. */
export type FloatData = Float32Array | WasmBuffer;

/**
 * Options of the {@link TensorInfo} constructor (Python's keyword arguments).
 *
 * @example
 * ```ts
 * const o: TensorInfoOptions = { dtype: "int8", scale: 0.02, zeroPoint: 3 };
 * ```
 */
export interface TensorInfoOptions {
  /** Element type (default "int8"). */
  dtype?: DType;
  /** Tensor name (default ""). */
  name?: string;
  /** `[begin, end]` per axis (default none). Fewer entries than axes pad the leading axes by 0. */
  padding?: readonly (readonly [number, number])[];
  /** Quantization scale (default 1). */
  scale?: number;
  /** Quantization zero point (default 0). */
  zeroPoint?: number;
}

const bytesPer: Record<DType, number> = { int8: 1, uint8: 1, float32: 4 };

function isWasmBuffer(v: unknown): v is WasmBuffer {
  return typeof v === "object" && v !== null && typeof (v as WasmBuffer).u8 === "function" &&
    typeof (v as WasmBuffer).byteOffset === "number";
}

function byteLengthOf(v: QuantizedData | FloatData | AnyTypedArray): number {
  return v.byteLength;
}

/** Any typed array: what `pad()`/`depad()` take besides quantized data (numpy pads any dtype). */
export type AnyTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

type TypedCtor = { new (n: number): AnyTypedArray };

/**
 * Copies between an unpadded tensor and its padded layout, any element type, in
 * contiguous runs of the innermost axis: `toPadded` writes `small` into `big`
 * (whose padding the caller filled), else reads `big`'s inner region into `small`.
 */
function copyPadded(
  big: AnyTypedArray,
  small: AnyTypedArray,
  shape: readonly number[],
  padding: readonly (readonly [number, number])[],
  toPadded: boolean,
): void {
  const rank = shape.length;
  const inner = shape.map((d, i) => d - padding[i][0] - padding[i][1]);
  if (inner.some((d) => d <= 0)) return;
  const bigStride = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) bigStride[i] = bigStride[i + 1] * shape[i + 1];
  const row = inner[rank - 1];
  const rows = inner.slice(0, rank - 1).reduce((a, b) => a * b, 1);
  const idx = new Array<number>(Math.max(0, rank - 1)).fill(0);
  for (let r = 0; r < rows; r++) {
    let off = padding[rank - 1][0];
    for (let i = 0; i < rank - 1; i++) off += (idx[i] + padding[i][0]) * bigStride[i];
    const s0 = r * row;
    if (toPadded) (big as Float64Array).set((small as Float64Array).subarray(s0, s0 + row), off);
    else (small as Float64Array).set((big as Float64Array).subarray(off, off + row), s0);
    for (let i = rank - 2; i >= 0; i--) {
      if (++idx[i] < inner[i]) break;
      idx[i] = 0;
    }
  }
}

/** Byte data goes through the SIMD kernels; other element types through {@link copyPadded}. */
function isByteData(v: unknown): v is QuantizedData {
  return isWasmBuffer(v) || v instanceof Int8Array || v instanceof Uint8Array;
}

/**
 * Information about a model input or output (Python's `TensorInfo`).
 * `shape` is the shape of the device buffer (padded); `unpaddedShape` the
 * shape of the data without the padding.
 *
 * @example
 * ```ts
 * const input = new TensorInfo([1, 230, 240, 3], { padding: [[0, 0], [3, 3], [3, 13], [0, 1]] });
 * // Python's numpy recipe, on the WASM kernels:
 * const src = new Float32Array(input.unpaddedShape.reduce((a, b) => a * b));
 * const padded = input.quantizePad(src); // Int8Array of input.size bytes
 * ```
 */
export class TensorInfo {
  /** The shape of the (padded) tensor. */
  readonly shape: readonly number[];
  /** The element type. */
  readonly dtype: DType;
  /** The tensor name. */
  readonly name: string;
  /** `[begin, end]` per axis, one entry per axis of `shape`. */
  readonly padding: readonly AxisPadding[];
  /** Quantization scale. */
  readonly scale: number;
  /** Quantization zero point. */
  readonly zeroPoint: number;

  /**
   * Python: `TensorInfo(shape, dtype=np.int8, name='', padding=None, scale=1.0, zero_point=0)`.
   *
   * @example
   * ```ts
   * const out = new TensorInfo([1, 1, 1, 1024], { padding: [[0, 0], [0, 0], [0, 0], [0, 24]], scale: 0.1, zeroPoint: -3 });
   * ```
   */
  constructor(shape: readonly number[], options: TensorInfoOptions = {}) {
    const where = "new TensorInfo()";
    if (!Array.isArray(shape) || shape.length < 1 || shape.length > 8) {
      throw invalidArgument(where, `shape must have 1..8 dimensions, got ${JSON.stringify(shape)}`);
    }
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) {
        throw invalidArgument(where, `shape ${JSON.stringify(shape)}: dimensions must be integers >= 0`);
      }
    }
    const dtype = options.dtype ?? "int8";
    if (!(dtype in bytesPer)) throw invalidArgument(where, `dtype must be int8, uint8 or float32, got ${dtype}`);
    const given = options.padding ?? [];
    if (given.length > shape.length) {
      throw invalidArgument(where, `padding has ${given.length} entries for a shape of ${shape.length} dimensions`);
    }
    const padding: AxisPadding[] = shape.map(() => [0, 0] as AxisPadding);
    const lead = shape.length - given.length;
    given.forEach(([b, e], i) => {
      if (!Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < 0) {
        throw invalidArgument(where, `padding ${JSON.stringify(given)}: entries must be integers >= 0`);
      }
      if (b + e > shape[lead + i]) {
        throw invalidArgument(where, `padding [${b}, ${e}] of axis ${lead + i} exceeds its size ${shape[lead + i]}`);
      }
      padding[lead + i] = [b, e];
    });
    const scale = options.scale ?? 1;
    const zeroPoint = options.zeroPoint ?? 0;
    if (!Number.isFinite(scale)) throw invalidArgument(where, `scale must be finite, got ${scale}`);
    if (!Number.isInteger(zeroPoint)) throw invalidArgument(where, `zeroPoint must be an integer, got ${zeroPoint}`);
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.name = options.name ?? "";
    this.padding = Object.freeze(padding.map((p) => Object.freeze(p) as AxisPadding));
    this.scale = scale;
    this.zeroPoint = zeroPoint;
  }

  /** The size of the (padded) tensor in bytes. */
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1) * bytesPer[this.dtype];
  }

  /** The number of elements of the (padded) tensor. */
  get length(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  /** The shape without the padding. */
  get unpaddedShape(): number[] {
    return this.shape.map((d, i) => d - this.padding[i][0] - this.padding[i][1]);
  }

  /** The number of elements without the padding. */
  get unpaddedLength(): number {
    return this.unpaddedShape.reduce((a, b) => a * b, 1);
  }

  /** Whether any axis is padded. */
  get padded(): boolean {
    return this.padding.some(([b, e]) => b !== 0 || e !== 0);
  }

  /** Shape and padding as the kernels take them (rank <= 4, leading 1s dropped). */
  #kernelShape(where: string): { shape: number[]; padding: [number, number][] } {
    let shape = [...this.shape];
    let padding = this.padding.map((p) => [p[0], p[1]] as [number, number]);
    while (shape.length > 4 && shape[0] === 1 && padding[0][0] === 0 && padding[0][1] === 0) {
      shape = shape.slice(1);
      padding = padding.slice(1);
    }
    if (shape.length > 4) {
      throw invalidArgument(
        where,
        `the kernels handle up to 4 dimensions, this tensor has shape ${JSON.stringify(this.shape)}`,
      );
    }
    return { shape, padding };
  }

  /** The kernels' dtype of quantized data (uint8 or int8). */
  get #qtype(): "int8" | "uint8" {
    return this.dtype === "uint8" ? "uint8" : "int8";
  }

  /**
   * pad/depad of any element type (numpy's slicing and np.pad): counted in elements;
   * `dst` of the same element type as `src`. Padding is the zero point for integer
   * arrays and 0 (the value it stands for) for float arrays.
   */
  #padAny(where: string, src: unknown, dst: unknown, toPadded: boolean): AnyTypedArray {
    if (!ArrayBuffer.isView(src) || src instanceof DataView) {
      throw invalidArgument(where, "src must be a typed array or a WasmBuffer");
    }
    const a = src as AnyTypedArray;
    const ctor = a.constructor as TypedCtor;
    const [from, to] = toPadded ? [this.unpaddedLength, this.length] : [this.length, this.unpaddedLength];
    if (a.length !== from) {
      throw invalidArgument(where, `src of tensor '${this.name}' must hold ${from} elements, got ${a.length}`);
    }
    const out = (dst ?? new ctor(to)) as AnyTypedArray;
    if (!ArrayBuffer.isView(out) || out.constructor !== a.constructor) {
      throw invalidArgument(where, `dst must be a ${a.constructor.name} like src`);
    }
    if (out.length !== to) {
      throw invalidArgument(where, `dst of tensor '${this.name}' must hold ${to} elements, got ${out.length}`);
    }
    const float = a instanceof Float32Array || a instanceof Float64Array;
    if (toPadded) {
      if (a instanceof BigInt64Array || a instanceof BigUint64Array) {
        (out as BigInt64Array).fill(BigInt(this.zeroPoint));
      } else (out as Float64Array).fill(float ? 0 : this.zeroPoint);
      copyPadded(out, a, this.shape, this.padding, true);
    } else {
      copyPadded(a, out, this.shape, this.padding, false);
    }
    return out;
  }

  #quantArray(length: number): Int8Array | Uint8Array {
    return this.dtype === "uint8" ? new Uint8Array(length) : new Int8Array(length);
  }

  #check(where: string, what: string, v: QuantizedData | FloatData, elements: number, bytesPerElement: number): void {
    if (!isWasmBuffer(v) && !ArrayBuffer.isView(v)) {
      throw invalidArgument(where, `${what} must be a typed array or a WasmBuffer`);
    }
    const want = elements * bytesPerElement;
    if (byteLengthOf(v) !== want) {
      throw invalidArgument(
        where,
        `${what} of tensor '${this.name}' must hold ${elements} elements (${want} bytes), got ${byteLengthOf(v)} bytes`,
      );
    }
  }

  /**
   * Quantizes floats: `q = clamp(round(x / scale) + zeroPoint)`, element by
   * element (no padding). Returns `dst` (allocated when omitted).
   *
   * @example
   * ```ts
   * const info = new TensorInfo([1, 4, 4, 3], { padding: [[0, 0], [0, 0], [0, 0], [0, 1]], scale: 0.1, zeroPoint: -3 });
   * const q = info.quantize(new Float32Array(info.unpaddedLength));
   * ```
   */
  quantize<T extends QuantizedData = Int8Array>(src: FloatData, dst?: T): T {
    const n = src.byteLength / 4;
    const out = (dst ?? this.#quantArray(n)) as T;
    this.#check("TensorInfo.quantize()", "dst", out, n, 1);
    kernels.quantize(src, out, this.scale, this.zeroPoint, this.#qtype);
    return out;
  }

  /**
   * Dequantizes: `x = (q - zeroPoint) * scale`, element by element. Returns `dst`.
   *
   * @example
   * ```ts
   * const info = new TensorInfo([1, 4, 4, 3], { padding: [[0, 0], [0, 0], [0, 0], [0, 1]], scale: 0.1, zeroPoint: -3 });
   * const output = new Int8Array(info.size);
   * const x = info.dequantize(output);
   * ```
   */
  dequantize<T extends FloatData = Float32Array>(src: QuantizedData, dst?: T): T {
    const n = src.byteLength;
    const out = (dst ?? new Float32Array(n)) as T;
    this.#check("TensorInfo.dequantize()", "dst", out, n, 4);
    kernels.dequantize(src, out, this.scale, this.zeroPoint, this.#qtype);
    return out;
  }

  /**
   * Pads quantized data of `unpaddedShape` to `shape`, filling with the zero point.
   *
   * @example
   * ```ts
   * const info = new TensorInfo([1, 4, 4, 3], { padding: [[0, 0], [0, 0], [0, 0], [0, 1]], scale: 0.1, zeroPoint: -3 });
   * const quantized = new Int8Array(info.unpaddedLength);
   * const padded = info.pad(quantized); // info.size bytes
   * ```
   */
  pad<T extends QuantizedData | AnyTypedArray = Int8Array>(given: QuantizedData | AnyTypedArray, dst?: T): T {
    const where = "TensorInfo.pad()";
    if (!isByteData(given) || (dst !== undefined && !isByteData(dst))) {
      return this.#padAny(where, given, dst, true) as T;
    }
    const src = given as QuantizedData;
    this.#check(where, "src", src, this.unpaddedLength, 1);
    const out = (dst ?? this.#quantArray(this.length)) as QuantizedData;
    this.#check(where, "dst", out, this.length, 1);
    const k = this.#kernelShape(where);
    const inner = k.shape.map((d, i) => d - k.padding[i][0] - k.padding[i][1]);
    kernels.pad(src, inner, k.padding, this.zeroPoint, out);
    return out as T;
  }

  /**
   * Removes the padding: data of `shape` to `unpaddedShape`.
   *
   * @example
   * ```ts
   * const info = new TensorInfo([1, 4, 4, 3], { padding: [[0, 0], [0, 0], [0, 0], [0, 1]], scale: 0.1, zeroPoint: -3 });
   * const output = new Int8Array(info.size);
   * const logits = info.depad(output);
   * ```
   */
  depad<T extends QuantizedData | AnyTypedArray = Int8Array>(given: QuantizedData | AnyTypedArray, dst?: T): T {
    const where = "TensorInfo.depad()";
    if (!isByteData(given) || (dst !== undefined && !isByteData(dst))) {
      return this.#padAny(where, given, dst, false) as T;
    }
    const src = given as QuantizedData;
    this.#check(where, "src", src, this.length, 1);
    const out = (dst ?? this.#quantArray(this.unpaddedLength)) as QuantizedData;
    this.#check(where, "dst", out, this.unpaddedLength, 1);
    const k = this.#kernelShape(where);
    kernels.depad(src, k.shape, k.padding, out);
    return out as T;
  }

  /**
   * Quantize and pad in one pass: floats of `unpaddedShape` to the device buffer.
   *
   * @example
   * ```ts
   * const info = new TensorInfo([1, 4, 4, 3], { padding: [[0, 0], [0, 0], [0, 0], [0, 1]], scale: 0.1, zeroPoint: -3 });
   * const image = new Float32Array(info.unpaddedLength);
   * const input = info.quantizePad(image, info.allocate());
   * ```
   */
  quantizePad<T extends QuantizedData = Int8Array>(src: FloatData, dst?: T): T {
    const where = "TensorInfo.quantizePad()";
    this.#check(where, "src", src, this.unpaddedLength, 4);
    const out = (dst ?? this.#quantArray(this.length)) as T;
    this.#check(where, "dst", out, this.length, 1);
    const k = this.#kernelShape(where);
    const inner = k.shape.map((d, i) => d - k.padding[i][0] - k.padding[i][1]);
    kernels.quantizePad(src, inner, k.padding, this.scale, this.zeroPoint, out, this.#qtype);
    return out;
  }

  /**
   * Depad and dequantize in one pass: the device buffer to floats of `unpaddedShape`.
   *
   * @example
   * ```ts
   * const info = new TensorInfo([1, 4, 4, 3], { padding: [[0, 0], [0, 0], [0, 0], [0, 1]], scale: 0.1, zeroPoint: -3 });
   * const output = new Int8Array(info.size);
   * const probs = info.depadDequantize(output);
   * ```
   */
  depadDequantize<T extends FloatData = Float32Array>(src: QuantizedData, dst?: T): T {
    const where = "TensorInfo.depadDequantize()";
    this.#check(where, "src", src, this.length, 1);
    const out = (dst ?? new Float32Array(this.unpaddedLength)) as T;
    this.#check(where, "dst", out, this.unpaddedLength, 4);
    const k = this.#kernelShape(where);
    kernels.depadDequantize(src, k.shape, k.padding, this.scale, this.zeroPoint, out, this.#qtype);
    return out;
  }

  /**
   * A buffer of `size` bytes in the kernels' WASM memory: quantizePad writes it,
   * `run()` passes its address, depadDequantize reads it, nothing is copied.
   * Free it with `.free()` when done.
   *
   * @example
   * ```ts
   * const info = new TensorInfo([1, 4, 4, 3], { padding: [[0, 0], [0, 0], [0, 0], [0, 1]], scale: 0.1, zeroPoint: -3 });
   * const image = new Float32Array(info.unpaddedLength);
   * const buf = info.allocate();
   * info.quantizePad(image, buf);
   * ```
   */
  allocate(): WasmBuffer {
    return kernels.allocate(this.size);
  }

  /** A readable form: `TensorInfo(name, [1,8,8,4] int8, padding, scale, zp)`. */
  toString(): string {
    return `TensorInfo(${this.name ? this.name + ", " : ""}${JSON.stringify(this.shape)} ${this.dtype}, padding ${
      JSON.stringify(this.padding)
    }, scale ${this.scale}, zeroPoint ${this.zeroPoint})`;
  }
}
