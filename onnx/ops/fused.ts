/**
 * Ops the load-time optimizer (onnx/optimize.ts) makes from several nodes: a ConvTranspose
 * with its activation, and element-wise chains run in one pass on the WASM kernels. Both
 * give the bits of their nodes run one by one, and run those nodes (the fallback) when
 * dtypes or shapes do not fit the kernel. Not in the op table: only the optimizer
 * creates them.
 *
 * @example
 * ```ts
 * import { OnnxGraph } from "../graph.ts";
 * const bytes = new Uint8Array(await Deno.readFile("postamble.onnx"));
 * const g = OnnxGraph.fromBytes(bytes); // ConvTranspose+Relu runs as fusedConvTranspose
 * ```
 * @module
 */
import { allocate, WasmBuffer } from "../../kernels/arena.ts";
import {
  type Activation,
  chain as kChain,
  type ChainStep,
  convTransposePairs,
  type ConvTransposeStage,
  prepareConvTransposePair,
  type PreparedConvTransposePair,
  type QdqStep,
  softmaxChain,
  softmaxChainConv1x1,
} from "../../kernels/fused.ts";
import { broadcastShape, broadcastTo, K_MIN } from "../numeric.ts";
import { conv1x1Permuted, PERMUTE_MAX_RANK } from "../../kernels/permute.ts";
import { type ConvParams, convTranspose2dKernel, convTransposeOnKernel, kernelGeometry } from "../numeric_nn.ts";
import { sizeOf, type Tensor } from "../tensor.ts";
import { convTransposeGeometry } from "./extra.ts";
import { need, type OpContext, type OpImpl } from "./types.ts";
import type { Attrs } from "./types.ts";
import type { NodeProto } from "../model.ts";

/** A node the fused ops run as they are written (the fallback). */
export interface Member {
  node: NodeProto;
  op: OpImpl;
  attrs: Attrs;
}

/** One link of a chain: an activation, a quantize-dequantize pair, or a binary op with the
 * named other operand (varying along `axis` of the value when given, else broadcast by shape). */
export type ChainOp =
  | Activation
  | QdqStep
  | { kind: "binary"; op: "add" | "sub" | "mul" | "div"; reverse: boolean; operand: string; axis?: number };

/** How a {@link KernelStage} runs on given inputs: output shape and kernel call. */
export interface StagePlan {
  shape: number[];
  exec(src: Float32Array | WasmBuffer, dst: Float32Array | WasmBuffer): void;
  /** For a ConvTranspose: its weights, bias, geometry and activation (two in a row may run as a pair). */
  convT?: ConvTransposeStage;
  /** `exec` may write over its source (an element-wise chain). */
  inPlace?: boolean;
  /** For a Transpose: the input's shape and the permutation (a 1x1 Conv after it may read through it). */
  permute?: { shape: number[]; perm: number[] };
  /** For a 1x1 Conv on the gemm kernel: weights `[m, c]`, and `finish` adds the bias to its output. */
  conv1x1?: { w: Float32Array; m: number; c: number; finish(dst: Float32Array | WasmBuffer): void };
  /** For a Softmax along the last axis: its rows (a chain after it may run in the same call). */
  softmax?: { rows: number; cols: number };
  /** For an element-wise chain: its kernel steps and blocks (a pair of ConvTransposes may apply it). */
  chain?: { steps: ChainStep[]; inner: number; channels: number };
}

/** A fused op that can also run with its first input and its output in the kernels' memory. */
export interface KernelStage extends OpImpl {
  /**
   * The output shape and a kernel call when the kernel path applies to these inputs (of
   * `ins[0]` only the shape and dtype are looked at), else undefined.
   */
  plan(ctx: OpContext, ins: (Tensor | undefined)[], attrs: Attrs): StagePlan | undefined;
  /**
   * Whether this node may join a pipeline at all, from what is known at load time (when a
   * stage does not plan, the pipeline runs the stages before it on the kernels and the
   * others one by one); absent: always.
   */
  joins?(attrs: Attrs, node: NodeProto, constants: ReadonlyMap<string, Tensor>): boolean;
}

