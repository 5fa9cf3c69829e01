/**
 * The Worker behind `runAsync` under Bun (see `ffi/bun.ts`): it opens the same
 * library (the process shares one copy) and calls `axr_run_model_instance`
 * with the pointer values it is sent, so the main thread's event loop runs on
 * while the device works. The main thread keeps every buffer alive until the
 * reply arrives.
 *
 * Messages in: `{type: "open", path}`, then `{type: "run", id, inst, inputs,
 * nIn, outputs, nOut}` (pointers as numbers). Out: `{id, code}` or `{id, error}`.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type Any = any;

let run: ((inst: number, i: number, ni: number, o: number, no: number) => number) | null = null;
let openError = "";

// deno-lint-ignore no-explicit-any
const scope: any = globalThis;

scope.onmessage = (ev: MessageEvent) => {
  const m = ev.data as Any;
  if (m.type === "open") {
    try {
      const req = (import.meta as Any).require ?? scope.require;
      const { dlopen } = req("bun:ffi");
      const lib = dlopen(m.path, {
        axr_run_model_instance: { args: ["ptr", "ptr", "u64", "ptr", "u64"], returns: "i32" },
      });
      run = lib.symbols.axr_run_model_instance;
    } catch (e) {
      openError = `cannot open ${m.path} in the runAsync worker: ${(e as Error).message}`;
    }
    return;
  }
  if (m.type === "run") {
    if (!run) {
      scope.postMessage({ id: m.id, error: openError || "runAsync worker: library not opened" });
      return;
    }
    try {
      const code = run(m.inst, m.inputs || null, m.nIn, m.outputs || null, m.nOut);
      scope.postMessage({ id: m.id, code });
    } catch (e) {
      scope.postMessage({ id: m.id, error: (e as Error).message });
    }
  }
};
