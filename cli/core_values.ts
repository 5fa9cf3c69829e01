/**
 * Parsing per-core value lists of `axr devices`: `0-1:800,2-3:400`, `2:50`, or
 * a single value for every core (`400`).
 *
 * @module
 */
import { UsageError } from "./errors.ts";

/**
 * Parses a per-core list into core index -> value for cores 0..cores-1.
 * Throws {@link UsageError} naming `flag` for bad syntax, a core out of range, a
 * core given twice, or a value that is not a positive integer.
 *
 * @example
 * ```ts
 * parseCoreValues("0-1:800,2-3:400", "--set-core-clock"); // Map {0=>800,1=>800,2=>400,3=>400}
 * parseCoreValues("50", "--set-mvm-limitation");          // Map {0=>50,1=>50,2=>50,3=>50}
 * ```
 */
export function parseCoreValues(text: string, flag: string, cores = 4, command = "devices"): Map<number, number> {
  const result = new Map<number, number>();
  const value = (v: string): number => {
    if (!/^\d+$/.test(v.trim())) {
      throw new UsageError(`${flag}: '${v}' is not a positive integer`, command);
    }
    const n = Number(v);
    if (n <= 0) throw new UsageError(`${flag}: value must be positive, got ${v}`, command);
    return n;
  };
  const trimmed = text.trim();
  if (trimmed === "") throw new UsageError(`${flag} needs a value such as 0-1:800,2-3:400`, command);
  if (!trimmed.includes(":")) {
    const v = value(trimmed);
    for (let c = 0; c < cores; c++) result.set(c, v);
    return result;
  }
  for (const part of trimmed.split(",")) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*:\s*(\S+)\s*$/.exec(part);
    if (!m) throw new UsageError(`${flag}: '${part}' is not CORE:VALUE or FIRST-LAST:VALUE`, command);
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new UsageError(`${flag}: range ${a}-${b} is backwards`, command);
    if (b >= cores) throw new UsageError(`${flag}: core ${b} does not exist (cores are 0-${cores - 1})`, command);
    const v = value(m[3]);
    for (let c = a; c <= b; c++) {
      if (result.has(c)) throw new UsageError(`${flag}: core ${c} is given twice`, command);
      result.set(c, v);
    }
  }
  return result;
}