/**
 * Runs `members` one by one on `values` (fallback of the fused ops); returns the last output.
 * @example `const y = runMembers(ctx, [reluStep, sigmoidStep], new Map([["x", x]]))`
 */
export function runMembers(ctx: OpContext, members: Member[], values: Map<string, Tensor>): Tensor {
  ctx.fellBack?.();
  let last: Tensor | undefined;
  for (const m of members) {
    ctx.node = m.node;
    const ins = m.node.inputs.map((n) => (n ? values.get(n) : undefined));
    [last] = m.op.run(ctx, ins, m.attrs);
    values.set(m.node.outputs[0], last);
  }
  return last!;
}

/**
 * A float32 2-D ConvTranspose, with the Relu / Sigmoid / Clip that follows it (`act`) or
 * alone (`act` undefined, activation "none"), as one kernel call. The fused node's inputs
 * are the ConvTranspose's three (bias "" when absent) then the activation's others (Clip
 * bounds).
 * @example `fusedConvTranspose(convStep, reluStep, { kind: "relu" })`
 */
export function fusedConvTranspose(conv: Member, act: Member | undefined, a: Activation): KernelStage {
  const plan = (ctx: OpContext, ins: (Tensor | undefined)[], attrs: Attrs): ConvParams | undefined => {
    const x = need(ctx, ins[0], 0), w = need(ctx, ins[1], 1), b = ins[2];
    const g = convTransposeGeometry(ctx, x, w, attrs);
    const kSize = sizeOf(g.kSp), inSize = sizeOf(g.inSp);
    const ok = g.inSp.length === 2 && x.dtype === "float32" && w.dtype === "float32" &&
      w.data instanceof Float32Array &&
      (!b || b.data instanceof Float32Array) && g.n * g.m * sizeOf(g.outSp) >= K_MIN && g.outSp.every((d) => d > 0) &&
      sizeOf(x.shape) > 0 && convTransposeOnKernel(FLOATS, w.data, g.c, g.m, g.group, kSize, inSize);
    return ok ? g : undefined;
  };
  const bias = (ins: (Tensor | undefined)[]) => ins[2] ? ins[2].data as Float32Array : null;
  const exec = (
    g: ConvParams,
    ins: (Tensor | undefined)[],
    src: Float32Array | WasmBuffer,
    dst: Float32Array | WasmBuffer,
  ) => convTranspose2dKernel(src, ins[1]!.data as Float32Array, bias(ins), dst, g.n, g.c, g.m, g.group, g, a);
  return {
    plan(ctx, ins, attrs) {
      const g = plan(ctx, ins, attrs);
      if (!g) return undefined;
      return {
        shape: [g.n, g.m, ...g.outSp],
        exec: (src, dst) => exec(g, ins, src, dst),
        convT: { w: ins[1]!.data as Float32Array, bias: bias(ins), g: kernelGeometry(g), act: a },
      };
    },
    run(ctx, ins, attrs) {
      const g = plan(ctx, ins, attrs);
      if (g) {
        const out = ctx.alloc("float32", [g.n, g.m, ...g.outSp]);
        exec(g, ins, ins[0]!.data as Float32Array, out.data as Float32Array);
        return [out];
      }
      const values = new Map<string, Tensor>();
      conv.node.inputs.forEach((n, i) => n && ins[i] && values.set(n, ins[i]!));
      if (!act) return [runMembers(ctx, [conv], values)];
      act.node.inputs.slice(1).forEach((n, i) => n && ins[3 + i] && values.set(n, ins[3 + i]!));
      return [runMembers(ctx, [conv, act], values)];
    },
  };
}

