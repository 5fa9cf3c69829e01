/**
 * The TypeScript face of the native library: every call of include/axruntime.h
 * with JS values in and out, result codes and the library's own error messages
 * returned as data (`runtime/` turns them into typed exceptions). Raw pointers
 * appear only as {@link UnsafePointer} handles and behind `unsafe*` names.
 *
 * @module
 */
import type { Backend, LogSink, NativeCallback, UnsafePointer } from "./backend.ts";
import { nativeLibrary } from "./library.ts";
import {
  decodeDeviceInfo,
  decodeTensorInfo,
  DEVICE_INFO_SIZE,
  type RawDeviceInfo,
  type RawTensorInfo,
  TENSOR_INFO_BYTES,
} from "./structs.ts";

export type { LogSink, NativeCallback, UnsafePointer } from "./backend.ts";
export { ArgumentArray, decodeDeviceInfo } from "./structs.ts";
export type { RawDeviceInfo, RawTensorInfo } from "./structs.ts";
export {
  LibraryIntegrityError,
  LibraryNotFoundError,
  LibraryPermissionError,
  librarySource,
  registerEmbeddedLibrary,
  UnsupportedRuntimeError,
} from "./library.ts";

export { ResultCode } from "./symbols.ts";

/** A failed native call: the `axrResult` code and the library's message. */
export interface NativeStatus {
  /** The `axrResult` code (never 0 here). */
  code: number;
  /** `axr_last_error_string` of the object, or `axr_error_string(code)`. */
  message: string;
}

/** A device as the library lists it: the decoded fields and the raw struct to pass back. */
export interface NativeDevice {
  /** Decoded fields. */
  info: RawDeviceInfo;
  /** The 1568-byte `axrDeviceInfo` (a copy we own). */
  bytes: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * A NUL-terminated UTF-8 copy of `s` for a `const char*` parameter.
 *
 * @example
 * ```ts
 * cstr("model.json"); // Uint8Array [..., 0]
 * ```
 */
export function cstr(s: string): Uint8Array {
  const b = encoder.encode(s + "\0");
  return b;
}

/**
 * The native library with JS-typed calls. One per process ({@link native}).
 *
 * @example
 * ```ts
 * const n = native();
 * const ctx = n.createContext();
 * const devices = n.listDevices(ctx);
 * if (!isStatus(devices)) console.log(devices.map((d) => d.info.name));
 * n.destroy(ctx);
 * ```
 */
export class NativeApi {
  /** The loaded library (runtime-specific backend). */
  readonly lib: Backend;
  /**
   * Wraps a loaded library.
   *
   * @example
   * ```ts
   * import { nativeLibrary } from "./library.ts";
   * const api = new NativeApi(nativeLibrary());
   * ```
   */
  constructor(lib: Backend) {
    this.lib = lib;
  }

  /** Which JS runtime drives the library. */
  get runtime(): "deno" | "bun" {
    return this.lib.runtime;
  }

  /** The path of the loaded library. */
  get path(): string {
    return this.lib.path;
  }

  /** `axr_api_version()`. */
  apiVersion(): number {
    return this.lib.symbols.axr_api_version();
  }

  /** True for a NULL handle. */
  isNull(h: UnsafePointer): boolean {
    return this.lib.isNull(h);
  }

  /** The last error of `obj`: code and message (`axr_last_error(_string)`). */
  lastError(obj: UnsafePointer): NativeStatus {
    const s = this.lib.symbols;
    const code = s.axr_last_error(obj);
    const message = this.lib.cString(s.axr_last_error_string(obj)) ?? "";
    return { code, message: message || this.errorString(code) };
  }

  /** The status of a call that returned `code` on `obj` (message from the object). */
  status(obj: UnsafePointer, code: number): NativeStatus {
    const s = this.lib.symbols;
    const message = this.lib.cString(s.axr_last_error_string(obj)) ?? "";
    return { code, message: message || this.errorString(code) };
  }

  /** `axr_error_string(code)`. */
  errorString(code: number): string {
    return this.lib.cString(this.lib.symbols.axr_error_string(code)) ?? `error ${code}`;
  }

  /** `axr_board_type_string(board)`. */
  boardTypeString(board: number): string {
    return this.lib.cString(this.lib.symbols.axr_board_type_string(board)) ?? "unknown";
  }

  /** `axr_create_context()`. */
  createContext(): UnsafePointer {
    return this.lib.symbols.axr_create_context();
  }

  /** `axr_destroy(obj)` (NULL and already destroyed handles are no-ops in libaxr). */
  destroy(obj: UnsafePointer): void {
    if (!this.lib.isNull(obj)) this.lib.symbols.axr_destroy(obj);
  }

