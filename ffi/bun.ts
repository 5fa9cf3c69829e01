/**
 * Loading the native library with bun:ffi (the Bun half of the only
 * runtime-specific code). The shared table of `ffi/symbols.ts` is translated
 * to bun:ffi types here. `bun:ffi` is required lazily inside {@link openBun},
 * so that Deno can type-check and import this module without resolving it.
 *
 * Struct returns: bun:ffi cannot return `axrTensorInfo` by value. We call the
 * extension `axr_ext_get_model_input/output` when the library has it; else, on
 * x86_64 (System V), the struct-returning symbol with the result buffer as a
 * hidden first pointer argument (the ABI of MEMORY-class returns: the caller
 * passes it in rdi). On aarch64 the hidden pointer goes in x8, which bun:ffi
 * cannot set: there, Bun needs a library with the extension (libaxr has it).
 *
 * @module
 */
import { type Backend, bindTable, type LogSink, type NativeCallback, type UnsafePointer } from "./backend.ts";
import { type NativeType, ResultCode, type SymbolDef, symbols } from "./symbols.ts";

// deno-lint-ignore no-explicit-any
type Any = any;

/** The bun:ffi type of a table type, for a parameter or a result. */
function bunType(t: NativeType, result: boolean): string {
  switch (t) {
    case "pointer":
    case "buffer":
      return "ptr";
    case "usize":
      return result ? "u64_fast" : "u64";
    case "function":
      return "ptr"; // a JSCallback's .ptr, or null to clear
    default:
      return t;
  }
}

/**
 * The bun:ffi definitions of the table (blocking, non-struct symbols).
 *
 * @example
 * ```ts
 * const defs = bunDefinitions(false); // required symbols only
 * ```
 */
export function bunDefinitions(optional: boolean): Record<string, { args: string[]; returns: string }> {
  const out: Record<string, { args: string[]; returns: string }> = {};
  for (const [key, d] of Object.entries(symbols) as [string, SymbolDef][]) {
    if (d.nonblocking || typeof d.result !== "string") continue;
    if ((d.optional ?? false) !== optional) continue;
    out[d.name ?? key] = { args: d.parameters.map((p) => bunType(p, false)), returns: bunType(d.result, true) };
  }
  return out;
}

/** `bun:ffi`, required at call time (Bun only). */
function bunFfi(): Any {
  const req = (import.meta as Any).require ?? (globalThis as Any).require;
  if (typeof req !== "function") throw new Error("bun:ffi is not available (not running under Bun?)");
  return req("bun:ffi");
}

/**
 * The Worker behind runAsync: it opens the same library (the process shares one
 * copy) and calls `axr_run_model_instance` with the pointer values it is sent,
 * so the main thread's event loop runs on while the device works. Inline (a Blob
 * URL), so that it also works inside a `bun build --compile` executable.
 * In: `{type: "open", path, def}` (def: the bun:ffi definition derived from the table), then `{type: "run", id, inst, inputs, nIn, outputs, nOut}`.
 * Out: `{id, code}` or `{id, error}`.
 */
const WORKER_SOURCE = `
let ready = null;
self.onmessage = async (ev) => {
  const m = ev.data;
  if (m.type === "open") {
    ready = import("bun:ffi").then(({ dlopen }) =>
      dlopen(m.path, { axr_run_model_instance: m.def }).symbols.axr_run_model_instance
    );
    ready.catch(() => {});
    return;
  }
  let run;
  try {
    run = await ready;
  } catch (e) {
    postMessage({ id: m.id, error: "cannot open the library in the runAsync worker: " + (e && e.message || e) });
    return;
  }
  try {
    postMessage({ id: m.id, code: run(m.inst, m.inputs || null, m.nIn, m.outputs || null, m.nOut) });
  } catch (e) {
    postMessage({ id: m.id, error: String(e && e.message || e) });
  }
};
`;

let workerUrl: string | undefined;

/** A pool of Workers that each dlopen the library and run `axr_run_model_instance`. */
class RunPool {
  #workers: { w: Worker; pending: number }[] = [];
  #waiting = new Map<
    number,
    { resolve: (c: number) => void; reject: (e: Error) => void; keep: unknown; slot: { w: Worker; pending: number } }
  >();
  #next = 1;
  #max: number;
  readonly path: string;
  constructor(path: string) {
    this.path = path;
    const cpus = (globalThis as Any).navigator?.hardwareConcurrency ?? 4;
    this.#max = Math.max(2, Math.min(8, cpus));
  }
  #slot(): { w: Worker; pending: number } {
    let best = this.#workers.find((s) => s.pending === 0);
    if (!best && this.#workers.length < this.#max) {
      workerUrl ??= URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
      const w = new Worker(workerUrl);
      const slot = { w, pending: 0 };
      w.onmessage = (ev: MessageEvent) => this.#done(slot, ev.data);
      w.onerror = (ev: Any) => {
        for (const [id, p] of this.#waiting) {
          if (p.slot === slot) {
            this.#waiting.delete(id);
            p.reject(new Error(`runAsync worker failed: ${ev?.message ?? ev}`));
          }
        }
      };
      w.postMessage({ type: "open", path: this.path, def: bunDefinitions(false).axr_run_model_instance });
      this.#workers.push(slot);
      best = slot;
    }
    best ??= this.#workers.reduce((a, b) => (b.pending < a.pending ? b : a));
    return best;
  }
  #done(slot: { w: Worker; pending: number }, msg: { id: number; code?: number; error?: string }): void {
    const p = this.#waiting.get(msg.id);
    if (!p) return;
    this.#waiting.delete(msg.id);
    slot.pending--;
    if (slot.pending === 0) (slot.w as Any).unref?.();
    if (msg.error !== undefined) p.reject(new Error(msg.error));
    else p.resolve(msg.code ?? ResultCode.unknownError);
  }
  run(inst: number, inputs: number, nIn: number, outputs: number, nOut: number, keep: unknown): Promise<number> {
    const slot = this.#slot();
    const id = this.#next++;
    return new Promise<number>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject, keep, slot });
      if (slot.pending++ === 0) (slot.w as Any).ref?.();
      slot.w.postMessage({ type: "run", id, inst, inputs, nIn, outputs, nOut });
    });
  }
}

