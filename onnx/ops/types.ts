/**
 * What an op implementation is, and helpers every op family shares.
 *
 * @example
 * ```ts
 * import type { OpImpl } from "./types.ts";
 * const relu: OpImpl = { run: (ctx, [x]) => [ctx.alloc(x!.dtype, x!.shape)] };
 * ```
 * @module
 */
import { OnnxGraphError, OnnxUnsupportedAttributeError } from "../errors.ts";
import type { AttributeProto, NodeProto } from "../model.ts";
import { allocData, type DType, type Tensor, toNumbers } from "../tensor.ts";

/** Node attributes by name. @example `attrs.axis?.i` */
export type Attrs = Record<string, AttributeProto>;

/** What an op sees while running: its node, opset and a buffer allocator. @example `ctx.alloc("float32", [2])` */
export interface OpContext {
  node: NodeProto;
  opset: number;
  /** An output tensor, possibly a reused buffer with stale contents: the op must write every element. */
  alloc(dtype: DType, shape: number[]): Tensor;
  /**
   * Called by a fused op (onnx/ops/fused.ts) each time it runs the nodes it replaced one by
   * one instead of on its kernel (dtypes or shapes the kernel does not take): the runner
   * counts these per fused node ({@link OnnxGraph.fallbacks}). Optional.
   */
  fellBack?(): void;
  /**
   * Whether the value `name` is one of the graph's constants (an initializer or a folded
   * Constant: its data never changes between runs), so that an op may keep a copy of it
   * (in the kernels' memory) across runs. Optional: absent, nothing is taken as constant.
   */
  isConstant?(name: string): boolean;
}

/** An op: optional load-time check (throw {@link OnnxUnsupportedAttributeError} for unsupported attributes), and run. @example `const op: OpImpl = { run: (ctx, ins, a) => [] }` */
export interface OpImpl {
  check?(attrs: Attrs, node: NodeProto, opset: number): void;
  run(ctx: OpContext, inputs: (Tensor | undefined)[], attrs: Attrs): Tensor[];
}

/** Integer attribute or default. @example `attrInt(a, "axis", 0)` */
export function attrInt(a: Attrs, name: string, def: number): number {
  return a[name]?.i ?? def;
}
/** Float attribute or default. @example `attrFloat(a, "alpha", 0.01)` */
export function attrFloat(a: Attrs, name: string, def: number): number {
  return a[name]?.f ?? def;
}
/** Integer-list attribute or undefined. @example `attrInts(a, "perm")` */
export function attrInts(a: Attrs, name: string): number[] | undefined {
  const v = a[name];
  return v ? (v.ints ?? []) : undefined;
}
/** String attribute or default. @example `attrString(a, "mode", "nearest")` */
export function attrString(a: Attrs, name: string, def: string): string {
  const s = a[name]?.s;
  return s ? new TextDecoder().decode(s) : def;
}

/** Throws unless `x` is present. @example `need(ctx, x, 0)` */
export function need(ctx: OpContext, t: Tensor | undefined, i: number): Tensor {
  if (!t) throw new OnnxGraphError(`${ctx.node.opType} node '${ctx.node.name}': input ${i} is required`);
  return t;
}

/** Normalises a possibly negative axis against a rank. @example `normAxis(ctx, -1, 4) === 3` */
export function normAxis(ctx: OpContext, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= Math.max(rank, 1)) {
    throw new OnnxGraphError(`${ctx.node.opType} node '${ctx.node.name}': axis ${axis} out of range for rank ${rank}`);
  }
  return a;
}

/** Integer values of a small tensor (shapes, axes, indices) as numbers. @example `ints(t)` */
export function ints(t: Tensor): number[] {
  return toNumbers(t);
}

/** True for dtypes held in bigint arrays. @example `isBig("int64")` */
export function isBig(d: DType): boolean {
  return d === "int64" || d === "uint64";
}

/** True for floating dtypes. @example `isFloat("float32")` */
export function isFloat(d: DType): boolean {
  return d === "float32" || d === "float64";
}

/** A tensor sharing data with `t` but another shape (Reshape, Squeeze...). @example `view(t, [6])` */
export function view(t: Tensor, shape: number[]): Tensor {
  return { data: t.data, shape, dtype: t.dtype };
}

/** A new tensor built outside the pool. @example `fresh("int64", [2])` */
export function fresh(dtype: DType, shape: number[]): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  return { data: allocData(dtype, n), shape, dtype };
}

/** Throws a shape error for a node. @example `shapeError(ctx, "mismatch")` */
export function shapeError(ctx: OpContext, msg: string): never {
  throw new OnnxGraphError(`${ctx.node.opType} node '${ctx.node.name}': ${msg}`);
}

/** Throws an unsupported error for a node at load. @example `unsupported(node, "attribute x")` */
export function unsupported(node: NodeProto, msg: string): never {
  throw new OnnxUnsupportedAttributeError(`${node.opType} node '${node.name}': ${msg} is not supported`);
}
