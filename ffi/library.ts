/**
 * Finding and opening the native library, once per process.
 *
 * Sources, in this order; when none works, the error lists every one with
 * why it did not serve:
 * 1. env `AXR_LIBRARY`: any libaxruntime-compatible library (the vendor's
 *    `libaxruntime.so` included, for real hardware). When set, it is the only
 *    source tried: the user's explicit choice never falls back.
 * 2. the platform's npm package (`@axelera/runtime-linux-x64-gnu`, ...; see
 *    `ffi/platform.ts`), resolved from `node_modules` beside the module;
 * 3. the library beside the module when `import.meta.url` is `file:`: the one
 *    built in a checkout (`zig-out/lib/libaxr.so`), or `native/<platform>/`
 *    of an unpacked JSR package (also what `deno compile --include` embeds);
 * 4. when `import.meta.url` is `http(s):` (the JSR route): `native/<platform>/`
 *    fetched from beside the module, its sha256 checked against
 *    `ffi/library_hashes.ts`, cached by hash in Deno's cache directory (a
 *    top-level await does this on import, before the first use);
 * 5. the copy embedded in a compiled executable ({@link registerEmbeddedLibrary};
 *    `bun build --compile` embeds the platform package's file), written to a
 *    real file named by its hash before `dlopen`.
 *
 * A source that a missing Deno permission keeps from being tried makes the
 * error a {@link LibraryPermissionError} naming the flag; a library whose hash
 * does not match is never loaded ({@link LibraryIntegrityError}).
 *
 * @module
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import type { Backend } from "./backend.ts";
import { openBun } from "./bun.ts";
import { openDeno } from "./deno.ts";
import { readNativeEnv } from "./env.ts";
import { downloadLibrary, LibraryIntegrityError, sha256Hex, storeLibrary } from "./library_cache.ts";
import { libraryHashes } from "./library_hashes.ts";
import { currentPlatform, platformName } from "./platform.ts";

export { LibraryIntegrityError } from "./library_cache.ts";

/** The JS runtime we run under, detected once. */
export const jsRuntime: "deno" | "bun" | "other" = "Bun" in globalThis
  ? "bun"
  : "Deno" in globalThis
  ? "deno"
  : "other";

/** Raised when no library can be found or opened; lists where it looked. */
export class LibraryNotFoundError extends Error {
  /** Every source tried, with why it did not serve. */
  readonly tried: readonly string[];
  /**
   * An error listing every source tried and how to get a library.
   *
   * @example
   * ```ts
   * throw new LibraryNotFoundError(["zig-out/lib/libaxr.so: missing"]);
   * ```
   */
  constructor(tried: readonly string[], lead = "cannot load the native library libaxr") {
    super(
      `${lead}. Tried:\n` + tried.map((t) => "  - " + t).join("\n") +
        "\nInstall the package for your platform (`deno add jsr:@axelera/runtime`, `bun add @axelera/runtime`), " +
        "build it in a checkout (`./dev deno task build`), or set AXR_LIBRARY to the path of a " +
        "libaxruntime-compatible library.",
    );
    this.name = "LibraryNotFoundError";
    this.tried = tried;
  }
}

/**
 * No library could be loaded and at least one source was not tried because a
 * Deno permission is missing: {@link flags} names them.
 */
export class LibraryPermissionError extends LibraryNotFoundError {
  /** The Deno flags that would let the missing sources be tried, e.g. `["--allow-net=jsr.io"]`. */
  readonly flags: readonly string[];
  /**
   * An error naming the missing permission flags and every source tried.
   *
   * @example
   * ```ts
   * throw new LibraryPermissionError(["--allow-read"], ["native/linux-x86_64-gnu/libaxr.so: needs --allow-read"]);
   * ```
   */
  constructor(flags: readonly string[], tried: readonly string[]) {
    super(tried, `cannot load the native library libaxr: run again with ${flags.join(" ")}`);
    this.name = "LibraryPermissionError";
    this.flags = flags;
  }
}