/** How an operand of a chain fits the chain's value `shape`, or undefined when it does not. */
function operandFit(
  t: Tensor,
  shape: number[],
): { kind: "scalar" | "tensor" } | { kind: "channel"; axis: number } | undefined {
  const n = sizeOf(shape);
  if (t.dtype !== "float32" || t.shape.length > shape.length) return undefined;
  if (t.data.length === 1) return { kind: "scalar" };
  const s = [...new Array(shape.length - t.shape.length).fill(1), ...t.shape];
  if (t.data.length === n && s.every((d, i) => d === shape[i])) return { kind: "tensor" };
  const axes = s.flatMap((d, i) => (d !== 1 ? [i] : []));
  if (axes.length === 1 && s[axes[0]] === shape[axes[0]]) return { kind: "channel", axis: axes[0] };
  return undefined;
}

/**
 * `ops` without every quantize-dequantize pair that directly follows one with the same
 * scale, zero point and type: its input is already on that grid (`v = f32((q - zp) * s)`
 * for an integer `q` in the type's range, NaN stored as the zero point's level), so `v / s`
 * is within `|q - zp| * 2^-23` of `q - zp` and rounds back to it, and the pair gives `v`
 * again, bit for bit (the argument of onnx/optimize_moves.ts).
 * @example `dropRepeatedQdq([qdq, qdq]).length // 1`
 */
export function dropRepeatedQdq(ops: ChainOp[]): ChainOp[] {
  return ops.filter((o, i) => {
    const p = ops[i - 1];
    return !(o.kind === "qdq" && p?.kind === "qdq" && Object.is(p.scale, o.scale) && p.zeroPoint === o.zeroPoint &&
      p.type === o.type);
  });
}

/** A float32 operand with one value per index of `axis` of `shape`, or undefined. */
function axisFit(t: Tensor, shape: number[], axis: number): { kind: "channel"; axis: number } | undefined {
  return t.dtype === "float32" && axis < shape.length && t.data.length === shape[axis]
    ? { kind: "channel", axis }
    : undefined;
}

/**
 * An element-wise chain (Relu, Sigmoid, Clip, Add/Sub/Mul/Div with one operand from the
 * chain) in one pass of the kernels when the value is float32 with at least K_MIN
 * elements and every operand is a scalar, a same-shape tensor, or varies along one axis
 * (the same axis for all); else `members` one by one. Node inputs: the chain's value, then
 * `extra` (every other input of the members).
 * @example `elementwiseChain(members, ops, "x", ["bias"])`
 */
export function elementwiseChain(members: Member[], ops: ChainOp[], value: string, extra: string[]): KernelStage {
  const stage = chainStage(members, ops, value, extra);
  CHAINS.set(stage, { members, ops, value });
  return stage;
}

/** What {@link elementwiseChain} made an op from (for onnx/optimize_concat.ts). */
const CHAINS = new WeakMap<OpImpl, { members: Member[]; ops: ChainOp[]; value: string }>();

/**
 * The members, ops and chain value of an op made by {@link elementwiseChain}, else undefined.
 * @example `chainOf(step.op)?.ops.length`
 */
export function chainOf(op: OpImpl): { members: Member[]; ops: ChainOp[]; value: string } | undefined {
  return CHAINS.get(op);
}

