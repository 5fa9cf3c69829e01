/**
 * Loading the native library with `Deno.dlopen` (the Deno half of the only
 * runtime-specific code). Nothing here runs unless {@link openDeno} is called,
 * so importing this module under Bun is harmless.
 *
 * @module
 */
import type { Backend, BoundSymbols, LogSink, NativeCallback, UnsafePointer } from "./backend.ts";
import { symbols, TENSOR_INFO_SIZE } from "./symbols.ts";

type Ptr = Deno.PointerValue;

/**
 * Opens the library at `path` with `Deno.dlopen` and the shared symbol table.
 * Throws (Deno's own error) when the file is not a loadable library or lacks a
 * required symbol.
 *
 * @example
 * ```ts
 * const backend = openDeno("zig-out/lib/libaxr.so");
 * console.log(backend.symbols.axr_api_version());
 * ```
 */
export function openDeno(path: string): Backend {
  // deno-lint-ignore no-explicit-any
  const lib = Deno.dlopen(path, symbols as any);
  // deno-lint-ignore no-explicit-any
  const s = lib.symbols as any;
  const num = (v: number | bigint): number => typeof v === "number" ? v : Number(v);
  const cString = (p: UnsafePointer): string | null =>
    p === null ? null : Deno.UnsafePointerView.getCString(p as Deno.PointerObject);
  const bases = new WeakMap<ArrayBufferLike, number>();

  const bound: BoundSymbols = {
    axr_api_version: () => s.axr_api_version(),
    axr_create_context: () => s.axr_create_context(),
    axr_destroy: (o) => s.axr_destroy(o as Ptr),
    axr_get_context: (o) => s.axr_get_context(o as Ptr),
    axr_last_error: (o) => s.axr_last_error(o as Ptr),
    axr_last_error_string: (o) => s.axr_last_error_string(o as Ptr),
    axr_error_string: (c) => s.axr_error_string(c),
    axr_board_type_string: (b) => s.axr_board_type_string(b),
    axr_set_logger: (c, l, f, a) => s.axr_set_logger(c as Ptr, l, f as Ptr, a as Ptr),
    axr_list_devices: (c, out) => num(s.axr_list_devices(c as Ptr, out)),
    axr_configure_device: (c, d, p) => s.axr_configure_device(c as Ptr, d, p as Ptr),
    axr_device_ready: (c, d) => s.axr_device_ready(c as Ptr, d),
    axr_read_device_configuration: (c, d) => s.axr_read_device_configuration(c as Ptr, d),
    axr_device_connect: (c, d, n, p) => s.axr_device_connect(c as Ptr, d, n, p as Ptr),
    axr_load_model: (c, path) => s.axr_load_model(c as Ptr, path),
    axr_num_model_inputs: (m) => num(s.axr_num_model_inputs(m as Ptr)),
    axr_num_model_outputs: (m) => num(s.axr_num_model_outputs(m as Ptr)),
    axr_get_model_properties: (m) => s.axr_get_model_properties(m as Ptr),
    axr_load_model_instance: (c, m, p) => s.axr_load_model_instance(c as Ptr, m as Ptr, p as Ptr),
    axr_run_model_instance: s.axr_run_model_instance,
    axr_tensor_size: (i) => num(s.axr_tensor_size(i)),
    axr_create_properties: (c, init) => s.axr_create_properties(c as Ptr, init),
    axr_get_property: (p, k) => s.axr_get_property(p as Ptr, k),
    axr_set_property: (p, k, v) => s.axr_set_property(p as Ptr, k, v),
    axr_del_property: (p, k) => s.axr_del_property(p as Ptr, k),
    axr_list_properties: (p) => s.axr_list_properties(p as Ptr),
    axr_ext_instance_stats: s.axr_ext_instance_stats ? (i) => s.axr_ext_instance_stats(i as Ptr) : null,
    axr_ext_host_cpu: s.axr_ext_host_cpu ? () => s.axr_ext_host_cpu() : null,
  };

  const backend: Backend = {
    runtime: "deno",
    path,
    symbols: bound,
    hasExtension: (name) => typeof s[name] === "function",
    isNull: (p) => p === null,
    cString,
    copyBytes(p, length) {
      const out = new Uint8Array(length);
      if (length > 0) Deno.UnsafePointerView.copyInto(p as Deno.PointerObject, out);
      return out;
    },
    readPointer(buf, offset) {
      const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(offset, true);
      return Deno.UnsafePointer.create(v);
    },
    address(view) {
      // The backing store of an ArrayBuffer never moves: cache its base address.
      const buffer = view.buffer;
      let base = bases.get(buffer);
      if (base === undefined) {
        if (buffer.byteLength === 0) return 0;
        const p = Deno.UnsafePointer.of(new Uint8Array(buffer));
        base = num(Deno.UnsafePointer.value(p));
        if ((buffer as ArrayBuffer).resizable !== true && !(buffer as SharedArrayBuffer).growable) {
          bases.set(buffer, base);
        }
      }
      return base + view.byteOffset;
    },
    tensorInfo(model, output, n, out) {
      const ext = output ? s.axr_ext_get_model_output : s.axr_ext_get_model_input;
      if (ext) return ext(model as Ptr, n, out);
      backend.tensorInfoByValue(model, output, n, out);
      return 0;
    },
    tensorInfoByValue(model, output, n, out) {
      const r: Uint8Array = (output ? s.axr_get_model_output : s.axr_get_model_input)(model as Ptr, n);
      out.set(r.subarray(0, TENSOR_INFO_SIZE));
    },
    async runNonblocking(inst, inputs, nInputs, outputs, nOutputs, keepAlive) {
      const code: number = await s.axr_run_model_instance_nonblocking(inst as Ptr, inputs, nInputs, outputs, nOutputs);
      void keepAlive; // referenced until here: the buffers stay alive during the call
      return code;
    },
    logger(sink: LogSink): NativeCallback {
      const cb = Deno.UnsafeCallback.threadSafe(
        { parameters: ["pointer", "i32", "pointer"], result: "void" } as const,
        (_arg: Ptr, level: number, msg: Ptr) => {
          try {
            sink(level, cString(msg) ?? "");
          } catch { /* a throwing logger must not unwind through native code */ }
        },
      );
      cb.unref();
      return { pointer: cb.pointer, close: () => cb.close() };
    },
  };
  return backend;
}
