/**
 * The runtime-neutral face of a loaded native library: what `ffi/deno.ts` and
 * `ffi/bun.ts` each implement, and all the rest of `ffi/` uses.
 *
 * @module
 */

import { type SymbolDef, symbols } from "./symbols.ts";

/**
 * An opaque native pointer (a `Deno.PointerObject` or `null` under Deno, a
 * number or `null` under Bun). Only `ffi/` looks inside.
 */
export type UnsafePointer = unknown;

/** A value for a `size_t` parameter. */
export type Size = number | bigint;

/** The JS value a backend takes for a parameter of the table's type `T`. */
type ParamValue<T> = T extends "pointer" | "function" ? UnsafePointer
  : T extends "buffer" ? Uint8Array | null
  : T extends "usize" ? Size
  : number;

/** The JS value a backend returns for a result of the table's type `T` (`size_t` as a number). */
type ResultValue<T> = T extends "void" ? void : T extends "pointer" ? UnsafePointer : number;

/** The bound function of one table entry. */
type BoundFunction<D> = D extends { readonly parameters: infer P extends readonly unknown[]; readonly result: infer R }
  ? (...args: { -readonly [I in keyof P]: ParamValue<P[I]> }) => ResultValue<R>
  : never;

/** The table's keys that the backends bind as plain functions (not the nonblocking twin or struct returns). */
type PlainKey = {
  [K in keyof Table]: Table[K] extends { readonly nonblocking: true } ? never
    : Table[K] extends { readonly result: { readonly struct: unknown } } ? never
    : K;
}[keyof Table];

type Table = typeof symbols;

/**
 * The functions of include/axruntime.h with portable types, derived from the one
 * symbol table (`ffi/symbols.ts`): handles are {@link UnsafePointer}, strings and
 * structs we pass in are NUL-terminated or sized `Uint8Array`s, `size_t` results
 * are numbers, and an extension the library lacks (`optional: true`) is `null`.
 * The struct-returning getters are reached through {@link Backend.tensorInfo}, the
 * nonblocking twin through {@link Backend.runNonblocking}.
 */
export type BoundSymbols = {
  readonly [K in PlainKey]: Table[K] extends { readonly optional: true } ? BoundFunction<Table[K]> | null
    : BoundFunction<Table[K]>;
};

/**
 * Binds every plain entry of the table with `bind(name, def)`: the one loop behind
 * both runtimes' {@link BoundSymbols}. `bind` returns null for a missing optional symbol.
 *
 * @example
 * ```ts
 * const calls: string[] = [];
 * bindTable((name) => (calls.push(name), () => 0));
 * console.log(calls.includes("axr_create_context")); // true
 * ```
 */
export function bindTable(
  bind: (name: string, def: SymbolDef) => ((...args: never[]) => unknown) | null,
): BoundSymbols {
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(symbols) as [string, SymbolDef][]) {
    if (def.nonblocking || typeof def.result !== "string") continue;
    out[key] = bind(key, def);
  }
  return out as unknown as BoundSymbols;
}

/** A native callback (the logger); `close()` frees it. */
export interface NativeCallback {
  /** The function pointer to hand to the library. */
  readonly pointer: UnsafePointer;
  /** Frees the trampoline. */
  close(): void;
}

/** Receives log messages of the library (any thread; the backend marshals to JS). */
export type LogSink = (level: number, message: string) => void;

/**
 * A loaded library.
 *
 * @example
 * ```ts
 * import { openDeno } from "./deno.ts";
 * const b: Backend = openDeno("zig-out/lib/libaxr.so");
 * const ctx = b.symbols.axr_create_context();
 * ```
 */
export interface Backend {
  /** Which JS runtime loaded it. */
  readonly runtime: "deno" | "bun";
  /** The path it was loaded from. */
  readonly path: string;
  /** The bound functions. */
  readonly symbols: BoundSymbols;
  /** Whether the library exports the extension `name` (e.g. "axr_ext_get_model_input"). */
  hasExtension(name: string): boolean;
  /** True for a NULL pointer. */
  isNull(p: UnsafePointer): boolean;
  /** The NUL-terminated string at `p` (UTF-8); null for NULL. */
  cString(p: UnsafePointer): string | null;
  /** A copy of `length` bytes at `p`. */
  copyBytes(p: UnsafePointer, length: number): Uint8Array;
  /** The pointer stored at `buf[offset..offset+8]` (an out-parameter). */
  readPointer(buf: Uint8Array, offset: number): UnsafePointer;
  /** The address of the first byte of `view` (for axrArgument.ptr). */
  address(view: ArrayBufferView): number;
  /**
   * Fills `out` (488 bytes) with `axr_get_model_input/output(model, n)`, by the
   * extension when present, else by the struct-returning symbol; returns the
   * result code (0 success).
   */
  tensorInfo(model: UnsafePointer, output: boolean, n: number, out: Uint8Array): number;
  /**
   * Fills `out` through the struct-returning `axr_get_model_input/output` (the
   * path used with the vendor's library, which lacks the extension). Throws
   * where the runtime cannot receive the struct (Bun on aarch64).
   */
  tensorInfoByValue(model: UnsafePointer, output: boolean, n: number, out: Uint8Array): void;
  /**
   * `axr_run_model_instance` off the JS thread: resolves with the result code.
   * `keepAlive` holds what must not be collected until it settles.
   */
  runNonblocking(
    inst: UnsafePointer,
    inputs: Uint8Array,
    nInputs: number,
    outputs: Uint8Array,
    nOutputs: number,
    keepAlive: unknown,
  ): Promise<number>;
  /** An `axr_logger_fn` calling `sink` (thread-safe). */
  logger(sink: LogSink): NativeCallback;
}
