/**
 * The npm package's entry point under Bun (the `"bun"` export condition;
 * Deno and others take `mod.js`, the same API without this file).
 *
 * It imports the platform package's library `with { type: "file" }`, one
 * literal specifier per platform (`ffi/platform.ts` names them; `deno task
 * pack` checks that every one is here): under `bun run` that gives its path in
 * `node_modules`; under `bun build --compile` Bun embeds the file it resolved
 * and gives its path inside the executable, which the library search copies to
 * a real file by hash before `dlopen`. A platform package that is not
 * installed leaves the other sources (listed in the error when none works).
 *
 * @module
 */
import process from "node:process";
import { registerPackagedLibrary } from "../ffi/library.ts";

export * from "../mod.ts";

async function platformLibrary(): Promise<string | undefined> {
  const { platform, arch } = process;
  // deno-lint-ignore no-explicit-any
  const file = (m: any): string => m.default;
  try {
    if (platform === "linux" && arch === "x64") {
      return file(await import("@axelera/runtime-linux-x64-gnu/libaxr.so", { with: { type: "file" } }));
    }
    if (platform === "linux" && arch === "arm64") {
      return file(await import("@axelera/runtime-linux-arm64-gnu/libaxr.so", { with: { type: "file" } }));
    }
    if (platform === "darwin" && arch === "arm64") {
      return file(await import("@axelera/runtime-darwin-arm64/libaxr.dylib", { with: { type: "file" } }));
    }
    if (platform === "darwin" && arch === "x64") {
      return file(await import("@axelera/runtime-darwin-x64/libaxr.dylib", { with: { type: "file" } }));
    }
    if (platform === "win32" && arch === "x64") {
      return file(await import("@axelera/runtime-win32-x64/axr.dll", { with: { type: "file" } }));
    }
  } catch {
    // not installed: the search goes on (resolving it from node_modules is tried and reported there)
  }
  return undefined;
}

const lib = await platformLibrary();
if (lib) registerPackagedLibrary(lib);
