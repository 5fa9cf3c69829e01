/**
 * A Concat written directly by its producers (onnx/optimize_concat.ts makes it): each part
 * of the output is the element-wise chain that produced that input (if any), followed by
 * the chain that read the Concat's output (if any), run by one kernel call whose
 * destination is the part's range of the output. Nothing is copied into a Concat, and the
 * chain after it does not copy the whole output in and out again.
 *
 * Exactness: element-wise ops commute with a Concat when their other operands do not vary
 * along the Concat's axis (scalars, per-channel values along another axis, tensors of size
 * 1 on that axis): each element goes through the same float32 ops in the same order, so the
 * bits are those of the nodes run one by one. The fast path takes float32 parts whose
 * output ranges are contiguous (every axis before the Concat's is 1, as in YOLOv8's heads)
 * and chains that plan on the kernels; otherwise the nodes run one by one (the fallback).
 *
 * @example
 * ```ts
 * import { OnnxGraph } from "../graph.ts";
 * const bytes = new Uint8Array(await Deno.readFile("postamble.onnx"));
 * // Concat(chain(a), chain(b)) -> QuantizeLinear -> DequantizeLinear: one step, two kernel calls
 * console.log(OnnxGraph.fromBytes(bytes).executionPlan().map((s) => s.opType));
 * ```
 * @module
 */
import type { Tensor } from "../tensor.ts";
import { sizeOf } from "../tensor.ts";
import { type ChainOp, elementwiseChain, type Member, runMembers, type StagePlan } from "./fused.ts";
import { normAxis, type OpContext, type OpImpl } from "./types.ts";

/**
 * One input of a fused Concat: the value it starts from and the chain ops applied to it
 * (those of the chain that produced the input, then, from index `after` on, those of the
 * chains that read the Concat's output).
 */
export interface ConcatPart {
  value: string;
  ops: ChainOp[];
  after: number;
}

/** Whether an operand of an op after the Concat is constant along the Concat's axis `ax` of a rank-`rank` value. */
function flatAlong(t: Tensor, rank: number, ax: number, op: ChainOp): boolean {
  if (op.kind !== "binary") return true;
  if (op.axis !== undefined) return op.axis !== ax;
  if (t.shape.length > rank) return false;
  const i = ax - (rank - t.shape.length);
  return i < 0 || t.shape[i] === 1;
}

/**
 * The fused op: node inputs `inputs` (the parts' values and every operand of their ops),
 * output the last member's; `axis` is the Concat's attribute; `members` the nodes it
 * replaces in order (the fallback).
 * @example `concatChain([{ value: "a", ops: [qdq], after: 0 }, { value: "b", ops: [qdq], after: 0 }], 1, members, ["a", "b"])`
 */
export function concatChain(parts: ConcatPart[], axis: number, members: Member[], inputs: string[]): OpImpl {
  const operands = parts.map((p) => [
    ...new Set(p.ops.flatMap((o) => (o.kind === "binary" ? [o.operand] : []))),
  ]);
  const stages = parts.map((p, k) => (p.ops.length ? elementwiseChain([], p.ops, p.value, operands[k]) : undefined));
  const fast = (ctx: OpContext, byName: Map<string, Tensor>): Tensor | undefined => {
    const xs = parts.map((p) => byName.get(p.value));
    const x0 = xs[0];
    if (!x0 || xs.some((x) => !x || !(x.data instanceof Float32Array) || x.shape.length !== x0.shape.length)) {
      return undefined;
    }
    const r = x0.shape.length;
    if (r === 0 || axis < -r || axis >= r) return undefined;
    const ax = normAxis(ctx, axis, r);
    for (let d = 0; d < ax; d++) if (x0.shape[d] !== 1) return undefined;
    const shape = [...x0.shape];
    shape[ax] = 0;
    for (const x of xs as Tensor[]) {
      if (x.shape.some((d, i) => i !== ax && d !== x0.shape[i])) return undefined;
      shape[ax] += x.shape[ax];
    }
    const plans: (StagePlan | undefined)[] = [];
    for (let k = 0; k < parts.length; k++) {
      const st = stages[k];
      if (!st) {
        plans.push(undefined);
        continue;
      }
      const ins = [xs[k], ...operands[k].map((n) => byName.get(n))];
      const p = parts[k];
      for (let i = p.after; i < p.ops.length; i++) {
        const o = p.ops[i];
        const t = o.kind === "binary" ? byName.get(o.operand) : undefined;
        if (o.kind === "binary" && (!t || !flatAlong(t, r, ax, o))) return undefined;
      }
      const plan = st.plan(ctx, ins, {});
      if (!plan || plan.shape.length !== r || plan.shape.some((d, i) => d !== xs[k]!.shape[i])) return undefined;
      plans.push(plan);
    }
    const out = ctx.alloc("float32", shape);
    const o = out.data as Float32Array;
    let off = 0;
    for (let k = 0; k < parts.length; k++) {
      const src = xs[k]!.data as Float32Array, n = sizeOf(xs[k]!.shape);
      const dst = o.subarray(off, off + n);
      const plan = plans[k];
      if (plan) {
        if (n) plan.exec(src, dst);
      } else dst.set(src);
      off += n;
    }
    return out;
  };
  return {
    run(ctx, ins) {
      const byName = new Map<string, Tensor>();
      inputs.forEach((n, i) => n && ins[i] && byName.set(n, ins[i]!));
      const node = ctx.node;
      const t = fast(ctx, byName);
      ctx.node = node;
      return [t ?? runMembers(ctx, members, byName)];
    },
  };
}
