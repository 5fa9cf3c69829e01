/**
 * The progress report of `axr run-model`: a live line rewritten in place on a
 * terminal, plain lines (one per second) when stdout is a pipe or a file.
 *
 * @module
 */

/**
 * Progress of a timed run.
 *
 * @example
 * ```ts
 * import process from "node:process";
 * const p = new Progress({ seconds: 10, terminal: true, write: (s) => process.stderr.write(s) });
 * p.update(1.5, 300); // "\r  1.5/10.0 s  300 frames  200.0 fps"
 * p.finish();
 * ```
 */
export class Progress {
  readonly #seconds: number;
  readonly #terminal: boolean;
  readonly #write: (text: string) => void;
  #lastShown = -Infinity;
  #shownLength = 0;

  /**
   * @param options `seconds`: planned duration; `terminal`: rewrite one line
   *   (else print a plain line each second); `write`: where text goes
   */
  constructor(options: { seconds: number; terminal: boolean; write: (text: string) => void }) {
    this.#seconds = options.seconds;
    this.#terminal = options.terminal;
    this.#write = options.write;
  }

  /** Reports `frames` completed after `elapsed` seconds; prints at most 10x (terminal) or 1x (plain) per second. */
  update(elapsed: number, frames: number): void {
    const interval = this.#terminal ? 0.1 : 1;
    if (elapsed - this.#lastShown < interval) return;
    if (!this.#terminal && elapsed < 1) return;
    this.#lastShown = elapsed;
    const fps = elapsed > 0 ? frames / elapsed : 0;
    const text = `  ${elapsed.toFixed(1)}/${this.#seconds.toFixed(1)} s  ${frames} frames  ${fps.toFixed(1)} fps`;
    if (this.#terminal) {
      this.#write(`\r${text.padEnd(this.#shownLength)}`);
      this.#shownLength = text.length;
    } else {
      this.#write(`progress: ${text.trim()}\n`);
    }
  }

  /** Clears the live line (terminal) so the results start on a clean line. */
  finish(): void {
    if (this.#terminal && this.#shownLength > 0) {
      this.#write(`\r${" ".repeat(this.#shownLength)}\r`);
      this.#shownLength = 0;
    }
  }
}
