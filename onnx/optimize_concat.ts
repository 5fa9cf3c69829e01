/**
 * The last load-time rewrite (run by `optimizeSteps` after the pipelines): a Concat whose
 * inputs come from element-wise chains (each read by the Concat alone), or whose output an
 * element-wise chain alone reads, becomes one step that writes every input's range of the
 * output from its chain, with the chain after the Concat applied in the same kernel call
 * (`concatChain` in ops/concat_chain.ts, which has the exactness argument). A Concat
 * feeding another on the same axis (`axis` attributes equal), alone, joins it: its parts
 * become the outer one's.
 *
 * @example
 * ```ts
 * import { OnnxGraph } from "./graph.ts";
 * const bytes = new Uint8Array(await Deno.readFile("postamble.onnx"));
 * // YOLOv8: Concat(Div chain, Sub chain) -> Mul chain -> Concat(.., scores) -> Q/DQ: one step
 * console.log(OnnxGraph.fromBytes(bytes).executionPlan().map((s) => s.opType));
 * ```
 * @module
 */
import type { NodeProto } from "./model.ts";
import type { GraphView, Step } from "./optimize.ts";
import { concatChain, type ConcatPart } from "./ops/concat_chain.ts";
import { chainOf, type ChainOp, dropRepeatedQdq, type Member } from "./ops/fused.ts";
import { attrInt } from "./ops/types.ts";

/** The steps of one kernel chain call (kernels/fused.ts). */
const MAX_CHAIN = 16;

/** What a fused Concat step was made from (so that an outer Concat can take its parts). */
const FUSED = new WeakMap<Step, { parts: ConcatPart[]; axis: number; members: Member[] }>();

function index(steps: (Step | null)[]): { uses: Map<string, number[]>; producer: Map<string, number> } {
  const uses = new Map<string, number[]>(), producer = new Map<string, number>();
  steps.forEach((s, i) => {
    if (!s) return;
    for (const n of s.node.inputs) if (n) (uses.get(n) ?? uses.set(n, []).get(n)!).push(i);
    for (const n of s.node.outputs) if (n) producer.set(n, i);
  });
  return { uses, producer };
}

const operandsOf = (ops: ChainOp[]) => ops.flatMap((o) => (o.kind === "binary" ? [o.operand] : []));

/**
 * Rewrites every Concat that has a chain before or after it into a `concatChain` step (see
 * the module doc); other steps are left as they are.
 * @example `steps = fuseConcats(steps, { constants, outputs: new Set(["y"]), opset: 13 })`
 */
export function fuseConcats(steps: Step[], g: GraphView): Step[] {
  const out: (Step | null)[] = [...steps];
  for (let i = 0; i < out.length; i++) {
    const s = out[i];
    if (!s || s.node.opType !== "Concat" || s.node.outputs.length !== 1 || !s.attrs.axis) continue;
    const axis = attrInt(s.attrs, "axis", 0);
    const { uses, producer } = index(out);
    const only = (name: string) => {
      const u = uses.get(name);
      return u && u.length === 1 && !g.outputs.has(name) ? u[0] : -1;
    };
    const inputs = s.node.inputs.filter((n) => n);
    if (inputs.length === 0 || new Set(inputs).size !== inputs.length) continue;
    const absorbed: number[] = [];
    const members: { at: number; m: Member[] }[] = [{ at: i, m: [s] }];
    const parts: ConcatPart[] = [];
    for (const n of inputs) {
      const p = producer.get(n);
      const ps = p === undefined ? undefined : out[p]!;
      const c = ps && only(n) === i ? chainOf(ps.op) : undefined;
      const inner = ps && only(n) === i ? FUSED.get(ps) : undefined;
      if (c && ps!.node.outputs.length === 1) {
        parts.push({ value: c.value, ops: [...c.ops], after: c.ops.length });
        absorbed.push(p!);
        members.push({ at: p!, m: [ps!] });
      } else if (inner && inner.axis === axis) {
        for (const q of inner.parts) parts.push({ value: q.value, ops: [...q.ops], after: q.after });
        absorbed.push(p!);
        members.push({ at: p!, m: inner.members });
      } else parts.push({ value: n, ops: [], after: 0 });
    }
    // the chain after the Concat, when it reads only the Concat's output (not as an operand)
    const j = only(s.node.outputs[0]);
    const after = j >= 0 && out[j]!.node.outputs.length === 1 ? chainOf(out[j]!.op) : undefined;
    const inside = new Set([...absorbed.flatMap((k) => out[k]!.node.outputs), ...parts.map((p) => p.value)]);
    const afterOk = after && after.value === s.node.outputs[0] &&
      operandsOf(after.ops).every((n) => n !== after.value && !inside.has(n)) &&
      parts.every((p) => p.ops.length + after.ops.length <= MAX_CHAIN);
    if (!afterOk && absorbed.length === 0) continue;
    if (afterOk) {
      for (const p of parts) p.ops = dropRepeatedQdq([...p.ops, ...after!.ops]);
      members.push({ at: j, m: [out[j]!] });
    }
    const last = afterOk ? out[j]! : s;
    members.sort((a, b) => a.at - b.at);
    const fallback = members.flatMap((x) => x.m);
    // the parts' values and operands, then every other input of the members (the fallback's)
    const made = new Set(fallback.flatMap((m) => m.node.outputs));
    const names = [
      ...new Set([
        ...parts.map((p) => p.value),
        ...parts.flatMap((p) => operandsOf(p.ops)),
        ...fallback.flatMap((m) => m.node.inputs.filter((x) => x && !made.has(x))),
      ]),
    ];
    const node: NodeProto = {
      name: fallback.map((m) => m.node.name).join("+"),
      opType: "ConcatChain",
      domain: "",
      inputs: names,
      outputs: [...last.node.outputs],
      attributes: [],
    };
    const step: Step = { node, op: concatChain(parts, axis, fallback, names), attrs: {} };
    FUSED.set(step, { parts, axis, members: fallback });
    // runs where the last member ran: every input is computed by then
    const at = afterOk ? j : i;
    for (const k of [...absorbed, i, afterOk ? j : -1]) if (k >= 0) out[k] = null;
    out[at] = step;
  }
  return out.filter((s): s is Step => s !== null);
}
