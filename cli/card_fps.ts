/**
 * Card FPS: the throughput of a Metis card as the host sees it, from the modelled device
 * FPS of its cores and the modelled host transfer of one frame's inputs and outputs over
 * the card's link (`transfer_us` of the instance statistics, computed by the library's
 * timing model for the board type: ffi/src/timing.zig, docs/timing-model.md). Frames
 * share one link, and the transfer of a frame is not overlapped with its compute:
 * `card FPS = 1 / (1 / device FPS + transfer time)`.
 *
 * @module
 */

/**
 * Card FPS from the device FPS of the card's cores and the transfer time of one frame (us).
 *
 * @example
 * ```ts
 * cardFps(2000, 100); // 1 / (1/2000 + 100e-6) = 1666.7
 * ```
 */
export function cardFps(deviceFps: number, transferUs: number): number {
  if (!(deviceFps > 0)) return 0;
  return 1 / (1 / deviceFps + Math.max(0, transferUs) / 1e6);
}