/** The library is used from a JS runtime it does not support (Node.js, a browser). */
export class UnsupportedRuntimeError extends Error {
  /** The runtimes that are supported. */
  readonly supported: readonly string[] = ["Deno 2", "Bun 1.x"];
  /**
   * An error naming the supported runtimes.
   *
   * @example
   * ```ts
   * throw new UnsupportedRuntimeError("Node.js v24.10.0");
   * ```
   */
  constructor(runtime: string) {
    super(
      `@axelera/runtime runs under Deno 2 or Bun 1.x (it loads its native library through their FFI); this is ${runtime}`,
    );
    this.name = "UnsupportedRuntimeError";
  }
}

// deno-lint-ignore no-explicit-any
type Any = any;
const g = globalThis as Any;

/** A path registered by a package entry point or a compiled executable. */
let packaged: string | undefined;
let embedded: string | undefined;
let loaded: Backend | undefined;
let loadedFrom: string | undefined;

/** True for a file inside a `bun build --compile` executable (`/$bunfs/...`, `B:\~BUN\...`). */
function isEmbeddedPath(path: string): boolean {
  return path.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(path);
}

/**
 * The hook for single-file executables: names a library file to use when no
 * earlier source serves (see the module's search order). The path may be a
 * file inside the executable (`/$bunfs/...` from an import `with { type:
 * "file" }`): it is copied to a real file named by its hash before `dlopen`.
 * Must be called before the first use of the API.
 *
 * @example
 * ```ts
 * registerEmbeddedLibrary("/tmp/axr-lib-1000/libaxr-0123abcd.so");
 * ```
 */
export function registerEmbeddedLibrary(path: string): void {
  embedded = path;
}

/**
 * For the npm package's Bun entry point: the platform package's library as Bun
 * resolved it (`import ... with { type: "file" }`): a real path when installed
 * in `node_modules`, a path inside the executable after `bun build --compile`
 * (then it counts as the embedded copy).
 *
 * @example
 * ```ts
 * registerPackagedLibrary("/app/node_modules/@axelera/runtime-linux-x64-gnu/libaxr.so");
 * ```
 */
export function registerPackagedLibrary(path: string): void {
  if (isEmbeddedPath(path)) embedded ??= path;
  else packaged = path;
}

function open(path: string): Backend {
  return jsRuntime === "bun" ? openBun(path) : openDeno(path);
}

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split("\n")[0];
}

function isNotCapable(e: unknown): boolean {
  const D = g.Deno;
  return !!D &&
    (e instanceof (D.errors.NotCapable ?? D.errors.PermissionDenied) || e instanceof D.errors.PermissionDenied);
}

/** The flag Deno asks for in a NotCapable message ("run again with the --allow-read flag"). */
function flagOf(e: unknown, fallback: string): string {
  return /(--allow-[a-z]+)/.exec(firstLine(e))?.[1] ?? fallback;
}

/** Deno's permission state for `desc` (always granted outside Deno). */
function granted(desc: Any): boolean {
  if (jsRuntime !== "deno") return true;
  return g.Deno.permissions.querySync(desc).state === "granted";
}

