/**
 * The graph runner: loads an ONNX model, checks it (supported ops and attributes,
 * topological order, no cycles, no missing inputs) at load time, then runs it op by
 * op. Shapes are inferred from the actual inputs on every run; intermediate buffers go
 * back to a pool as soon as their last consumer has run and are reused by later nodes
 * and later runs.
 *
 * @example
 * ```ts
 * import { OnnxGraph } from "./graph.ts";
 * const g = await OnnxGraph.load("postamble.onnx");
 * const out = g.run({ [g.inputs[0].name]: { data: new Float32Array(1000), shape: [1, 1000], dtype: "float32" } });
 * console.log(out[g.outputs[0].name].shape);
 * ```
 * @module
 */
import { readFile } from "node:fs/promises";
import { OnnxGraphError, OnnxUnsupportedError } from "./errors.ts";
import type { Dim, ModelProto, NodeProto, ValueInfoProto } from "./model.ts";
import { OPS } from "./ops/registry.ts";
import type { Attrs, OpContext } from "./ops/types.ts";
import { optimizeSteps, type Step } from "./optimize.ts";
import { decodeModel } from "./read.ts";
import { allocData, type DType, dtypeOf, type Tensor, type TensorData } from "./tensor.ts";

/** A graph input or output as declared in the model. @example `g.inputs[0].shape // [1, 3, "H", "W"]` */
export interface ValueInfo {
  name: string;
  dtype: DType | undefined;
  /** Dimensions: numbers, symbolic names, or null when unknown; null when the rank is unknown. */
  shape: Dim[] | null;
}

/** Options of {@link OnnxGraph.load} and friends. @example `{ optimize: false }` */
export interface GraphOptions {
  /**
   * Load-time optimization (onnx/optimize.ts: folding affine ops into Conv/ConvTranspose/
   * Gemm weights, fused activations, element-wise chains on the kernels). Default true;
   * false runs the nodes one by one as written.
   */
  optimize?: boolean;
}

const RUNNABLE: ReadonlySet<DType> = new Set<DType>([
  "float32",
  "float64",
  "int8",
  "uint8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "uint64",
  "bool",
]);

/** The typed array class of each dtype's data (what `allocData` makes), for the feed checks. */
const ARRAY_TYPES = new Map<DType, unknown>();
function arrayType(d: DType): unknown {
  let c = ARRAY_TYPES.get(d);
  if (c === undefined) ARRAY_TYPES.set(d, c = allocData(d, 0).constructor);
  return c;
}

/** A loaded, checked ONNX graph ready to run. @example `const g = OnnxGraph.fromBytes(bytes)` */
export class OnnxGraph {
  /** The decoded model. */
  readonly model: ModelProto;
  /** Graph inputs (initializers excluded). */
  readonly inputs: ValueInfo[];
  /** Graph outputs. */
  readonly outputs: ValueInfo[];
  /** Default-domain opset version. */
  readonly opset: number;
  /**
   * The fused nodes of the load-time optimizer (named by the nodes they replace, joined by
   * `+`) that ran their nodes one by one instead of on the kernels, with the number of times,
   * since the graph was loaded: empty when every fused node took its kernel path. The
   * results are the same bits either way; this tells where the time goes.
   * @example `g.fallbacks // Map(1) { "relu+sig" => 3 }: three runs of Relu, Sigmoid one by one`
   */
  readonly fallbacks: Map<string, number> = new Map();
  private steps: Step[];
  private constants = new Map<string, Tensor>();
  private uses = new Map<string, number>();
  /**
   * Per step, from the counts of uses (a fixed order of steps gives fixed last uses): which
   * of its outputs nothing reads (released at once), and the inputs whose last use it is, in
   * the order the count of each reaches 0 (constants and graph outputs never).
   */
  private releases: { deadOut: boolean[]; lastUse: string[] }[] = [];
  private pool = new Map<string, TensorData[]>();

