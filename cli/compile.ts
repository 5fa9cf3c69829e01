/**
 * `axr compile`: delegates to the compiler (compiler/cli.ts, `compileMain(args)`),
 * which turns an ONNX model into a compiled model directory. Imported when the
 * command runs, so `axr devices` never loads the compiler.
 *
 * @module
 */

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
  const { compileMain: run } = await import("../compiler/cli.ts");
  return await run(argv);
}
