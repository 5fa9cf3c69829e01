/**
 * Exit codes of the `axr` command and the errors that carry them.
 *
 * Scripts can rely on these codes (documented in docs/cli.md):
 * 0 ok, 1 runtime failure (device error), 2 usage error (bad flags),
 * 3 file not found or bad model.
 *
 * @module
 */

/**
 * The exit codes of `axr`.
 *
 * @example
 * ```ts
 * const code = exitCodeOf(new UsageError("unknown flag --fast"));
 * if (code === ExitCode.usage) console.error("see axr --help");
 * ```
 */
export const ExitCode = {
  /** Success. */
  ok: 0,
  /** The runtime or the device failed (connection, device in use, run error). */
  runtime: 1,
  /** Bad command line: unknown flag, missing or malformed value, unknown subcommand. */
  usage: 2,
  /** A file is missing or is not a valid model. */
  file: 3,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCodeValue = typeof ExitCode[keyof typeof ExitCode];

/**
 * A command line error; `axr` prints the message and exits with 2.
 *
 * @example
 * ```ts
 * throw new UsageError("--seconds needs a positive number, got 'x'");
 * ```
 */
export class UsageError extends Error {
  /** Always {@link ExitCode.usage}. */
  readonly exitCode: ExitCodeValue = ExitCode.usage;
  /** The subcommand whose help the user should read, or "" for the top level. */
  readonly command: string;
  /**
   * @param message what is wrong, naming the flag and the value given
   * @param command the subcommand ("run-model", ...) or "" for `axr` itself
   */
  constructor(message: string, command = "") {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/**
 * A missing file or a file that is not a valid model; `axr` exits with 3.
 *
 * @example
 * ```ts
 * throw new FileError("model not found: build/x/model.json");
 * ```
 */
export class FileError extends Error {
  /** Always {@link ExitCode.file}. */
  readonly exitCode: ExitCodeValue = ExitCode.file;
  /**
   * @param message what is wrong, naming the file
   * @param options `cause`: the underlying error
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "FileError";
  }
}

/**
 * A failure of the runtime or the device that the command reports as such; exit code 1.
 *
 * @example
 * ```ts
 * throw new RuntimeFailure("device metis-0:1:0 did not become ready in 10 s");
 * ```
 */
export class RuntimeFailure extends Error {
  /** Always {@link ExitCode.runtime}. */
  readonly exitCode: ExitCodeValue = ExitCode.runtime;
  /**
   * @param message what failed
   * @param options `cause`: the underlying error
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RuntimeFailure";
  }
}

/**
 * The exit code for any error thrown by a subcommand: the code the error carries
 * (UsageError, FileError, RuntimeFailure), else 1 (runtime failure).
 *
 * @example
 * ```ts
 * exitCodeOf(new UsageError("bad")); // 2
 * exitCodeOf(new Error("boom"));     // 1
 * ```
 */
export function exitCodeOf(error: unknown): ExitCodeValue {
  if (error && typeof error === "object" && "exitCode" in error) {
    const code = (error as { exitCode: unknown }).exitCode;
    if (code === 0 || code === 1 || code === 2 || code === 3) return code;
  }
  return ExitCode.runtime;
}
