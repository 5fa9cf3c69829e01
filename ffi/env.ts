/**
 * Setting an environment variable so that the native library sees it
 * (`getenv` in C). Deno's `Deno.env.set` already calls `setenv`; Bun's
 * `process.env` does not reach the C environment, so under Bun we call libc's
 * `setenv`/`unsetenv` as well. Used by tests and tools that configure the
 * emulated device (`AXR_EMU_DEVICES`, `AXR_EMU_STATE_DIR`, ...) in-process.
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type Any = any;

let libc: Any = null;

function bunLibc(): Any {
  if (libc) return libc;
  const req = (import.meta as Any).require ?? (globalThis as Any).require;
  const { dlopen } = req("bun:ffi");
  const defs = {
    setenv: { args: ["ptr", "ptr", "i32"], returns: "i32" },
    unsetenv: { args: ["ptr"], returns: "i32" },
  };
  let last: unknown;
  for (const name of ["libc.so.6", "libc.so", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"]) {
    try {
      libc = dlopen(name, defs).symbols;
      return libc;
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`cannot open libc to set the environment: ${(last as Error)?.message}`);
}

const z = (s: string): Uint8Array => new TextEncoder().encode(s + "\0");

/**
 * Sets (or with `undefined`, removes) `name` in the environment of the JS
 * runtime and of the C library.
 *
 * @example
 * ```ts
 * setNativeEnv("AXR_EMU_DEVICES", "pcie,m2");
 * ```
 */
export function setNativeEnv(name: string, value: string | undefined): void {
  const g = globalThis as Any;
  if ("Deno" in g) {
    if (value === undefined) g.Deno.env.delete(name);
    else g.Deno.env.set(name, value);
    return;
  }
  if (g.process?.env) {
    if (value === undefined) delete g.process.env[name];
    else g.process.env[name] = value;
  }
  if ("Bun" in g) {
    const c = bunLibc();
    if (value === undefined) c.unsetenv(z(name));
    else c.setenv(z(name), z(value), 1);
  }
}
