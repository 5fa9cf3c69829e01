/**
 * The platforms the native library is prebuilt for: one table shared by the
 * library resolution (which file and which npm package to look for) and by
 * `deno task pack` (what to build and how to name it).
 *
 * @module
 */
import process from "node:process";

/** One prebuilt native library: where it comes from and how it is named. */
export interface NativePlatform {
  /** Directory name in the JSR package (`native/<key>/`) and key of the hash table. */
  readonly key: string;
  /** `zig build -Dtarget=...`. */
  readonly zigTarget: string;
  /** `process.platform` (also npm's `os` field). */
  readonly os: string;
  /** `process.arch` (also npm's `cpu` field). */
  readonly cpu: string;
  /** npm's `libc` field (Linux only). */
  readonly libc?: string;
  /** The npm package that carries this library. */
  readonly npmPackage: string;
  /** The library's file name (as installed by zig and in every package). */
  readonly file: string;
  /** Where `zig build --prefix P` puts it, relative to P. */
  readonly zigOut: string;
  /** Whether `deno task pack` builds it (Zig cross-builds it cleanly). */
  readonly prebuilt: boolean;
}

/** Every platform in build order: the Linux ones must build; the others are built where Zig can. */
export const nativePlatforms: readonly NativePlatform[] = [
  {
    key: "linux-x86_64-gnu",
    zigTarget: "x86_64-linux-gnu",
    os: "linux",
    cpu: "x64",
    libc: "glibc",
    npmPackage: "@axelera/runtime-linux-x64-gnu",
    file: "libaxr.so",
    zigOut: "lib/libaxr.so",
    prebuilt: true,
  },
  {
    key: "linux-aarch64-gnu",
    zigTarget: "aarch64-linux-gnu",
    os: "linux",
    cpu: "arm64",
    libc: "glibc",
    npmPackage: "@axelera/runtime-linux-arm64-gnu",
    file: "libaxr.so",
    zigOut: "lib/libaxr.so",
    prebuilt: true,
  },
  {
    key: "macos-aarch64",
    zigTarget: "aarch64-macos",
    os: "darwin",
    cpu: "arm64",
    npmPackage: "@axelera/runtime-darwin-arm64",
    file: "libaxr.dylib",
    zigOut: "lib/libaxr.dylib",
    prebuilt: true,
  },
  {
    key: "macos-x86_64",
    zigTarget: "x86_64-macos",
    os: "darwin",
    cpu: "x64",
    npmPackage: "@axelera/runtime-darwin-x64",
    file: "libaxr.dylib",
    zigOut: "lib/libaxr.dylib",
    prebuilt: true,
  },
  {
    key: "windows-x86_64",
    zigTarget: "x86_64-windows-gnu",
    os: "win32",
    cpu: "x64",
    npmPackage: "@axelera/runtime-win32-x64",
    file: "axr.dll",
    zigOut: "bin/axr.dll",
    // not yet: the emulator uses POSIX file locks, fstatat and getenv (zig build fails)
    prebuilt: false,
  },
];

/**
 * The entry of {@link nativePlatforms} for this process's OS and CPU, or
 * undefined when none is prebuilt for it (e.g. Linux with musl is not).
 *
 * @example
 * ```ts
 * console.log(currentPlatform()?.npmPackage); // "@axelera/runtime-linux-x64-gnu" on a PC
 * ```
 */
export function currentPlatform(): NativePlatform | undefined {
  return nativePlatforms.find((p) => p.os === process.platform && p.cpu === process.arch);
}

/** `<os>-<cpu>` of this process, for messages. */
export function platformName(): string {
  return `${process.platform}-${process.arch}`;
}
