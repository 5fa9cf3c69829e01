/**
 * Synchronous output for the `axr` command: writes go straight to the file
 * descriptors (node:fs writeSync works the same under Deno and Bun), so nothing
 * is lost when the command exits right after printing.
 *
 * @module
 */
import { writeSync } from "node:fs";
import { isatty } from "node:tty";

function writeAll(fd: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  while (off < bytes.length) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      // A non-blocking pipe that is full: retry; a closed pipe (EPIPE): give up quietly.
      if ((e as { code?: string }).code === "EAGAIN") continue;
      return;
    }
  }
}

/**
 * Writes text to stdout as is (add "\n" yourself).
 *
 * @example
 * ```ts
 * out("System FPS: 120.0\n");
 * ```
 */
export function out(text: string): void {
  writeAll(1, text);
}

/**
 * Writes text to stderr as is.
 *
 * @example
 * ```ts
 * err("axr: model not found\n");
 * ```
 */
export function err(text: string): void {
  writeAll(2, text);
}

/**
 * True when stdout is a terminal (then `run-model` shows a live progress line).
 *
 * @example
 * ```ts
 * if (stdoutIsTerminal()) out("\rprogress");
 * ```
 */
export function stdoutIsTerminal(): boolean {
  try {
    return isatty(1);
  } catch {
    return false;
  }
}