function chainStage(members: Member[], ops: ChainOp[], value: string, extra: string[]): KernelStage {
  const plan = (ctx: OpContext, ins: (Tensor | undefined)[]) => {
    const x = need(ctx, ins[0], 0);
    const byName = new Map<string, Tensor>();
    extra.forEach((n, i) => ins[i + 1] && byName.set(n, ins[i + 1]!));
    const steps = x.dtype === "float32" && sizeOf(x.shape) >= K_MIN
      ? kernelSteps(x.shape, ops, byName, value)
      : undefined;
    return { x, byName, steps };
  };
  return {
    plan(ctx, ins) {
      const { x, steps } = plan(ctx, ins);
      return steps && {
        shape: x.shape,
        exec: (src, dst) => {
          steps.fill(src);
          kChain(src, dst, steps.inner, steps.channels, steps.steps);
        },
        // a chain that reads its own input again (x * sigmoid(x)) must not write over it
        inPlace: !steps.readsInput,
        chain: steps,
      };
    },
    run(ctx, ins) {
      const { x, byName, steps } = plan(ctx, ins);
      if (steps) {
        const out = ctx.alloc("float32", x.shape);
        steps.fill(x.data as Float32Array);
        kChain(x.data as Float32Array, out.data as Float32Array, steps.inner, steps.channels, steps.steps);
        return [out];
      }
      const values = new Map(byName);
      values.set(value, x);
      return [runMembers(ctx, members, values)];
    },
  };
}

/**
 * Kernel stages (fused ConvTranspose, chains) run back to back with the values in between
 * kept in the kernels' memory (no copy out and back in); from the first stage whose kernel
 * does not apply on, the nodes one by one. `stages[k]` reads `inputs[k]` (names of the pipeline
 * node's inputs, by position), the first of which is the previous stage's output for k > 0.
 * @example `pipeline([convStage, chainStage], [[0, 1, 2], [-1, 3]])`
 */
