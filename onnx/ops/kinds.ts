/**
 * Kinds of ops by what they do to values: one list per concept, for the runner's
 * optimizer and the compiler alike. Each kind contains the one before it.
 *
 * @example
 * ```ts
 * import { LAYOUT_OPS, ORDER_KEEPING_OPS } from "./kinds.ts";
 * console.log(LAYOUT_OPS.has("Transpose"), ORDER_KEEPING_OPS.has("MaxPool")); // true true
 * ```
 * @module
 */

/**
 * Ops that only change a tensor's shape: values and their order stay.
 *
 * @example
 * ```ts
 * import { RESHAPE_OPS } from "./kinds.ts";
 * console.log(RESHAPE_OPS.has("Flatten")); // true
 * ```
 */
export const RESHAPE_OPS: ReadonlySet<string> = new Set(["Reshape", "Flatten", "Squeeze", "Unsqueeze"]);

/**
 * Layout ops: the reshapes and Transpose (every input element lands in the output once, unchanged).
 *
 * @example
 * ```ts
 * import { LAYOUT_OPS } from "./kinds.ts";
 * console.log(LAYOUT_OPS.has("Transpose")); // true
 * ```
 */
export const LAYOUT_OPS: ReadonlySet<string> = new Set([...RESHAPE_OPS, "Transpose"]);

/**
 * Ops whose every output element is one input element, unchanged: layout ops, Slice, Identity.
 * A value on a quantization grid stays on it.
 *
 * @example
 * ```ts
 * import { VALUE_MOVE_OPS } from "./kinds.ts";
 * console.log(VALUE_MOVE_OPS.has("Slice")); // true
 * ```
 */
export const VALUE_MOVE_OPS: ReadonlySet<string> = new Set([...LAYOUT_OPS, "Slice", "Identity"]);

/**
 * Ops that move, select, take the maximum of or clamp their inputs' values: a monotone
 * quantization commutes with them (`q(max(v)) = max(q(v))`).
 *
 * @example
 * ```ts
 * import { ORDER_KEEPING_OPS } from "./kinds.ts";
 * console.log(ORDER_KEEPING_OPS.has("Relu")); // true
 * ```
 */
export const ORDER_KEEPING_OPS: ReadonlySet<string> = new Set([
  ...VALUE_MOVE_OPS,
  "MaxPool",
  "GlobalMaxPool",
  "Concat",
  "Relu",
  "Clip",
]);
