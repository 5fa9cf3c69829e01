/**
 * Library files kept by content hash: the copy of a library downloaded from
 * beside the module (the JSR route) and the copy of a library embedded in a
 * compiled executable, each written once to a real file named by its sha256
 * and checked again every time it is reused. A file whose bytes do not match
 * the hash it should have is never returned: a corrupt cache entry is
 * replaced, a download that does not match is refused with
 * {@link LibraryIntegrityError}.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";

/**
 * A library whose sha256 is not the one it must have: never loaded.
 *
 * @example
 * ```ts
 * throw new LibraryIntegrityError("https://jsr.io/.../libaxr.so", "ab12...", "cd34...");
 * ```
 */
export class LibraryIntegrityError extends Error {
  /** Where the bytes came from. */
  readonly source: string;
  /** The sha256 the library must have (the table in `ffi/library_hashes.ts`). */
  readonly expected: string;
  /** The sha256 of the bytes received. */
  readonly actual: string;
  /**
   * An error naming the source and both hashes.
   *
   * @example
   * ```ts
   * new LibraryIntegrityError("native/linux-x86_64-gnu/libaxr.so", "ab12...", "cd34...");
   * ```
   */
  constructor(source: string, expected: string, actual: string) {
    super(`the library from ${source} has sha256 ${actual}, expected ${expected}: not loaded`);
    this.name = "LibraryIntegrityError";
    this.source = source;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * The lowercase hex sha256 of `bytes`.
 *
 * @example
 * ```ts
 * sha256Hex(new Uint8Array()); // "e3b0c442..."
 * ```
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The path of the cache entry for a library with sha256 `hash` in `dir`
 * (`libaxr-<hash>.so`, `.dylib`, or `.dll` after `file`'s extension).
 *
 * @example
 * ```ts
 * cachePath("/home/me/.cache/deno/axr-runtime", "libaxr.so", "ab12..."); // ".../libaxr-ab12....so"
 * ```
 */
export function cachePath(dir: string, file: string, hash: string): string {
  const dot = file.lastIndexOf(".");
  return join(dir, `${file.slice(0, dot)}-${hash}${file.slice(dot)}`);
}

/**
 * The state of the cache entry `path` for sha256 `hash`: `"valid"` when its
 * bytes hash to `hash`, `"missing"`, or `"corrupt"` (then it has been removed).
 *
 * @example
 * ```ts
 * const path = "/tmp/axr-lib-1000/libaxr-e3b0c442.so";
 * if (checkCacheEntry(path, "e3b0c442") === "valid") console.log("reuse", path);
 * ```
 */
export function checkCacheEntry(path: string, hash: string): "valid" | "missing" | "corrupt" {
  if (!existsSync(path)) return "missing";
  if (sha256Hex(readFileSync(path)) === hash) return "valid";
  rmSync(path, { force: true });
  return "corrupt";
}

/**
 * Stores `bytes` (whose sha256 is `hash`, checked here) as the cache entry
 * for `hash` in `dir` and returns its path. An entry already there is reused
 * only when its bytes match; a corrupt one is replaced. Written to a
 * temporary name and renamed, so that concurrent first runs never see half a
 * file.
 *
 * @example
 * ```ts
 * const bytes = Deno.readFileSync("zig-out/lib/libaxr.so");
 * const path = storeLibrary("/tmp/axr-lib-1000", "libaxr.so", bytes, sha256Hex(bytes));
 * ```
 */
export function storeLibrary(dir: string, file: string, bytes: Uint8Array, hash: string): string {
  const actual = sha256Hex(bytes);
  if (actual !== hash) throw new LibraryIntegrityError(file, hash, actual);
  const target = cachePath(dir, file, hash);
  if (checkCacheEntry(target, hash) === "valid") return target;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, bytes, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, target);
  return target;
}

/**
 * Downloads the library at `url`, checks its sha256 against `expected` and
 * stores it in `dir` (or reuses a valid entry there without a download).
 * Throws {@link LibraryIntegrityError} naming both hashes when the download
 * does not match, and the fetch error when it fails.
 *
 * @example
 * ```ts
 * const url = new URL("https://jsr.io/@axelera/runtime/0.1.0/native/linux-x86_64-gnu/libaxr.so");
 * const path = await downloadLibrary(url, "ab12...", "/home/me/.cache/deno/axr-runtime", "libaxr.so");
 * ```
 */
export async function downloadLibrary(url: URL, expected: string, dir: string, file: string): Promise<string> {
  const target = cachePath(dir, file, expected);
  if (checkCacheEntry(target, expected) === "valid") return target;
  const res = await fetch(url);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`GET ${url.href}: HTTP ${res.status}`);
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const actual = sha256Hex(bytes);
  if (actual !== expected) throw new LibraryIntegrityError(url.href, expected, actual);
  return storeLibrary(dir, file, bytes, expected);
}
