/**
 * Loading the native library with `Deno.dlopen` (the Deno half of the only
 * runtime-specific code). Nothing here runs unless {@link openDeno} is called,
 * so importing this module under Bun is harmless.
 *
 * @module
 */
import { type Backend, bindTable, type LogSink, type NativeCallback, type UnsafePointer } from "./backend.ts";
import { TENSOR_INFO_BYTES } from "./structs.ts";
import { symbols } from "./symbols.ts";

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

  // size_t results come back as bigint or number: one shape, number.
  const bound = bindTable((name, def) => {
    const f = s[name];
    if (typeof f !== "function") return null; // a missing optional extension
    return def.result === "usize" ? (...a: never[]) => num(f(...a)) : f;
  });

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
      out.set(r.subarray(0, TENSOR_INFO_BYTES));
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
