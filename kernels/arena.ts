/**
 * The arena over the kernels module's linear memory: {@link WasmBuffer} blocks that a tensor
 * can live in (the kernels write them in place, the runtime hands their address to the
 * native library), reusable scratch for callers whose arrays live elsewhere, and typed views
 * of the whole memory that are re-created after the memory grows.
 *
 * @module
 */
import { kernelExports } from "./wasm.ts";

/** Views of the whole linear memory, valid until the memory grows. */
interface MemoryViews {
  buffer: ArrayBuffer;
  u8: Uint8Array;
  i8: Int8Array;
  f32: Float32Array;
  u32: Uint32Array;
}

let views: MemoryViews | undefined;

/**
 * Typed views over the whole linear memory, re-created when the memory has grown.
 *
 * @example
 * ```ts
 * import { memoryViews } from "./arena.ts";
 * console.log(memoryViews().u8.length);
 * ```
 */
export function memoryViews(): MemoryViews {
  const buffer = kernelExports().memory.buffer as ArrayBuffer;
  if (!views || views.buffer !== buffer) {
    views = {
      buffer,
      u8: new Uint8Array(buffer),
      i8: new Int8Array(buffer),
      f32: new Float32Array(buffer),
      u32: new Uint32Array(buffer),
    };
  }
  return views;
}

/**
 * The kernels module's `WebAssembly.Memory` (tensors in {@link WasmBuffer}s live in it).
 *
 * @example
 * ```ts
 * import { wasmMemory } from "./mod.ts";
 * console.log(wasmMemory().buffer.byteLength);
 * ```
 */
export function wasmMemory(): WebAssembly.Memory {
  return kernelExports().memory;
}

function rawAlloc(byteLength: number): number {
  const p = kernelExports().alloc(byteLength) >>> 0;
  if (p === 0) {
    throw new RangeError(`allocate: out of WebAssembly memory for ${byteLength} bytes`);
  }
  return p;
}

/**
 * A block of the kernels module's linear memory (16-byte aligned). Pass it to the kernels
 * instead of a typed array to avoid copies; read and write it through `i8()`, `u8()`,
 * `f32()` (views re-created after the memory grows, so call them again rather than keep
 * them across calls that may allocate). Free it with `free()` (or `using`).
 *
 * @example
 * ```ts
 * import { allocate } from "./mod.ts";
 * const b = allocate(16);
 * b.f32().set([1, 2, 3, 4]);
 * console.log(b.byteOffset, b.byteLength, b.f32()[3]); // ... 16 4
 * b.free();
 * ```
 */
export class WasmBuffer {
  #offset: number;
  #length: number;
  #freed = false;
  #cache: { buffer?: ArrayBuffer; i8?: Int8Array; u8?: Uint8Array; f32?: Float32Array } = {};

  /** Use {@link allocate}. */
  constructor(byteOffset: number, byteLength: number) {
    this.#offset = byteOffset;
    this.#length = byteLength;
  }

  /** Address of the block in the linear memory (what the native library receives). */
  get byteOffset(): number {
    this.#live();
    return this.#offset;
  }

  /** Size of the block in bytes. */
  get byteLength(): number {
    return this.#length;
  }

  /** Whether `free()` was called. */
  get freed(): boolean {
    return this.#freed;
  }

  #live(): void {
    if (this.#freed) throw new Error("WasmBuffer: used after free()");
  }

  #buffer(): ArrayBuffer {
    this.#live();
    const buffer = memoryViews().buffer;
    if (this.#cache.buffer !== buffer) this.#cache = { buffer };
    return buffer;
  }

  /** The block as an Int8Array (a view, no copy). */
  i8(): Int8Array {
    const b = this.#buffer();
    return this.#cache.i8 ??= new Int8Array(b, this.#offset, this.#length);
  }

  /** The block as a Uint8Array (a view, no copy). */
  u8(): Uint8Array {
    const b = this.#buffer();
    return this.#cache.u8 ??= new Uint8Array(b, this.#offset, this.#length);
  }

  /** The block as a Float32Array (a view, no copy; `byteLength / 4` elements). */
  f32(): Float32Array {
    const b = this.#buffer();
    return this.#cache.f32 ??= new Float32Array(b, this.#offset, this.#length >>> 2);
  }

  /** Returns the block to the allocator; later use throws. Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#cache = {};
    if (this.#length > 0) kernelExports().dealloc(this.#offset, this.#length);
  }

  /** `using b = allocate(n)` frees at the end of the scope. */
  [Symbol.dispose](): void {
    this.free();
  }
}

/**
 * Allocates `byteLength` bytes (16-byte aligned) in the kernels module's memory; the memory
 * grows as needed.
 *
 * @throws {RangeError} when byteLength is not a non-negative integer or memory is exhausted.
 * @example
 * ```ts
 * import { allocate, quantize } from "./mod.ts";
 * const x = allocate(4 * 1024), q = allocate(1024);
 * x.f32().fill(0.5);
 * quantize(x, q, 0.01, -128, "int8");
 * console.log(q.i8()[0]); // -78
 * ```
 */
export function allocate(byteLength: number): WasmBuffer {
  if (!Number.isSafeInteger(byteLength) || byteLength < 0 || byteLength > 0xffff_0000) {
    throw new RangeError(`allocate: byteLength must be an integer in [0, 4294901760], got ${byteLength}`);
  }
  return new WasmBuffer(byteLength === 0 ? 0 : rawAlloc(byteLength), byteLength);
}

/** Reusable scratch blocks (one per slot), grown by doubling; never shrunk. */
const scratch: { ptr: number; size: number }[] = [];

/**
 * Address of scratch slot `slot` with at least `byteLength` bytes, reused across calls (the
 * memory may grow: take views after all scratch of a call is obtained).
 *
 * @example
 * ```ts
 * import { scratchBlock } from "./arena.ts";
 * const p = scratchBlock(0, 64);
 * ```
 */
export function scratchBlock(slot: number, byteLength: number): number {
  let s = scratch[slot];
  if (!s) s = scratch[slot] = { ptr: 0, size: 0 };
  if (s.size < byteLength) {
    const old = s.size;
    if (s.ptr) kernelExports().dealloc(s.ptr, old);
    s.ptr = 0;
    s.size = 0;
    const size = Math.max(byteLength, Math.min(2 * old, 0x8000_0000), 256);
    s.ptr = rawAlloc(size);
    s.size = size;
  }
  return s.ptr;
}
