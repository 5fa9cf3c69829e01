/**
 * Which native library the runtime uses, and the hook that points it at one.
 *
 * @module
 */
import { LibraryNotFoundError, native, registerEmbeddedLibrary } from "../ffi/native.ts";

export { LibraryNotFoundError, registerEmbeddedLibrary };

/**
 * Facts about the loaded native library (loads it if needed).
 *
 * @example
 * ```ts
 * const { path, runtime, apiVersion, extensions } = libraryInfo();
 * ```
 */
export function libraryInfo(): { path: string; runtime: "deno" | "bun"; apiVersion: number; extensions: boolean } {
  const n = native();
  return { path: n.path, runtime: n.runtime, apiVersion: n.apiVersion(), extensions: n.hasInstanceStats };
}