/** The directory for downloaded libraries: Deno's cache directory (`DENO_DIR`, else the platform's default). */
function downloadCacheDir(): string {
  const denoDir = readNativeEnv("DENO_DIR");
  if (denoDir) return join(denoDir, "axr-runtime");
  const os = g.Deno?.build?.os ?? g.process?.platform;
  if (os === "windows" || os === "win32") {
    const local = readNativeEnv("LOCALAPPDATA");
    if (local) return join(local, "deno", "axr-runtime");
  }
  const xdg = readNativeEnv("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "deno", "axr-runtime");
  const home = readNativeEnv("HOME");
  if (!home) throw new Error("no cache directory: DENO_DIR, XDG_CACHE_HOME and HOME are unset");
  return os === "darwin"
    ? join(home, "Library", "Caches", "deno", "axr-runtime")
    : join(home, ".cache", "deno", "axr-runtime");
}

/** The outcome of the JSR route, settled on import (top-level await) before any use. */
type Remote = { path: string } | { problem: string; flags?: string[]; integrity?: LibraryIntegrityError };

const remoteUrl = /^https?:$/.test(new URL(import.meta.url).protocol) ? import.meta.url : undefined;

async function fetchRemote(moduleUrl: string): Promise<Remote> {
  const plat = currentPlatform();
  if (!plat) return { problem: `no prebuilt library for ${platformName()}` };
  const url = new URL(`../native/${plat.key}/${plat.file}`, moduleUrl);
  const expected = libraryHashes[plat.key];
  if (!expected) return { problem: `${url.href}: no sha256 for ${plat.key} in ffi/library_hashes.ts` };
  let dir: string;
  try {
    dir = downloadCacheDir();
  } catch (e) {
    return isNotCapable(e)
      ? { problem: `${url.href}: cannot read the cache location (${firstLine(e)})`, flags: ["--allow-env"] }
      : { problem: `${url.href}: ${firstLine(e)}` };
  }
  const flags: string[] = [];
  if (!granted({ name: "net", host: url.host })) flags.push(`--allow-net=${url.host}`);
  if (!granted({ name: "read", path: dir })) flags.push(`--allow-read=${dir}`);
  if (!granted({ name: "write", path: dir })) flags.push(`--allow-write=${dir}`);
  if (flags.length) return { problem: `${url.href}: download and cache in ${dir} need ${flags.join(" ")}`, flags };
  try {
    return { path: await downloadLibrary(url, expected, dir, plat.file) };
  } catch (e) {
    if (e instanceof LibraryIntegrityError) return { problem: e.message, integrity: e };
    return { problem: `${url.href}: ${firstLine(e)}`, flags: isNotCapable(e) ? [flagOf(e, "--allow-net")] : undefined };
  }
}

/** Whether AXR_LIBRARY is set, without failing when it cannot be read. */
function envLibrary(): { value?: string; flag?: string; problem?: string } {
  try {
    return { value: readNativeEnv("AXR_LIBRARY") || undefined };
  } catch (e) {
    return { problem: firstLine(e), flag: "--allow-env=AXR_LIBRARY" };
  }
}

const remote: Remote | undefined = remoteUrl && jsRuntime === "deno" && !envLibrary().value
  ? await fetchRemote(remoteUrl)
  : undefined;

/** The embedded library as a real file: `/$bunfs/` copies are written to `$TMPDIR/axr-lib-<uid>/` by hash. */
function materialize(path: string): string {
  if (!isEmbeddedPath(path)) return path;
  const bytes = readFileSync(path);
  let user = "user";
  try {
    user = String(userInfo().uid);
  } catch { /* no passwd entry */ }
  const file = path.replace(/^.*[\\/]/, "").replace(/-[0-9a-z]{8}(\.[a-z]+)$/, "$1"); // Bun adds a content hash
  return storeLibrary(join(tmpdir(), `axr-lib-${user}`), file, bytes, sha256Hex(bytes));
}

/** The platform package's library resolved from node_modules beside this module. */
function resolvePackage(): string {
  const plat = currentPlatform();
  if (!plat) throw new Error(`no platform package for ${platformName()}`);
  return createRequire(import.meta.url).resolve(`${plat.npmPackage}/${plat.file}`);
}

/**
 * The opened library (opened on first call; the same object afterwards).
 * Throws {@link UnsupportedRuntimeError} outside Deno and Bun, else
 * {@link LibraryNotFoundError} (or its {@link LibraryPermissionError}) listing
 * every source tried, or {@link LibraryIntegrityError} when the only library
 * found does not have its published hash.
 *
 * @example
 * ```ts
 * const lib = nativeLibrary();
 * console.log(lib.path, lib.symbols.axr_api_version());
 * ```
 */
export function nativeLibrary(): Backend {
  if (loaded) return loaded;
  if (jsRuntime === "other") {
    const node = g.process?.versions?.node;
    throw new UnsupportedRuntimeError(node ? `Node.js v${node}` : "an unknown JS runtime");
  }
  const tried: string[] = [];
  const flags: string[] = [];
  let integrity: LibraryIntegrityError | undefined;
  const attempt = (origin: string, path: string): boolean => {
    try {
      loaded = open(path);
      loadedFrom = origin;
      return true;
    } catch (e) {
      if (isNotCapable(e)) flags.push(flagOf(e, "--allow-ffi"));
      tried.push(`${origin}: ${path}: ${firstLine(e)}`);
      return false;
    }
  };

  // 1. AXR_LIBRARY: when set, the only source.
  const env = envLibrary();
  if (env.value) {
    if (attempt("env AXR_LIBRARY", env.value)) return loaded!;
    throw new LibraryNotFoundError(tried);
  }
  if (env.flag) {
    tried.push(`env AXR_LIBRARY: not readable (${env.problem})`);
    flags.push(env.flag);
  } else tried.push("env AXR_LIBRARY: not set");

  // 2. The platform's npm package.
  const plat = currentPlatform();
  if (packaged) {
    if (attempt(`npm package ${plat?.npmPackage ?? ""}`.trim(), packaged)) return loaded!;
  } else if (new URL(import.meta.url).protocol === "file:") {
    try {
      if (attempt(`npm package ${plat?.npmPackage}`, resolvePackage())) return loaded!;
    } catch (e) {
      if (isNotCapable(e)) flags.push(flagOf(e, "--allow-read"));
      tried.push(`npm package ${plat?.npmPackage ?? `for ${platformName()}`}: ${firstLine(e)}`);
    }
  } else tried.push(`npm package: not applicable (the module was loaded from ${new URL(import.meta.url).protocol})`);

  // 3. Beside the module (file:).
  if (new URL(import.meta.url).protocol === "file:") {
    const beside = [new URL("../zig-out/lib/libaxr.so", import.meta.url)];
    if (plat) beside.push(new URL(`../native/${plat.key}/${plat.file}`, import.meta.url));
    for (const url of beside) {
      if (attempt("beside the module", decodeURIComponent(url.pathname))) return loaded!;
    }
  } else {tried.push(
      `beside the module: not applicable (the module was loaded from ${new URL(import.meta.url).protocol})`,
    );}

  // 4. Downloaded from beside the module (http(s): the JSR route), settled on import.
  if (remote && "path" in remote) {
    if (attempt("downloaded, sha256 verified", remote.path)) return loaded!;
  } else if (remote) {
    tried.push(`download: ${remote.problem}`);
    if (remote.flags) flags.push(...remote.flags);
    integrity ??= remote.integrity;
  } else if (remoteUrl) tried.push("download: not tried (Deno only)");
  else tried.push("download: not applicable (the module was loaded from file:)");

  // 5. The copy embedded in a compiled executable.
  if (embedded) {
    let real: string | undefined;
    try {
      real = materialize(embedded);
    } catch (e) {
      if (isNotCapable(e)) flags.push(flagOf(e, "--allow-write"));
      tried.push(`embedded in the executable: ${embedded}: ${firstLine(e)}`);
    }
    if (real && attempt("embedded in the executable", real)) return loaded!;
  } else tried.push("embedded in the executable: none registered");

  if (integrity) throw integrity;
  if (flags.length) throw new LibraryPermissionError([...new Set(flags)], tried);
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

/**
 * Which source the open library came from (`"env AXR_LIBRARY"`, `"npm package
 * ..."`, `"beside the module"`, `"downloaded, sha256 verified"`, `"embedded in
 * the executable"`), or undefined before it is opened.
 *
 * @example
 * ```ts
 * console.log(librarySource());
 * ```
 */
export function librarySource(): string | undefined {
  return loadedFrom;
}