  private constructor(model: ModelProto, options: GraphOptions = {}) {
    this.model = model;
    const g = model.graph;
    const def = model.opsetImports.find((o) => o.domain === "" || o.domain === "ai.onnx");
    this.opset = def?.version ?? 1;
    if (model.functions) {
      const fnOps = g.nodes.filter((n) => n.domain !== "" && n.domain !== "ai.onnx");
      if (fnOps.length) {
        throw new OnnxUnsupportedError(
          `model-local functions are not supported (node '${fnOps[0].name}', op ${fnOps[0].domain}.${fnOps[0].opType})`,
        );
      }
    }
    if (g.sparseInitializers) throw new OnnxUnsupportedError("sparse initializers are not supported");
    for (const t of g.initializers) {
      const dtype = dtypeOf(t.dataType);
      if (!dtype || !t.data || !RUNNABLE.has(dtype)) {
        throw new OnnxUnsupportedError(`initializer '${t.name}' has data type ${t.dataType}, which is not supported`);
      }
      this.constants.set(t.name, { data: t.data, shape: [...t.dims], dtype });
    }
    const info = (v: ValueInfoProto): ValueInfo => {
      if (v.nonTensor) {
        throw new OnnxUnsupportedError(
          `value '${v.name}' is not a tensor (sequence, map or optional types are not supported)`,
        );
      }
      const dtype = dtypeOf(v.elemType);
      if (v.elemType && (!dtype || !RUNNABLE.has(dtype))) {
        throw new OnnxUnsupportedError(`value '${v.name}' has data type ${v.elemType}, which is not supported`);
      }
      return { name: v.name, dtype, shape: v.shape ? [...v.shape] : null };
    };
    this.inputs = g.inputs.filter((v) => !this.constants.has(v.name)).map(info);
    this.outputs = g.outputs.map(info);
    this.steps = this.order(g.nodes.map((node) => this.compile(node)));
    if (options.optimize ?? true) {
      this.steps = optimizeSteps(this.steps, {
        constants: this.constants,
        outputs: new Set(this.outputs.map((o) => o.name)),
        opset: this.opset,
      });
    }
    for (const s of this.steps) for (const i of s.node.inputs) if (i) this.uses.set(i, (this.uses.get(i) ?? 0) + 1);
    for (const o of this.outputs) this.uses.set(o.name, Infinity);
    const remaining = new Map(this.uses);
    this.releases = this.steps.map((s) => {
      const deadOut = s.node.outputs.map((name) => !!name && !remaining.get(name));
      const lastUse: string[] = [];
      for (const name of s.node.inputs) {
        if (!name) continue;
        const r = (remaining.get(name) ?? 0) - 1;
        remaining.set(name, r);
        if (r === 0 && !this.constants.has(name)) lastUse.push(name);
      }
      return { deadOut, lastUse };
    });
  }

  /** Reads and checks an ONNX file. @example `const g = await OnnxGraph.load("model.onnx")` */
  static async load(path: string, options?: GraphOptions): Promise<OnnxGraph> {
    return new OnnxGraph(decodeModel(new Uint8Array(await readFile(path))), options);
  }

  /** Checks an ONNX model from bytes. @example `OnnxGraph.fromBytes(bytes, { optimize: false })` */
  static fromBytes(bytes: Uint8Array, options?: GraphOptions): OnnxGraph {
    return new OnnxGraph(decodeModel(bytes), options);
  }

  /** Checks an already decoded model. @example `OnnxGraph.fromModel(decodeModel(bytes))` */
  static fromModel(model: ModelProto, options?: GraphOptions): OnnxGraph {
    return new OnnxGraph(model, options);
  }

  /**
   * The nodes as they run after load-time optimization, in order (fused nodes have opType
   * `ElementwiseChain`, `KernelPipeline` or the first node's, and names joined by `+`/`|`).
   * @example `g.executionPlan().map((n) => n.opType) // ["KernelPipeline"]`
   */
  executionPlan(): { name: string; opType: string; inputs: string[]; outputs: string[] }[] {
    return this.steps.map(({ node: n }) => ({
      name: n.name,
      opType: n.opType,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
    }));
  }

