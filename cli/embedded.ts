/**
 * The native library inside a single-file executable.
 *
 * `bun build --compile` embeds `zig-out/lib/libaxr.so` as a file of the
 * executable's virtual file system (`/$bunfs/...`), which the dynamic loader
 * cannot open. {@link materializeLibrary} copies it once to a real file in the
 * temp directory (named by its content hash, so that runs share it and versions
 * never collide); {@link useEmbeddedLibrary} then points the runtime at it,
 * unless the user chose a library with `AXR_LIBRARY`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import process from "node:process";

/**
 * Copies the library at `embeddedPath` (readable with node:fs, e.g. a
 * `/$bunfs/` path) to a real file and returns that file's path.
 *
 * @example
 * ```ts
 * const real = materializeLibrary(embeddedPath); // a path inside the executable
 * ```
 */
export function materializeLibrary(embeddedPath: string): string {
  const bytes = readFileSync(embeddedPath);
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 16);
  let user = "user";
  try {
    user = String(userInfo().uid);
  } catch { /* no passwd entry */ }
  const dir = join(tmpdir(), `axr-lib-${user}`);
  const target = join(dir, `libaxr-${hash}.so`);
  if (existsSync(target) && statSync(target).size === bytes.length) return target;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes, { mode: 0o755 });
  chmodSync(tmp, 0o755);
  renameSync(tmp, target); // atomic: concurrent first runs do not see half a file
  return target;
}

/**
 * Makes the runtime load the library embedded at `embeddedPath`: copied to a
 * real file, then handed to `register` (the API's `registerEmbeddedLibrary` hook)
 * when given, else through `AXR_LIBRARY`. A library the user named in
 * `AXR_LIBRARY` wins. Returns the path used, or undefined when the user's wins.
 *
 * @example
 * ```ts
 * import lib from "../zig-out/lib/libaxr.so" with { type: "file" };
 * useEmbeddedLibrary(lib);
 * ```
 */
export function useEmbeddedLibrary(embeddedPath: string, register?: (path: string) => void): string | undefined {
  if (process.env.AXR_LIBRARY) return undefined;
  const real = materializeLibrary(embeddedPath);
  if (register) register(real);
  else process.env.AXR_LIBRARY = real;
  return real;
}
