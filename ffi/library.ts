/**
 * Finding and opening the native library, once per process.
 *
 * Search order:
 * 1. env `AXR_LIBRARY`: any libaxruntime-compatible library (the vendor's
 *    `libaxruntime.so` included, for real hardware);
 * 2. a library registered with {@link registerEmbeddedLibrary} (a single-file
 *    executable that carries its own copy);
 * 3. the library built in this repository (`zig-out/lib/libaxr.so`, next to
 *    `ffi/`): `./dev deno task build`.
 *
 * @module
 */
import type { Backend } from "./backend.ts";
import { openBun } from "./bun.ts";
import { openDeno } from "./deno.ts";

/** The JS runtime we run under, detected once. */
export const jsRuntime: "deno" | "bun" | "other" = "Bun" in globalThis
  ? "bun"
  : "Deno" in globalThis
  ? "deno"
  : "other";

/** Raised when no library can be found or opened; lists where it looked. */
export class LibraryNotFoundError extends Error {
  /** Every place tried, with why it failed. */
  readonly tried: readonly string[];
  /**
   * An error listing every place tried and how to get a library.
   *
   * @example
   * ```ts
   * throw new LibraryNotFoundError(["zig-out/lib/libaxr.so: missing"]);
   * ```
   */
  constructor(tried: readonly string[]) {
    super(
      "cannot load the native library libaxr. Tried:\n" + tried.map((t) => "  - " + t).join("\n") +
        "\nBuild it with `./dev deno task build` (zig build -Doptimize=ReleaseSafe), or set AXR_LIBRARY " +
        "to the path of a libaxruntime-compatible library.",
    );
    this.name = "LibraryNotFoundError";
    this.tried = tried;
  }
}

let embedded: string | undefined;
let loaded: Backend | undefined;

/**
 * The hook for single-file executables: names the path of a library file
 * (already written to a real file) to use when `AXR_LIBRARY` is unset. Must
 * be called before the first use of the API; later calls have no effect on
 * an already opened library.
 *
 * @example
 * ```ts
 * registerEmbeddedLibrary("/tmp/axr-lib-1000/libaxr-0123abcd.so");
 * ```
 */
export function registerEmbeddedLibrary(path: string): void {
  embedded = path;
}

function env(name: string): string | undefined {
  // deno-lint-ignore no-explicit-any
  const g = globalThis as any;
  try {
    if (g.Deno?.env) return g.Deno.env.get(name) ?? undefined;
  } catch {
    return undefined; // no --allow-env
  }
  return g.process?.env?.[name];
}

function fileOf(url: URL): string {
  return decodeURIComponent(url.pathname);
}

/**
 * The candidate paths in search order, each with its origin.
 *
 * @example
 * ```ts
 * for (const c of libraryCandidates()) console.log(c.origin, c.path);
 * ```
 */
export function libraryCandidates(): { origin: string; path: string }[] {
  const out: { origin: string; path: string }[] = [];
  const fromEnv = env("AXR_LIBRARY");
  if (fromEnv) out.push({ origin: "env AXR_LIBRARY", path: fromEnv });
  if (embedded) out.push({ origin: "embedded library", path: embedded });
  const repo = new URL("../zig-out/lib/libaxr.so", import.meta.url);
  if (repo.protocol === "file:") out.push({ origin: "built in the repository", path: fileOf(repo) });
  return out;
}

function open(path: string): Backend {
  if (jsRuntime === "bun") return openBun(path);
  if (jsRuntime === "deno") return openDeno(path);
  throw new Error("unsupported JS runtime: @axelera/runtime needs Deno or Bun");
}

/**
 * The opened library (opened on first call; the same object afterwards).
 * Throws {@link LibraryNotFoundError} listing every place tried.
 *
 * @example
 * ```ts
 * const lib = nativeLibrary();
 * console.log(lib.path, lib.symbols.axr_api_version());
 * ```
 */
export function nativeLibrary(): Backend {
  if (loaded) return loaded;
  const tried: string[] = [];
  for (const c of libraryCandidates()) {
    try {
      loaded = open(c.path);
      return loaded;
    } catch (e) {
      tried.push(`${c.path} (${c.origin}): ${(e as Error).message.split("\n")[0]}`);
      if (c.origin === "env AXR_LIBRARY") break; // the user's explicit choice: no silent fallback
    }
  }
  throw new LibraryNotFoundError(tried);
}

/**
 * The library if it is already open, else undefined (never opens it).
 *
 * @example
 * ```ts
 * if (loadedLibrary()) console.log("native library in use");
 * ```
 */
export function loadedLibrary(): Backend | undefined {
  return loaded;
}