export function pipeline(stages: { op: KernelStage; attrs: Attrs; node: NodeProto }[], inputs: number[][]): OpImpl {
  // the value after call k, kept in the kernels' memory from run to run (a chain writes
  // over its input instead)
  const held: (WasmBuffer | undefined)[] = [];
  const buffer = (k: number, n: number): WasmBuffer => {
    let b = held[k];
    if (!b || b.byteLength !== 4 * n) {
      b?.free();
      b = held[k] = allocate(4 * n);
    }
    return b;
  };
  // The kernel calls for the last inputs seen, reused while the first input has the same
  // shape and dtype and every other input is the same tensor with the same data array, shape
  // and (for one element, which plans copy as a scalar) value: weights are constants, so
  // runs of the same shapes do not plan again.
  type Call = Pick<StagePlan, "shape" | "exec" | "inPlace">;
  type Seen = { t: Tensor | undefined; data: unknown; shape: number[]; v: unknown };
  const seen = (t: Tensor | undefined): Seen => ({
    t,
    data: t?.data,
    shape: t ? [...t.shape] : [],
    v: t?.data.length === 1 ? t.data[0] : undefined,
  });
  const sameShape = (a: readonly number[], b: readonly number[]) =>
    a.length === b.length && a.every((d, i) => d === b[i]);
  // the kernel calls of the first `done` stages (those that plan; the rest run one by one)
  let last: { x: Seen; rest: Seen[]; calls: Call[]; done: number } | undefined;
  // the ConvTranspose pairs of `last`, their constants in the kernels' memory (freed when
  // the calls are planned again, or with the pipeline)
  const owned = { pairs: [] as PreparedConvTransposePair[], held };
  const planned = (ctx: OpContext, ins: (Tensor | undefined)[]): { calls: Call[]; done: number } | undefined => {
    const x = ins[0]!;
    if (
      last && last.rest.length === ins.length - 1 && last.x.t!.dtype === x.dtype && sameShape(last.x.shape, x.shape) &&
      last.rest.every((r, i) => {
        const t = ins[i + 1];
        return r.t === t && (!t || (r.data === t.data && sameShape(r.shape, t.shape) &&
          (t.data.length !== 1 || Object.is(r.v, t.data[0]))));
      })
    ) {
      return last;
    }
    // plans look at the shape and dtype of their first input only: give them no data to keep
    const shapeOnly = [{ ...x, data: FLOATS }, ...ins.slice(1)];
    const plans: StagePlan[] = [];
    let shape: number[] | undefined = x.shape;
    for (let k = 0; k < stages.length && shape; k++) {
      const sIns = inputs[k].map((
        i,
      ) => (i < 0 ? { data: FLOATS, shape: shape!, dtype: "float32" as const } : shapeOnly[i]));
      ctx.node = stages[k].node;
      const p = stages[k].op.plan(ctx, sIns, stages[k].attrs);
      if (!p) break;
      plans.push(p);
      shape = p.shape;
    }
    if (plans.length === 0) return undefined;
    // two ConvTransposes in a row that tile, each with the chain that follows it, run as
    // one streamed call (no tensor in between); so do a Softmax and its chain
    const calls: Call[] = [], pairs: PreparedConvTransposePair[] = [];
    for (let k = 0; k < plans.length; k++) {
      const p = plans[k];
      const c1 = p.convT && pairChain(p, plans[k + 1]), j = c1 ? k + 2 : k + 1, q = plans[j];
      const after = plans[k + 1]?.chain, conv = plans[k + 1]?.conv1x1;
      // a Conv with few outputs reads through the permutation (one in YOLOv8's distribution
      // head); with more, each would transpose its input again: a transposed copy and the
      // gemm are faster (same bits)
      const read = p.permute && conv && conv.m <= 4 && permutedPixels(p.permute.shape, p.permute.perm);
      const dfl = p.softmax && softmaxConv(plans, k);
      if (dfl) {
        // a Softmax, its chain, a Transpose and the 1x1 Conv over the Softmax's axis: one
        // call, the probabilities never written out
        calls.push({ shape: plans[dfl.end].shape, exec: dfl.exec });
        k = dfl.end;
      } else if (read && conv) {
        // a Transpose and the 1x1 Conv after it: the Conv reads through the permutation
        const { w, m, c, finish } = conv;
        calls.push({
          shape: plans[k + 1].shape,
          exec: (s, d) => finish(conv1x1Permuted(s, w, d, m, c, read.shape, read.strides)),
        });
        k++;
      } else if (p.softmax && after?.steps.every((s) => !("op" in s) || s.b.kind === "scalar")) {
        // a Softmax and the chain after it (scalar operands): one pass (softmaxChain)
        const { rows, cols } = p.softmax;
        calls.push({ shape: p.shape, exec: (s, d) => softmaxChain(s, [rows, cols], after.steps, d) });
        k++;
      } else if (p.convT && q?.convT && convTransposePairs(p.convT.g, q.convT.g)) {
        const c2 = pairChain(q, plans[j + 1]), e = c2 ? j + 1 : j;
        const pair = prepareConvTransposePair({ ...p.convT, chain: c1 }, { ...q.convT, chain: c2 });
        pairs.push(pair);
        calls.push({ shape: plans[e].shape, exec: (s, d) => pair.run(s, d) });
        k = e;
      } else calls.push(p);
    }
    for (const pair of owned.pairs) pair.free();
    owned.pairs = pairs;
    last = { x: seen(shapeOnly[0]), rest: ins.slice(1).map(seen), calls, done: plans.length };
    return last;
  };
  const impl: OpImpl = {
    run(ctx, ins) {
      const x = ins[0]?.data;
      const plan = x instanceof Float32Array ? planned(ctx, ins) : undefined;
      let t = ins[0], from = 0;
      if (plan) {
        const calls = plan.calls;
        let src: Float32Array | WasmBuffer = x as Float32Array;
        for (let k = 0; k < calls.length - 1; k++) {
          const dst: WasmBuffer = calls[k].inPlace && src instanceof WasmBuffer
            ? src
            : buffer(k, sizeOf(calls[k].shape));
          calls[k].exec(src, dst);
          src = dst;
        }
        const out = ctx.alloc("float32", calls[calls.length - 1].shape);
        calls[calls.length - 1].exec(src, out.data as Float32Array);
        if (plan.done === stages.length) return [out];
        [t, from] = [out, plan.done];
      }
      for (let k = from; k < stages.length; k++) {
        ctx.node = stages[k].node;
        [t] = stages[k].op.run(ctx, inputs[k].map((i) => (i < 0 ? t : ins[i])), stages[k].attrs);
      }
      return [t!];
    },
  };
  RELEASE.register(impl, owned);
  return impl;
}

