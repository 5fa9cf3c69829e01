/**
 * How a kernel call finds its operands in linear memory: {@link WasmBuffer}s and typed
 * arrays that are views of the module's memory are used in place; other typed arrays are
 * copied into (inputs) or out of (outputs) reusable scratch blocks of the arena.
 *
 * @module
 */
import { memoryViews, scratchBlock, WasmBuffer } from "./arena.ts";
import type { Geometry } from "./shape.ts";
import { kernelExports } from "./wasm.ts";

/** A typed array the kernels accept. */
export type KernelArray = Int8Array | Uint8Array | Float32Array;
/** A kernel operand: a typed array or a block of the module's memory. */
export type Operand = KernelArray | WasmBuffer;

/** One operand of a call: its value, argument name and size in bytes. */
export interface Arg {
  name: string;
  value: Operand;
  bytes: number;
  /** An input that may be exactly the output's memory (element-wise kernels). */
  inPlace?: boolean;
}

const GEOM_SLOT = 2;

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  return (v as object).constructor?.name ?? "object";
}

/**
 * Checks that `value` is one of the accepted operand types.
 *
 * @example
 * ```ts
 * import { checkOperand } from "./call.ts";
 * checkOperand("quantize", "src", new Float32Array(4), [Float32Array]);
 * ```
 */
export function checkOperand(
  fn: string,
  arg: string,
  value: unknown,
  types: readonly (typeof Int8Array | typeof Uint8Array | typeof Float32Array)[],
): asserts value is Operand {
  if (value instanceof WasmBuffer) {
    if (value.freed) throw new TypeError(`${fn}: ${arg} is a WasmBuffer that was freed`);
    return;
  }
  for (const t of types) if (value instanceof t) return;
  const names = [...types.map((t) => t.name), "WasmBuffer"].join(" or ");
  throw new TypeError(`${fn}: ${arg} must be ${names}, got ${typeName(value)}`);
}

/**
 * Whether `v` is an integer in [0, 2^32 - 1], what a kernel's u32 parameter holds.
 *
 * @example
 * ```ts
 * import { isU32 } from "./call.ts";
 * console.log(isU32(7), isU32(-1), isU32(2 ** 32), isU32(0.5)); // true false false false
 * ```
 */
export function isU32(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff;
}

/**
 * Checks that every value of `values` is an integer in [0, 2^32 - 1] (what a kernel's u32
 * parameter holds), naming the first that is not.
 *
 * @throws {RangeError} `${fn}: ${name} must be a u32 integer, got ${v}`.
 * @example
 * ```ts
 * import { checkU32s } from "./call.ts";
 * checkU32s("gemm", { m: 4, n: 8, k: 16 });
 * ```
 */
export function checkU32s(fn: string, values: Record<string, number>): void {
  for (const [name, v] of Object.entries(values)) {
    if (!isU32(v)) {
      throw new RangeError(`${fn}: ${name} must be a u32 integer, got ${v}`);
    }
  }
}

/**
 * Checks an operand's size: a typed array must have `count` elements, a WasmBuffer
 * `count * elementSize` bytes.
 *
 * @example
 * ```ts
 * import { checkCount } from "./call.ts";
 * checkCount("quantize", "dst", new Int8Array(4), 4, 1);
 * ```
 */
export function checkCount(fn: string, arg: string, value: Operand, count: number, elementSize: number): void {
  if (value instanceof WasmBuffer) {
    if (value.byteLength !== count * elementSize) {
      throw new RangeError(
        `${fn}: ${arg} must be ${count * elementSize} bytes (${count} elements of ${elementSize} bytes), ` +
          `got a WasmBuffer of ${value.byteLength} bytes`,
      );
    }
  } else if (value.length !== count) {
    throw new RangeError(`${fn}: ${arg} must have ${count} elements, got ${value.length}`);
  }
}

interface Placed {
  arg: Arg;
  ptr: number;
  copy: KernelArray | undefined;
}