  private compile(node: NodeProto): Step {
    const where = `node '${node.name}'`;
    if (node.domain !== "" && node.domain !== "ai.onnx") {
      throw new OnnxUnsupportedError(`op ${node.domain}.${node.opType} (${where}) is not supported`);
    }
    const op = OPS[node.opType];
    if (!op) throw new OnnxUnsupportedError(`op ${node.opType} (${where}) is not supported`);
    const attrs: Attrs = {};
    for (const a of node.attributes) {
      if (a.refAttrName) {
        throw new OnnxUnsupportedError(`${node.opType} ${where}: attribute references are not supported`);
      }
      attrs[a.name] = a;
    }
    op.check?.(attrs, node, this.opset);
    return { node, op, attrs };
  }

  private order(steps: Step[]): Step[] {
    const producer = new Map<string, number>();
    steps.forEach((s, i) => s.node.outputs.forEach((o) => o && producer.set(o, i)));
    const known = new Set<string>([...this.constants.keys(), ...this.inputs.map((v) => v.name)]);
    const deps = steps.map((s, i) => {
      const d = new Set<number>();
      for (const inp of s.node.inputs) {
        if (!inp || known.has(inp)) continue;
        const p = producer.get(inp);
        if (p === undefined) {
          throw new OnnxGraphError(
            `${s.node.opType} node '${s.node.name}': input '${inp}' is not a graph input, an initializer or any node's output`,
          );
        }
        if (p === i) {
          throw new OnnxGraphError(`${s.node.opType} node '${s.node.name}' consumes its own output '${inp}' (cycle)`);
        }
        d.add(p);
      }
      return d;
    });
    const state = new Uint8Array(steps.length); // 0 new, 1 visiting, 2 done
    const out: Step[] = [];
    const visit = (root: number) => {
      const stack: [number, number[]][] = [[root, [...deps[root]]]];
      state[root] = 1;
      while (stack.length) {
        const top = stack[stack.length - 1];
        const next = top[1].pop();
        if (next === undefined) {
          state[top[0]] = 2;
          out.push(steps[top[0]]);
          stack.pop();
          continue;
        }
        if (state[next] === 2) continue;
        if (state[next] === 1) {
          throw new OnnxGraphError(
            `cycle in graph through node '${steps[next].node.name}' (${steps[next].node.opType})`,
          );
        }
        state[next] = 1;
        stack.push([next, [...deps[next]]]);
      }
    };
    for (let i = 0; i < steps.length; i++) if (state[i] === 0) visit(i);
    for (const o of this.outputs) {
      if (!producer.has(o.name) && !known.has(o.name)) {
        throw new OnnxGraphError(`graph output '${o.name}' is produced by no node`);
      }
    }
    return out;
  }