/**
 * Opens the library at `path` with bun:ffi. Throws when it cannot be loaded or
 * lacks a required symbol.
 *
 * @example
 * ```ts
 * const backend = openBun("zig-out/lib/libaxr.so");
 * console.log(backend.symbols.axr_api_version());
 * ```
 */
export function openBun(path: string): Backend {
  const ffi = bunFfi();
  const { dlopen, ptr, toArrayBuffer, CString, JSCallback } = ffi;
  const lib = dlopen(path, bunDefinitions(false));
  const s: Any = lib.symbols;
  const ext: Record<string, Any> = {};
  for (const [name, def] of Object.entries(bunDefinitions(true))) {
    try {
      ext[name] = dlopen(path, { [name]: def }).symbols[name];
    } catch { /* the vendor's library: no extension */ }
  }
  // Struct returns through a hidden result pointer (x86_64 System V only).
  let hidden: Any = null;
  const hiddenStructs = (): Any => {
    if (hidden) return hidden;
    const arch = (globalThis as Any).process?.arch;
    if (arch !== "x64") {
      throw new Error(
        `axr_get_model_input returns a struct, which bun:ffi cannot receive on ${arch}; ` +
          "use a library with the axr_ext_get_model_input extension (libaxr) or run under Deno",
      );
    }
    const def = { args: ["ptr", "ptr", "u64"], returns: "ptr" };
    hidden = dlopen(path, { axr_get_model_input: def, axr_get_model_output: def }).symbols;
    return hidden;
  };
  const nz = (p: Any): UnsafePointer => (p === 0 ? null : p);
  const cString = (
    p: UnsafePointer,
  ): string | null => (p === null || p === 0 ? null : new CString(p as number).toString());
  let pool: RunPool | null = null;

  // NULL pointers as null (bun:ffi gives 0), size_t results as numbers.
  const bound = bindTable((name, def) => {
    const f = def.optional ? ext[def.name ?? name] : s[def.name ?? name];
    if (typeof f !== "function") return null; // a missing optional extension
    if (def.result === "pointer") return (...a: never[]) => nz(f(...a));
    if (def.result === "usize") return (...a: never[]) => Number(f(...a));
    return f;
  });

  const backend: Backend = {
    runtime: "bun",
    path,
    symbols: bound,
    hasExtension: (name) => typeof ext[name] === "function",
    isNull: (p) => p === null || p === 0 || p === undefined,
    cString,
    copyBytes(p, length) {
      if (length === 0) return new Uint8Array(0);
      return new Uint8Array(toArrayBuffer(p, 0, length)).slice();
    },
    readPointer(buf, offset) {
      const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getBigUint64(offset, true);
      return v === 0n ? null : Number(v);
    },
    address(view) {
      return view.byteLength === 0 ? 0 : ptr(view);
    },
    tensorInfo(model, output, n, out) {
      const e = output ? ext.axr_ext_get_model_output : ext.axr_ext_get_model_input;
      if (e) return e(model, n, out);
      backend.tensorInfoByValue(model, output, n, out);
      return 0;
    },
    tensorInfoByValue(model, output, n, out) {
      const h = hiddenStructs();
      (output ? h.axr_get_model_output : h.axr_get_model_input)(out, model, n);
    },
    runNonblocking(inst, inputs, nInputs, outputs, nOutputs, keepAlive) {
      pool ??= new RunPool(path);
      const inPtr = inputs.byteLength ? ptr(inputs) : 0;
      const outPtr = outputs.byteLength ? ptr(outputs) : 0;
      return pool.run(inst as number, inPtr, nInputs, outPtr, nOutputs, [inputs, outputs, keepAlive]);
    },
    logger(sink: LogSink): NativeCallback {
      const cb = new JSCallback(
        (_arg: number, level: number, msg: number) => {
          try {
            sink(level, cString(msg) ?? "");
          } catch { /* a throwing logger must not unwind through native code */ }
        },
        // Not threadsafe: Bun would queue the call and `msg` is only valid during it. libaxr
        // logs only from the calling thread (it does not log inside runs, so never from the
        // runAsync Worker), so the callback always runs on the JS thread, synchronously.
        { args: ["ptr", "i32", "ptr"], returns: "void" },
      );
      return { pointer: cb.ptr, close: () => cb.close() };
    },
  };
  return backend;
}