/** Frees a collected pipeline's blocks in the kernels' memory (held values, prepared pairs). */
const RELEASE = new FinalizationRegistry<{ pairs: { free(): void }[]; held: (WasmBuffer | undefined)[] }>((o) => {
  for (const p of o.pairs) p.free();
  for (const b of o.held) b?.free();
});

/**
 * The steps of `next` when it is a chain that a ConvTransposes pair can apply to `conv`'s
 * output: scalar operands, or per-channel ones along the output channels; else undefined.
 */
function pairChain(conv: StagePlan, next: StagePlan | undefined): ChainStep[] | undefined {
  const c = next?.chain;
  if (!c) return undefined;
  const [, m, oh, ow] = conv.shape;
  const byChannel = c.channels === m && c.inner === oh * ow;
  const fits = c.steps.every((s) => !("op" in s) || s.b.kind === "scalar" || (s.b.kind === "channel" && byChannel));
  return fits ? c.steps : undefined;
}

/**
 * When `plans[k]` is a last-axis Softmax followed by a chain of scalar steps (or none), a
 * Transpose that makes the Softmax's axis the channels and a 1x1 Conv on the kernel: the
 * call that runs the four ({@link softmaxChainConv1x1}, then the Conv's bias) and the index
 * of the last plan it covers; else undefined.
 */
function softmaxConv(plans: StagePlan[], k: number): { exec: StagePlan["exec"]; end: number } | undefined {
  const sm = plans[k].softmax!;
  let j = k + 1;
  const c = plans[j]?.chain;
  const steps = c && c.steps.every((s) => !("op" in s) || s.b.kind === "scalar") ? c.steps : undefined;
  if (steps) j++;
  const t = plans[j]?.permute, conv = plans[j + 1]?.conv1x1;
  if (!t || !conv || conv.c !== sm.cols) return undefined;
  const order = rowOrder(t.shape, t.perm, sm.cols);
  if (!order || order.sizes.reduce((a, b) => a * b, 1) !== sm.rows) return undefined;
  const { w, m, finish } = conv;
  return {
    exec: (s, d) => finish(softmaxChainConv1x1(s, [sm.rows, sm.cols], steps ?? [], w, m, order, d)),
    end: j + 1,
  };
}

/**
 * The rows of a tensor of `shape` (rows of `cols` values along its last axis) as the pixels
 * of its transpose by `perm` read as a 1x1 Conv's input `[1, cols, ...pixels]`: the pixel
 * axes in the input's order and the output stride of each; undefined when the last axis does
 * not become the channels.
 */
function rowOrder(
  shape: readonly number[],
  perm: readonly number[],
  cols: number,
): { sizes: number[]; outStrides: number[] } | undefined {
  const last = shape.length - 1;
  if (shape[last] !== cols || perm[1] !== last || shape[perm[0]] !== 1) return undefined;
  const pix = perm.slice(2).filter((a) => shape[a] > 1);
  if (pix.length === 0) return { sizes: [1], outStrides: [0] };
  const out = new Map<number, number>();
  for (let i = pix.length - 1, s = 1; i >= 0; i--) {
    out.set(pix[i], s);
    s *= shape[pix[i]];
  }
  const inOrder = [...pix].sort((a, b) => a - b);
  if (inOrder.length > PERMUTE_MAX_RANK) return undefined;
  return { sizes: inOrder.map((a) => shape[a]), outStrides: inOrder.map((a) => out.get(a)!) };
}

/**
 * The pixel axes (sizes above 1) of the transpose of `shape` by `perm`, read as a 1x1
 * Conv's input `[1, c, ...pixels]`, and their strides in the untransposed input, when the
 * channels stay contiguous (stride 1) and at most 6 pixel axes remain; else undefined.
 */
