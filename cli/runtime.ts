/**
 * Loads the public API (mod.ts) when a subcommand needs the device, so that
 * `axr --help`, usage errors and `axr bench --plot` never load the native
 * library.
 *
 * @module
 */

/** The public API module (`import * as axr from "../mod.ts"`). */
export type Runtime = typeof import("../mod.ts");

let cached: Promise<Runtime> | undefined;

/**
 * Imports mod.ts once.
 *
 * @example
 * ```ts
 * const axr = await loadRuntime();
 * using ctx = new axr.Context();
 * ```
 */
export function loadRuntime(): Promise<Runtime> {
  cached ??= import("../mod.ts");
  return cached;
}
