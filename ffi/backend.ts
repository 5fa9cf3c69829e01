/**
 * The runtime-neutral face of a loaded native library: what `ffi/deno.ts` and
 * `ffi/bun.ts` each implement, and all the rest of `ffi/` uses.
 *
 * @module
 */

/**
 * An opaque native pointer (a `Deno.PointerObject` or `null` under Deno, a
 * number or `null` under Bun). Only `ffi/` looks inside.
 */
export type UnsafePointer = unknown;

/** A value for a `size_t` parameter. */
export type Size = number | bigint;

/**
 * The functions of include/axruntime.h with portable types: handles are
 * {@link UnsafePointer}, strings and structs we pass in are NUL-terminated or
 * sized `Uint8Array`s, `size_t` results are numbers.
 */
export interface BoundSymbols {
  axr_api_version(): number;
  axr_create_context(): UnsafePointer;
  axr_destroy(obj: UnsafePointer): void;
  axr_get_context(obj: UnsafePointer): UnsafePointer;
  axr_last_error(obj: UnsafePointer): number;
  axr_last_error_string(obj: UnsafePointer): UnsafePointer;
  axr_error_string(code: number): UnsafePointer;
  axr_board_type_string(board: number): UnsafePointer;
  axr_set_logger(ctx: UnsafePointer, level: number, fn: UnsafePointer, arg: UnsafePointer): void;
  axr_list_devices(ctx: UnsafePointer, out: Uint8Array): number;
  axr_configure_device(ctx: UnsafePointer, device: Uint8Array, props: UnsafePointer): number;
  axr_device_ready(ctx: UnsafePointer, device: Uint8Array): number;
  axr_read_device_configuration(ctx: UnsafePointer, device: Uint8Array): UnsafePointer;
  axr_device_connect(
    ctx: UnsafePointer,
    device: Uint8Array | null,
    numSubDevices: Size,
    props: UnsafePointer,
  ): UnsafePointer;
  axr_load_model(ctx: UnsafePointer, path: Uint8Array): UnsafePointer;
  axr_num_model_inputs(model: UnsafePointer): number;
  axr_num_model_outputs(model: UnsafePointer): number;
  axr_get_model_properties(model: UnsafePointer): UnsafePointer;
  axr_load_model_instance(conn: UnsafePointer, model: UnsafePointer, props: UnsafePointer): UnsafePointer;
  axr_run_model_instance(
    inst: UnsafePointer,
    inputs: Uint8Array,
    nInputs: Size,
    outputs: Uint8Array,
    nOutputs: Size,
  ): number;
  axr_tensor_size(info: Uint8Array): number;
  axr_create_properties(ctx: UnsafePointer, initial: Uint8Array): UnsafePointer;
  axr_get_property(props: UnsafePointer, key: Uint8Array): UnsafePointer;
  axr_set_property(props: UnsafePointer, key: Uint8Array, value: Uint8Array): void;
  axr_del_property(props: UnsafePointer, key: Uint8Array): void;
  axr_list_properties(props: UnsafePointer): UnsafePointer;
  /** Extension: null when the library lacks it. */
  axr_ext_instance_stats: ((inst: UnsafePointer) => UnsafePointer) | null;
  /** Extension: null when the library lacks it. */
  axr_ext_host_cpu: (() => UnsafePointer) | null;
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
