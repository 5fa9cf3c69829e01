/**
 * `axr compile`: delegates to the compiler (compiler/cli.ts, `compileMain(args)`),
 * which turns an ONNX model into a compiled model directory. When this build has
 * no compiler, prints a clear "not available" and exits with 2.
 *
 * @module
 */
import { ExitCode } from "./errors.ts";
import { err, out } from "./output.ts";

/** One line for `axr --help`. */
export const compileSummary = "compile an ONNX model into a model directory for the device (compiler/)";

/**
 * Runs `axr compile ARGS...`; returns the exit code.
 *
 * @example
 * ```ts
 * const code = await compileMain(["model.onnx", "-o", "build/model"]);
 * ```
 */
export async function compileMain(argv: string[]): Promise<number> {
  let mod: { compileMain?: (args: string[]) => Promise<number> } | undefined;
  try {
    // A literal specifier: bundlers (bun build --compile) include the compiler.
    mod = await import("../compiler/cli.ts");
  } catch (e) {
    const text = String((e as Error)?.message ?? e);
    if (!/not found|cannot find module|could not resolve|no such file/i.test(text) || !text.includes("cli.ts")) throw e;
    mod = undefined;
  }
  if (!mod || typeof mod.compileMain !== "function") {
    const help = argv.includes("--help") || argv.includes("-h");
    const msg = `axr compile: not available in this build (the compiler entry point compiler/cli.ts ` +
      `with compileMain(args) is missing)\n`;
    if (help) {
      out(`axr compile: ${compileSummary}\n\nUsage: axr compile [flags] MODEL.onnx\n\n${msg}`);
      return ExitCode.ok;
    }
    err(msg);
    return ExitCode.usage;
  }
  return await mod.compileMain(argv);
}
