/**
 * The op table of the graph runner (default ONNX domain).
 *
 * @example
 * ```ts
 * import { OPS, supportedOps } from "./registry.ts";
 * console.log(supportedOps().includes("Conv"));
 * ```
 * @module
 */
import { elementwiseOps } from "./elementwise.ts";
import { extraOps } from "./extra.ts";
import { nnOps } from "./nn.ts";
import { quantOps } from "./quant.ts";
import { reduceOps } from "./reduce.ts";
import { rnnOps } from "./rnn.ts";
import { shapeOps } from "./shape.ts";
import type { OpImpl } from "./types.ts";

/** Every supported op by op_type. @example `OPS.Relu` */
export const OPS: Record<string, OpImpl> = {
  ...elementwiseOps,
  ...shapeOps,
  ...nnOps,
  ...reduceOps,
  ...quantOps,
  ...extraOps,
  ...rnnOps,
};

/** Sorted names of the supported ops. @example `supportedOps()` */
export function supportedOps(): string[] {
  return Object.keys(OPS).sort();
}