function copyIn(a: KernelArray, ptr: number): void {
  const v = memoryViews();
  if (a instanceof Float32Array) v.f32.set(a, ptr >>> 2);
  else if (a instanceof Int8Array) v.i8.set(a, ptr);
  else v.u8.set(a, ptr);
}

function copyOut(a: KernelArray, ptr: number): void {
  const v = memoryViews();
  if (a instanceof Float32Array) a.set(v.f32.subarray(ptr >>> 2, (ptr >>> 2) + a.length));
  else if (a instanceof Int8Array) a.set(v.i8.subarray(ptr, ptr + a.length));
  else a.set(v.u8.subarray(ptr, ptr + a.length));
}

/**
 * Runs a kernel: places the inputs and outputs in linear memory (in place when they are
 * already there, else in scratch slots), writes the geometry (a {@link Geometry} as 12 u32,
 * or a list of u32 parameters) to its scratch slot,
 * calls `kernel(inputPtrs, outputPtrs, geomPtr)`, then copies outputs out when needed.
 *
 * @throws {RangeError} when an input and an output overlap in linear memory.
 * @example
 * ```ts
 * import { callKernel } from "./call.ts";
 * import { kernelExports } from "./wasm.ts";
 * const src = new Float32Array([1, 2]), dst = new Int8Array(2);
 * callKernel("quantize", [{ name: "src", value: src, bytes: 8 }], [{ name: "dst", value: dst, bytes: 2 }],
 *   undefined, ([s], [d]) => kernelExports().quantize(s, d, 2, 1, 0, false));
 * ```
 */
export function callKernel(
  fn: string,
  inputs: readonly Arg[],
  outputs: readonly Arg[],
  geom: Geometry | readonly number[] | undefined,
  kernel: (inPtrs: number[], outPtrs: number[], geomPtr: number) => void,
): void {
  const buffer = kernelExports().memory.buffer;
  // Addresses of operands already in linear memory, taken before any scratch allocation
  // (which may grow the memory and detach views).
  const place = (arg: Arg): Placed => {
    const v = arg.value;
    if (v instanceof WasmBuffer) return { arg, ptr: v.byteOffset, copy: undefined };
    if (v.buffer === buffer) return { arg, ptr: v.byteOffset, copy: undefined };
    return { arg, ptr: -1, copy: v };
  };
  const ins = inputs.map(place);
  const outs = outputs.map(place);
  for (const o of outs) {
    if (o.copy || o.arg.bytes === 0) continue;
    for (const i of ins) {
      if (i.copy || i.arg.bytes === 0) continue;
      if (i.arg.inPlace && i.ptr === o.ptr && i.arg.bytes === o.arg.bytes) continue;
      if (i.ptr < o.ptr + o.arg.bytes && o.ptr < i.ptr + i.arg.bytes) {
        throw new RangeError(`${fn}: ${i.arg.name} and ${o.arg.name} overlap in WebAssembly memory`);
      }
    }
  }
  let slot = 0;
  for (const p of [...ins, ...outs]) {
    if (!p.copy) continue;
    if (slot === GEOM_SLOT) slot++;
    p.ptr = scratchBlock(slot++, p.arg.bytes);
  }
  let geomPtr = 0;
  if (geom) {
    const words = "shape" in geom ? [...geom.shape, ...geom.pad] : geom;
    geomPtr = scratchBlock(GEOM_SLOT, 4 * words.length);
    const u32 = memoryViews().u32;
    const g = geomPtr >>> 2;
    for (let i = 0; i < words.length; i++) u32[g + i] = words[i];
  }
  for (const i of ins) if (i.copy) copyIn(i.copy, i.ptr);
  kernel(ins.map((i) => i.ptr), outs.map((o) => o.ptr), geomPtr);
  for (const o of outs) if (o.copy) copyOut(o.copy, o.ptr);
}
