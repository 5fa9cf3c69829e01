/**
 * Board types (`axrBoardType`). Python's `BoardType.alpha_pcie` is
 * `BoardType.alphaPcie` here, `alpha_m2` is `alphaM2`; the others keep their names.
 *
 * @module
 */

/**
 * The board type of a device, same values as Python's `axelera.runtime.BoardType`.
 *
 * @example
 * ```ts
 * import { Context } from "@axelera/runtime";
 * using ctx = new Context();
 * const pcie = ctx.listDevices().filter((d) => d.boardType === BoardType.pcie);
 * ```
 */
export const BoardType = {
  /** Python `alpha_pcie` (0). */
  alphaPcie: 0,
  /** Python `alpha_m2` (1). */
  alphaM2: 1,
  /** PCIe card (2). */
  pcie: 2,
  /** M.2 module (3). */
  m2: 3,
  /** Development board (4). */
  devboard: 4,
  /** Single-board computer (5). */
  sbc: 5,
  /** Unknown (6). */
  unknown: 6,
} as const;

/** A value of {@link BoardType}. */
export type BoardType = typeof BoardType[keyof typeof BoardType];

/**
 * The name of a board type value ("pcie", "alphaPcie", ...; "unknown" for others).
 *
 * @example
 * ```ts
 * boardTypeName(2); // "pcie"
 * ```
 */
export function boardTypeName(value: number): keyof typeof BoardType {
  for (const [k, v] of Object.entries(BoardType)) if (v === value) return k as keyof typeof BoardType;
  return "unknown";
}
