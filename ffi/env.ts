/**
 * The process environment as the native library sees it (`getenv` in C).
 *
 * Setting: Deno's `Deno.env.set` already calls `setenv`; Bun's `process.env`
 * does not reach the C environment, so under Bun we call libc's
 * `setenv`/`unsetenv` as well. Used by tests and tools that configure the
 * emulated device (`AXR_EMU_DEVICES`, `AXR_EMU_STATE_DIR`, ...) in-process.
 *
 * Reading ({@link readNativeEnv}): the variables that choose and place the
 * native library (`AXR_LIBRARY`, the cache directories) are read like the
 * native library reads its own (`AXR_EMU_*`): under Deno without `--allow-env`
 * through libc's `getenv` (with `--allow-ffi`, which loading the library needs
 * anyway), so that they are never silently ignored.
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

let denoLibc: { getenv(name: Uint8Array): Any } | null = null;

function denoGetenv(name: string): string | undefined {
  const D = (globalThis as Any).Deno;
  if (!denoLibc) {
    const names = D.build.os === "darwin" ? ["libSystem.B.dylib"] : ["libc.so.6", "libc.so"];
    let last: unknown;
    for (const lib of names) {
      try {
        denoLibc = D.dlopen(lib, { getenv: { parameters: ["buffer"], result: "pointer" } }).symbols;
        break;
      } catch (e) {
        last = e;
      }
    }
    if (!denoLibc) throw last;
  }
  const p = denoLibc.getenv(z(name));
  return p === null ? undefined : D.UnsafePointerView.getCString(p);
}

/**
 * The value of `name` in the process environment (undefined when unset).
 * Under Deno it needs `--allow-env` or, failing that, `--allow-ffi` (read
 * through libc); with neither it throws Deno's `NotCapable` error.
 *
 * @example
 * ```ts
 * const path = readNativeEnv("AXR_LIBRARY");
 * ```
 */
export function readNativeEnv(name: string): string | undefined {
  const g = globalThis as Any;
  if ("Deno" in g) {
    try {
      return g.Deno.env.get(name) ?? undefined;
    } catch (e) {
      if (g.Deno.build.os === "windows") throw e;
      if (g.Deno.permissions.querySync({ name: "ffi" }).state !== "granted") throw e;
      return denoGetenv(name);
    }
  }
  return g.process?.env?.[name];
}
