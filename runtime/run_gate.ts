/**
 * When `ModelInstance.runAsync()` runs the native call on the calling thread
 * instead of handing it to another thread.
 *
 * Handing a run to another thread and back costs 5-60 us on a 2-core VM (Deno's
 * nonblocking FFI call, Bun's Worker round trip): two thread wake-ups, each one a
 * halted virtual CPU woken by an interrupt when the machine is quiet. A run that takes
 * less than that finishes sooner, and holds the event loop no longer than the
 * hand-off would have taken, when it runs where it was called. So an idle instance
 * whose last measured run took at most {@link runGateSettings}`.inlineMaxMs` runs
 * inline; every inline run is timed again, so a run that grows longer goes back to the
 * other thread. A run is only known to be short once measured on this thread (`run()`
 * or an inline run): a hand-off whose round trip stays under `probeMaxMs` tries one
 * inline run, and after a probe that was too long the gate waits twice as many hand-offs
 * before the next one (at most 256), so a model whose runs take between the two bounds
 * rarely holds the event loop.
 *
 * Measured on the 2-core VM of the project (guest cpuidle `haltpoll` with
 * `guest_halt_poll_ns=0`: an idle virtual CPU halts at once): Deno's nonblocking call of a
 * trivial symbol took a median 8.7 us over 56 samples taken while both CPUs were busy, and
 * 12-53 us when 12-48% of the CPU was idle; a futex ping-pong between two threads took
 * 3-8 us throughout. In the same runs, a persistent native worker thread that reports
 * completion through a `Deno.UnsafeCallback.threadSafe` callback took 11-13 us steadily
 * where the nonblocking call took 22-89 us: the way to cheaper hand-offs for longer runs.
 *
 * @module
 */

/**
 * The gate's bounds (ms), shared by every instance. `inlineMaxMs: 0` turns inline runs
 * off (every runAsync() hands off; the tests of the thread hop use it).
 *
 * @example
 * ```ts
 * runGateSettings.inlineMaxMs = 0; // always hand off
 * ```
 */
export const runGateSettings: { inlineMaxMs: number; probeMaxMs: number } = {
  inlineMaxMs: 0.05,
  probeMaxMs: 0.5,
};

/**
 * The per-instance state of the gate: the last run measured on the JS thread and the
 * hand-offs to wait before the next probe.
 *
 * @example
 * ```ts
 * const gate = new RunGate();
 * gate.ran(0.004); // a run() took 4 us
 * console.log(gate.inline()); // true: the next idle runAsync() runs inline
 * ```
 */
export class RunGate {
  /** The last run timed on the JS thread (ms); NaN before any. */
  #lastMs = NaN;
  /** The next call tries an inline run. */
  #probe = false;
  /** Short hand-offs left before the next probe. */
  #wait = 0;
  /** The wait after the next probe that turns out too long. */
  #backoff = 1;

  /**
   * Whether the next call (on an idle instance) runs inline.
   *
   * @example
   * ```ts
   * console.log(new RunGate().inline()); // false: nothing measured yet
   * ```
   */
  inline(): boolean {
    const max = runGateSettings.inlineMaxMs;
    return max > 0 && (this.#probe || this.#lastMs <= max);
  }

  /**
   * Records a run timed on the JS thread (`run()` or an inline runAsync), in ms.
   *
   * @example
   * ```ts
   * const gate = new RunGate();
   * gate.ran(3); // 3 ms: too long to run inline
   * console.log(gate.inline()); // false
   * ```
   */
  ran(ms: number): void {
    this.#lastMs = ms;
    this.#probe = false;
    if (ms <= runGateSettings.inlineMaxMs) this.#backoff = 1;
    else {
      this.#wait = this.#backoff;
      this.#backoff = Math.min(this.#backoff * 2, 256);
    }
  }

  /**
   * Records the round trip of a hand-off (ms): a short one leads, in time, to a probe.
   *
   * @example
   * ```ts
   * const gate = new RunGate();
   * gate.handedOff(0.03); // 30 us there and back: the run itself may be short
   * console.log(gate.inline()); // true: the next call tries it inline
   * ```
   */
  handedOff(ms: number): void {
    if (ms > runGateSettings.probeMaxMs) return;
    if (this.#wait > 0) this.#wait--;
    if (this.#wait === 0) this.#probe = true;
  }
}