  /** `axr_list_devices`: copies of the structs (the array is owned by the context). */
  listDevices(ctx: UnsafePointer): NativeDevice[] | NativeStatus {
    const out = new Uint8Array(8);
    const n = this.lib.symbols.axr_list_devices(ctx, out);
    if (n === 0) {
      const e = this.lastError(ctx);
      return e.code !== 0 ? e : [];
    }
    const all = this.lib.copyBytes(this.lib.readPointer(out, 0), n * DEVICE_INFO_SIZE);
    const devices: NativeDevice[] = [];
    for (let i = 0; i < n; i++) {
      const bytes = all.slice(i * DEVICE_INFO_SIZE, (i + 1) * DEVICE_INFO_SIZE);
      devices.push({ info: decodeDeviceInfo(bytes), bytes });
    }
    return devices;
  }

  /** A new `axrProperties` (child of `ctx`) holding `props`; destroy it after use. */
  createProperties(ctx: UnsafePointer, props: Record<string, string>): UnsafePointer | NativeStatus {
    const s = this.lib.symbols;
    const p = s.axr_create_properties(ctx, cstr(""));
    if (this.lib.isNull(p)) return this.lastError(ctx);
    for (const [k, v] of Object.entries(props)) {
      s.axr_set_property(p, cstr(k), cstr(v));
      const e = s.axr_last_error(p);
      if (e !== 0) {
        const st = this.status(p, e);
        this.destroy(p);
        return st;
      }
    }
    return p;
  }

  /** All key/value pairs of an `axrProperties`. */
  readProperties(props: UnsafePointer): Record<string, string> {
    const s = this.lib.symbols;
    const keys = this.lib.cString(s.axr_list_properties(props)) ?? "";
    const out: Record<string, string> = {};
    for (const k of keys.split(";")) {
      if (k === "") continue;
      out[k] = this.lib.cString(s.axr_get_property(props, cstr(k))) ?? "";
    }
    return out;
  }

  /** Runs `fn` with a temporary properties object (NULL when `props` is undefined). */
  #withProps<T>(
    ctx: UnsafePointer,
    props: Record<string, string> | undefined,
    fn: (p: UnsafePointer) => T,
  ): T | NativeStatus {
    if (props === undefined) return fn(null);
    const p = this.createProperties(ctx, props);
    if (isStatus(p)) return p;
    try {
      return fn(p);
    } finally {
      this.destroy(p);
    }
  }

  /** `axr_configure_device`: 0 (done), 10 (pending) or another code with the message. */
  configureDevice(ctx: UnsafePointer, device: Uint8Array, props: Record<string, string>): NativeStatus | 0 {
    const r = this.#withProps(ctx, props, (p) => this.lib.symbols.axr_configure_device(ctx, device, p));
    if (typeof r !== "number") return r;
    return r === 0 ? 0 : this.status(ctx, r);
  }

  /** `axr_device_ready`: 0 (ready), or the status (code 10 while pending). */
  deviceReady(ctx: UnsafePointer, device: Uint8Array): NativeStatus | 0 {
    const r = this.lib.symbols.axr_device_ready(ctx, device);
    return r === 0 ? 0 : this.status(ctx, r);
  }

  /** `axr_read_device_configuration` as a record. */
  readDeviceConfiguration(ctx: UnsafePointer, device: Uint8Array): Record<string, string> | NativeStatus {
    const p = this.lib.symbols.axr_read_device_configuration(ctx, device);
    if (this.lib.isNull(p)) return this.lastError(ctx);
    try {
      return this.readProperties(p);
    } finally {
      this.destroy(p);
    }
  }

  /** `axr_device_connect`: the connection handle or the context's error. */
  deviceConnect(
    ctx: UnsafePointer,
    device: Uint8Array | null,
    numSubDevices: number,
    props: Record<string, string> | undefined,
  ): UnsafePointer | NativeStatus {
    const r = this.#withProps(ctx, props, (p) => this.lib.symbols.axr_device_connect(ctx, device, numSubDevices, p));
    if (isStatus(r)) return r;
    return this.lib.isNull(r) ? this.lastError(ctx) : r;
  }

  /** `axr_load_model`: the model handle or the context's error. */
  loadModel(ctx: UnsafePointer, path: string): UnsafePointer | NativeStatus {
    const m = this.lib.symbols.axr_load_model(ctx, cstr(path));
    return this.lib.isNull(m) ? this.lastError(ctx) : m;
  }

