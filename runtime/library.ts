/**
 * Which native library the runtime uses, the hook that points it at one, and
 * the errors of the search (see `ffi/library.ts` for the order of sources).
 *
 * @module
 */
import {
  LibraryIntegrityError,
  LibraryNotFoundError,
  LibraryPermissionError,
  librarySource,
  native,
  registerEmbeddedLibrary,
  UnsupportedRuntimeError,
} from "../ffi/native.ts";

export {
  LibraryIntegrityError,
  LibraryNotFoundError,
  LibraryPermissionError,
  registerEmbeddedLibrary,
  UnsupportedRuntimeError,
};

/**
 * Facts about the loaded native library (loads it if needed): its path, the
 * source it came from (`"env AXR_LIBRARY"`, `"npm package ..."`, `"beside the
 * module"`, `"downloaded, sha256 verified"`, `"embedded in the executable"`),
 * the JS runtime, the C API version and whether it has libaxr's extensions.
 *
 * @example
 * ```ts
 * const { path, source, runtime, apiVersion, extensions } = libraryInfo();
 * ```
 */
export function libraryInfo(): {
  path: string;
  source: string;
  runtime: "deno" | "bun";
  apiVersion: number;
  extensions: boolean;
} {
  const n = native();
  return {
    path: n.path,
    source: librarySource() ?? "",
    runtime: n.runtime,
    apiVersion: n.apiVersion(),
    extensions: n.hasInstanceStats,
  };
}