  /**
   * Runs the graph. Inputs by name; returns every graph output by name. Output data is
   * owned by the caller (never reused by later runs).
   * @example `g.run({ x: tensor("float32", [1, 4], [1, 2, 3, 4]) }).y`
   */
  run(feeds: Record<string, Tensor>): Record<string, Tensor> {
    // produced values and feeds; constants are looked up in this.constants (not copied per run)
    const values = new Map<string, Tensor>();
    const constants = this.constants;
    for (const inp of this.inputs) {
      const t = feeds[inp.name];
      if (!t) throw new OnnxGraphError(`missing input '${inp.name}'`);
      if (inp.dtype && t.dtype !== inp.dtype) {
        throw new OnnxGraphError(`input '${inp.name}' must be ${inp.dtype}, got ${t.dtype}`);
      }
      if (!RUNNABLE.has(t.dtype) || !t.data || t.data.constructor !== arrayType(t.dtype)) {
        throw new OnnxGraphError(
          `input '${inp.name}': data must be a ${allocData(t.dtype, 0).constructor.name} for dtype ${t.dtype}`,
        );
      }
      let n = 1;
      for (const d of t.shape) n *= d;
      if (n !== t.data.length) {
        throw new OnnxGraphError(
          `input '${inp.name}': shape [${t.shape}] needs ${n} elements, data has ${t.data.length}`,
        );
      }
      if (inp.shape) {
        if (inp.shape.length !== t.shape.length) {
          throw new OnnxGraphError(`input '${inp.name}' must have rank ${inp.shape.length}, got shape [${t.shape}]`);
        }
        inp.shape.forEach((d, i) => {
          if (typeof d === "number" && d > 0 && t.shape[i] !== d) {
            throw new OnnxGraphError(`input '${inp.name}' dimension ${i} must be ${d}, got ${t.shape[i]}`);
          }
        });
      }
      values.set(inp.name, t);
    }
    const owned = new Set<TensorData>();
    const live = new Map<TensorData, number>();
    const pool = this.pool;
    const alloc = (dtype: DType, shape: number[]): Tensor => {
      let n = 1;
      for (const d of shape) {
        if (!Number.isInteger(d) || d < 0) {
          throw new OnnxGraphError(`${ctx.node.opType} node '${ctx.node.name}': invalid output shape [${shape}]`);
        }
        n *= d;
      }
      const key = dtype === "bool" ? `uint8:${n}` : `${dtype}:${n}`;
      const free = pool.get(key);
      // reused buffers are not cleared: every op writes all of its output
      const data: TensorData = free && free.length ? free.pop()! : allocData(dtype, n);
      owned.add(data);
      return { data, shape, dtype };
    };
    const release = (name: string) => {
      const t = values.get(name);
      if (!t) return;
      const c = (live.get(t.data) ?? 1) - 1;
      live.set(t.data, c);
      if (c <= 0 && owned.has(t.data) && !Array.isArray(t.data)) {
        owned.delete(t.data);
        const key = t.dtype === "bool" ? `uint8:${t.data.length}` : `${t.dtype}:${t.data.length}`;
        let free = pool.get(key);
        if (!free) pool.set(key, free = []);
        free.push(t.data);
      }
      values.delete(name);
    };
    const fallbacks = this.fallbacks;
    const ctx: OpContext = {
      node: this.steps[0]?.node,
      opset: this.opset,
      alloc,
      fellBack: () => fallbacks.set(ctx.node.name, (fallbacks.get(ctx.node.name) ?? 0) + 1),
      isConstant: (name) => constants.has(name),
    };
    const steps = this.steps, releases = this.releases;
    for (let k = 0; k < steps.length; k++) {
      const s = steps[k], { deadOut, lastUse } = releases[k];
      ctx.node = s.node;
      const ins = s.node.inputs.map((n) => (n ? values.get(n) ?? constants.get(n) : undefined));
      const outs = s.op.run(ctx, ins, s.attrs);
      const names = s.node.outputs;
      for (let i = 0; i < names.length; i++) {
        const name = names[i];
        if (!name) continue;
        const t = outs[i];
        if (!t) throw new OnnxGraphError(`${s.node.opType} node '${s.node.name}' produced no output ${i}`);
        values.set(name, t);
        live.set(t.data, (live.get(t.data) ?? 0) + 1);
        if (deadOut[i]) release(name);
      }
      for (const name of lastUse) release(name);
    }
    const result: Record<string, Tensor> = {};
    for (const o of this.outputs) {
      const t = values.get(o.name) ?? constants.get(o.name);
      if (!t) throw new OnnxGraphError(`graph output '${o.name}' was not computed`);
      if (owned.has(t.data)) {
        owned.delete(t.data);
        result[o.name] = t;
      } else {
        // an input, an initializer or a Constant passed through: copy, so callers never alias model data
        result[o.name] = { data: (t.data as Float32Array).slice(), shape: [...t.shape], dtype: t.dtype };
      }
    }
    return result;
  }
}