function permutedPixels(
  shape: readonly number[],
  perm: readonly number[],
): { shape: number[]; strides: number[] } | undefined {
  const inStr: number[] = new Array(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    inStr[d] = s;
    s *= shape[d];
  }
  if (perm.length < 2 || shape[perm[0]] !== 1 || (shape[perm[1]] > 1 && inStr[perm[1]] !== 1)) return undefined;
  const pix = perm.slice(2).filter((p) => shape[p] > 1);
  if (pix.length > 6) return undefined;
  return pix.length ? { shape: pix.map((p) => shape[p]), strides: pix.map((p) => inStr[p]) } : {
    shape: [1],
    strides: [0],
  };
}

/** An empty float32 array: the data of a value whose shape alone a plan looks at. */
const FLOATS = new Float32Array(0);

/**
 * The kernel steps of a chain over a value of `shape`: operands as scalars, per-channel
 * values (one axis for the whole chain) or tensors of the value's shape (the chain's own
 * input `value` among them: `fill` points those steps at each call's source). An operand that
 * broadcasts to the value's shape in another way (a second per-channel axis: LayerNorm's
 * per-row statistics next to its per-column weights) becomes a tensor: a block the size of
 * the value that `fill` writes from the operand's current data before every kernel call.
 */
function kernelSteps(
  shape: number[],
  ops: ChainOp[],
  byName: Map<string, Tensor>,
  value: string,
): {
  steps: ChainStep[];
  inner: number;
  channels: number;
  fill: (src: Float32Array | WasmBuffer) => void;
  readsInput: boolean;
} | undefined {
  let axis = -1;
  const steps: ChainStep[] = [];
  const spread: (() => void)[] = [];
  // the chain's own input as an operand (Swish: x * sigmoid(x)): a tensor step whose values
  // are the input of each call, which `fill` sets
  const selves: { kind: "tensor"; values: Float32Array | WasmBuffer }[] = [];
  for (const o of ops) {
    if (o.kind !== "binary") {
      steps.push(o);
      continue;
    }
    if (o.operand === value && o.axis === undefined) {
      const b = { kind: "tensor" as const, values: FLOATS as Float32Array | WasmBuffer };
      selves.push(b);
      steps.push({ op: o.op, b, reverse: o.reverse });
      continue;
    }
    const t = byName.get(o.operand);
    if (!t) return undefined;
    let fit = o.axis === undefined ? operandFit(t, shape) : axisFit(t, shape, o.axis);
    if (fit?.kind === "channel" && axis >= 0 && axis !== fit.axis) fit = undefined;
    if (!fit) {
      const to = t.dtype === "float32" && o.axis === undefined ? broadcastShape(t.shape, shape) : null;
      if (!to || to.length !== shape.length || to.some((d, i) => d !== shape[i])) return undefined;
      const values = new Float32Array(sizeOf(shape)), data = t.data as Float32Array, from = [...t.shape];
      spread.push(() => broadcastTo(values, shape, data, from));
      steps.push({ op: o.op, b: { kind: "tensor", values }, reverse: o.reverse });
      continue;
    }
    const values = t.data as Float32Array;
    if (fit.kind === "channel") axis = fit.axis;
    const b = fit.kind === "scalar" ? { kind: "scalar" as const, value: values[0] } : { kind: fit.kind, values };
    steps.push({ op: o.op, b, reverse: o.reverse });
  }
  const fill = (src: Float32Array | WasmBuffer) => {
    for (const b of selves) b.values = src;
    spread.forEach((f) => f());
  };
  const readsInput = selves.length > 0;
  if (axis < 0) return { steps, inner: sizeOf(shape) || 1, channels: 1, fill, readsInput };
  return { steps, inner: sizeOf(shape.slice(axis + 1)) || 1, channels: shape[axis], fill, readsInput };
}