  /** The input (or output) tensors of a model. */
  modelTensors(model: UnsafePointer, output: boolean): RawTensorInfo[] | NativeStatus {
    const s = this.lib.symbols;
    const n = output ? s.axr_num_model_outputs(model) : s.axr_num_model_inputs(model);
    const out: RawTensorInfo[] = [];
    const buf = new Uint8Array(TENSOR_INFO_BYTES);
    for (let i = 0; i < n; i++) {
      buf.fill(0);
      const r = this.lib.tensorInfo(model, output, i, buf);
      if (r !== 0) return this.status(model, r);
      out.push(decodeTensorInfo(buf));
    }
    return out;
  }

  /** `axr_get_model_properties` as a record (the properties belong to the model). */
  modelProperties(model: UnsafePointer): Record<string, string> | NativeStatus {
    const p = this.lib.symbols.axr_get_model_properties(model);
    if (this.lib.isNull(p)) return this.lastError(model);
    return this.readProperties(p);
  }

  /** `axr_load_model_instance`: the instance handle or the connection's error. */
  loadModelInstance(
    conn: UnsafePointer,
    model: UnsafePointer,
    props: Record<string, string> | undefined,
  ): UnsafePointer | NativeStatus {
    const ctx = this.lib.symbols.axr_get_context(conn);
    const r = this.#withProps(ctx, props, (p) => this.lib.symbols.axr_load_model_instance(conn, model, p));
    if (isStatus(r)) return r;
    return this.lib.isNull(r) ? this.lastError(conn) : r;
  }

  /**
   * `axr_run_model_instance` with prepared argument arrays: 0 or the status.
   * The arrays hold raw addresses: keep their buffers alive across the call.
   */
  unsafeRun(
    inst: UnsafePointer,
    inputs: Uint8Array,
    nInputs: number,
    outputs: Uint8Array,
    nOutputs: number,
  ): NativeStatus | 0 {
    const r = this.lib.symbols.axr_run_model_instance(inst, inputs, nInputs, outputs, nOutputs);
    return r === 0 ? 0 : this.status(inst, r);
  }

  /** {@link unsafeRun} off the JS thread (Deno: nonblocking FFI; Bun: a Worker). */
  async unsafeRunAsync(
    inst: UnsafePointer,
    inputs: Uint8Array,
    nInputs: number,
    outputs: Uint8Array,
    nOutputs: number,
    keepAlive: unknown,
  ): Promise<NativeStatus | 0> {
    const r = await this.lib.runNonblocking(inst, inputs, nInputs, outputs, nOutputs, keepAlive);
    return r === 0 ? 0 : this.status(inst, r);
  }

  /** The address of a buffer's first byte, for `axrArgument.ptr`. */
  unsafeAddress(view: ArrayBufferView): number {
    return this.lib.address(view);
  }

  /** Whether `axr_ext_instance_stats` is available. */
  get hasInstanceStats(): boolean {
    return this.lib.symbols.axr_ext_instance_stats !== null;
  }

  /** `axr_ext_instance_stats` (JSON text), or undefined without the extension. */
  instanceStats(inst: UnsafePointer): string | undefined {
    const f = this.lib.symbols.axr_ext_instance_stats;
    if (!f) return undefined;
    return this.lib.cString(f(inst)) ?? undefined;
  }

  /** `axr_ext_host_cpu` (JSON text), or undefined without the extension. */
  hostCpu(): string | undefined {
    const f = this.lib.symbols.axr_ext_host_cpu;
    if (!f) return undefined;
    return this.lib.cString(f()) ?? undefined;
  }

  /**
   * Installs a logger on a context (`axr_set_logger`) and returns the callback,
   * which the caller must keep and close after the context is gone; with `sink`
   * null, removes the logger and returns null.
   */
  setLogger(ctx: UnsafePointer, level: number, sink: LogSink | null): NativeCallback | null {
    if (!sink) {
      this.lib.symbols.axr_set_logger(ctx, level, null, null);
      return null;
    }
    const cb = this.lib.logger(sink);
    this.lib.symbols.axr_set_logger(ctx, level, cb.pointer, null);
    return cb;
  }
}

/**
 * True when `v` is a {@link NativeStatus} (an error) rather than a result.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const m = native().loadModel(ctx, "x/model.json");
 * if (isStatus(m)) console.error(m.message);
 * ```
 */
export function isStatus(v: unknown): v is NativeStatus {
  return typeof v === "object" && v !== null && "code" in v && "message" in v && !(v instanceof Uint8Array);
}

let api: NativeApi | undefined;

/**
 * The process-wide {@link NativeApi}, opening the library on first use.
 * Throws `LibraryNotFoundError` listing where it looked.
 *
 * @example
 * ```ts
 * console.log(native().path);
 * ```
 */
export function native(): NativeApi {
  api ??= new NativeApi(nativeLibrary());
  return api;
}
