/**
 * The sha256 of each prebuilt native library, by platform key
 * ({@link ../ffi/platform.ts}): a library downloaded from beside the module
 * (the JSR route) is loaded only when its hash is in this table. Empty in the
 * repository (the library there is built locally and never downloaded);
 * `deno task pack` writes the filled table into `dist/jsr/ffi/library_hashes.ts`.
 *
 * @module
 */

/** Expected sha256 (lowercase hex) of `native/<key>/<file>`, by platform key. */
export const libraryHashes: Readonly<Record<string, string>> = {};
