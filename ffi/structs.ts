/**
 * Marshalling of the structs of include/axruntime.h (LP64 layouts, offsets as
 * commented in the header), all in one place: `axrDeviceInfo` (1568 bytes),
 * `axrTensorInfo` (488 bytes) and `axrArgument` (32 bytes).
 *
 * @module
 */

/** `AXR_MAX_DIMS`. */
export const MAX_DIMS = 8;
/** `AXR_NAME_SIZE`. */
export const NAME_SIZE = 256;
/** `sizeof(axrDeviceInfo)`. */
export const DEVICE_INFO_SIZE = 1568;
/** `sizeof(axrTensorInfo)`. */
export const TENSOR_INFO_BYTES = 488;
/** `sizeof(axrArgument)`. */
export const ARGUMENT_SIZE = 32;

/** The fields of `axrDeviceInfo`, snake_case as in C. */
export interface RawDeviceInfo {
  name: string;
  subdevice_count: number;
  max_memory: number;
  in_use: number;
  in_use_by: string;
  board_type: number;
  firmware_version: string;
  board_revision: number;
  flashed_firmware_version: string;
  board_controller_firmware_version: string;
  board_controller_board_type: string;
}

/** The fields of `axrTensorInfo`, snake_case as in C (dims and padding cut to ndims). */
export interface RawTensorInfo {
  dims: number[];
  bits: number;
  type: number;
  name: string;
  padding: [number, number][];
  scale: number;
  zero_point: number;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The NUL-terminated string in `b[offset .. offset+size]`.
 *
 * @example
 * ```ts
 * readFixedString(new Uint8Array([104, 105, 0]), 0, 3); // "hi"
 * ```
 */
export function readFixedString(b: Uint8Array, offset: number, size: number): string {
  const field = b.subarray(offset, offset + size);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

function writeFixedString(b: Uint8Array, offset: number, size: number, s: string): void {
  const bytes = encoder.encode(s).subarray(0, size - 1);
  b.fill(0, offset, offset + size);
  b.set(bytes, offset);
}

function size(dv: DataView, offset: number): number {
  return Number(dv.getBigUint64(offset, true));
}

/**
 * Decodes one `axrDeviceInfo`.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(DEVICE_INFO_SIZE); // an axrDeviceInfo from axr_list_devices
 * const info = decodeDeviceInfo(bytes);
 * info.name; // "metis-0:1:0"
 * ```
 */
export function decodeDeviceInfo(b: Uint8Array): RawDeviceInfo {
  const dv = view(b);
  return {
    name: readFixedString(b, 0, NAME_SIZE),
    subdevice_count: size(dv, 256),
    max_memory: size(dv, 264),
    in_use: dv.getInt32(272, true),
    in_use_by: readFixedString(b, 276, NAME_SIZE),
    board_type: dv.getInt32(532, true),
    firmware_version: readFixedString(b, 536, NAME_SIZE),
    board_revision: dv.getInt32(792, true),
    flashed_firmware_version: readFixedString(b, 796, NAME_SIZE),
    board_controller_firmware_version: readFixedString(b, 1052, NAME_SIZE),
    board_controller_board_type: readFixedString(b, 1308, NAME_SIZE),
  };
}

/**
 * Encodes one `axrDeviceInfo` (the inverse of {@link decodeDeviceInfo}).
 *
 * @example
 * ```ts
 * const info = decodeDeviceInfo(new Uint8Array(DEVICE_INFO_SIZE));
 * const bytes = encodeDeviceInfo({ ...info, name: "metis-1:2:0" });
 * ```
 */
export function encodeDeviceInfo(d: RawDeviceInfo): Uint8Array {
  const b = new Uint8Array(DEVICE_INFO_SIZE);
  const dv = view(b);
  writeFixedString(b, 0, NAME_SIZE, d.name);
  dv.setBigUint64(256, BigInt(d.subdevice_count), true);
  dv.setBigUint64(264, BigInt(d.max_memory), true);
  dv.setInt32(272, d.in_use, true);
  writeFixedString(b, 276, NAME_SIZE, d.in_use_by);
  dv.setInt32(532, d.board_type, true);
  writeFixedString(b, 536, NAME_SIZE, d.firmware_version);
  dv.setInt32(792, d.board_revision, true);
  writeFixedString(b, 796, NAME_SIZE, d.flashed_firmware_version);
  writeFixedString(b, 1052, NAME_SIZE, d.board_controller_firmware_version);
  writeFixedString(b, 1308, NAME_SIZE, d.board_controller_board_type);
  return b;
}

/**
 * Decodes one `axrTensorInfo`.
 *
 * @example
 * ```ts
 * const bytes = new Uint8Array(TENSOR_INFO_BYTES); // an axrTensorInfo from axr_get_model_input
 * const t = decodeTensorInfo(bytes);
 * t.dims; // [1, 8, 8, 4]
 * ```
 */
export function decodeTensorInfo(b: Uint8Array): RawTensorInfo {
  const dv = view(b);
  const ndims = Math.min(size(dv, 64), MAX_DIMS);
  const dims: number[] = [];
  const padding: [number, number][] = [];
  for (let i = 0; i < ndims; i++) {
    dims.push(size(dv, 8 * i));
    padding.push([size(dv, 344 + 16 * i), size(dv, 344 + 16 * i + 8)]);
  }
  return {
    dims,
    bits: size(dv, 72),
    type: dv.getInt32(80, true),
    name: readFixedString(b, 84, NAME_SIZE),
    padding,
    scale: dv.getFloat64(472, true),
    zero_point: dv.getInt32(480, true),
  };
}

/**
 * Encodes one `axrTensorInfo` (for `axr_tensor_size` and tests).
 *
 * @example
 * ```ts
 * const bytes = encodeTensorInfo({ dims: [1, 4], bits: 8, type: 1, name: "x", padding: [[0, 0], [0, 0]], scale: 1, zero_point: 0 });
 * ```
 */
export function encodeTensorInfo(t: RawTensorInfo): Uint8Array {
  const b = new Uint8Array(TENSOR_INFO_BYTES);
  const dv = view(b);
  const n = Math.min(t.dims.length, MAX_DIMS);
  for (let i = 0; i < n; i++) {
    dv.setBigUint64(8 * i, BigInt(t.dims[i]), true);
    const [lo, hi] = t.padding[i] ?? [0, 0];
    dv.setBigUint64(344 + 16 * i, BigInt(lo), true);
    dv.setBigUint64(344 + 16 * i + 8, BigInt(hi), true);
  }
  dv.setBigUint64(64, BigInt(n), true);
  dv.setBigUint64(72, BigInt(t.bits), true);
  dv.setInt32(80, t.type, true);
  writeFixedString(b, 84, NAME_SIZE, t.name);
  dv.setFloat64(472, t.scale, true);
  dv.setInt32(480, t.zero_point, true);
  return b;
}

/**
 * A preallocated array of `axrArgument`s, filled in place before each run
 * (no allocation per call).
 *
 * @example
 * ```ts
 * const args = new ArgumentArray(2);
 * const address = 0x7f0000001000, fd = 3; // a buffer's address, a dmabuf descriptor
 * args.setPointer(0, address, 256);
 * args.setFd(1, fd, 0);
 * ```
 */
export class ArgumentArray {
  /** The bytes handed to the library. */
  readonly bytes: Uint8Array;
  /** Number of arguments. */
  readonly length: number;
  #u32: Uint32Array;
  #i32: Int32Array;
  /**
   * Allocates `length` zeroed arguments.
   *
   * @example
   * ```ts
   * const args = new ArgumentArray(1);
   * ```
   */
  constructor(length: number) {
    this.length = length;
    const buffer = new ArrayBuffer(Math.max(1, length) * ARGUMENT_SIZE);
    this.bytes = new Uint8Array(buffer, 0, length * ARGUMENT_SIZE);
    this.#u32 = new Uint32Array(buffer);
    this.#i32 = new Int32Array(buffer);
  }
  /**
   * Argument `i` is a host buffer at `address` of `size` bytes (fd -1).
   *
   * @example
   * ```ts
   * const args = new ArgumentArray(1), view = new Int8Array(256);
   * const address = 0x7f0000001000; // Backend.address(view) in ffi/
   * args.setPointer(0, address, view.byteLength);
   * ```
   */
  setPointer(i: number, address: number, size: number): void {
    const w = i * 8; // 8 u32 words per argument
    const u = this.#u32;
    u[w] = address >>> 0;
    u[w + 1] = Math.floor(address / 4294967296);
    this.#i32[w + 2] = -1;
    u[w + 3] = 0;
    u[w + 4] = 0; // offset
    u[w + 5] = 0;
    u[w + 6] = size >>> 0;
    u[w + 7] = Math.floor(size / 4294967296);
  }
  /**
   * Argument `i` is the dmabuf/memfd `fd` (ptr NULL, offset 0; size 0 = unchecked).
   *
   * @example
   * ```ts
   * const args = new ArgumentArray(1), fd = 3; // a dmabuf or memfd descriptor
   * args.setFd(0, fd, 256);
   * ```
   */
  setFd(i: number, fd: number, size: number): void {
    const w = i * 8;
    const u = this.#u32;
    u[w] = 0;
    u[w + 1] = 0;
    this.#i32[w + 2] = fd;
    u[w + 3] = 0;
    u[w + 4] = 0;
    u[w + 5] = 0;
    u[w + 6] = size >>> 0;
    u[w + 7] = Math.floor(size / 4294967296);
  }
}
