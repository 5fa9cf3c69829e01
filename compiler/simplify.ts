/**
 * Graph simplification before quantization: constants folded (Constant nodes, constant
 * subgraphs, Shape of statically known tensors, DequantizeLinear of weights),
 * QuantizeLinear -> DequantizeLinear pairs of QDQ models turned into given quantization
 * parameters, Identity/Dropout removed,
 * BatchNormalization folded into the preceding Conv (or into a 1x1 depthwise Conv),
 * activation patterns fused (x * clip(x + 3, 0, 6) / 6 -> HardSwish, x * HardSigmoid(x)
 * -> HardSwish, x * Sigmoid(x) -> SiLU), MatMul + Add(bias) -> Gemm, a float Div by a
 * constant -> Mul by its reciprocal.
 *
 * @example
 * ```ts
 * import { simplify } from "./compiler/simplify.ts";
 * simplify(graph, { x: [1, 3, 48, 192] }); // graph now has static shapes in graph.shapes
 * ```
 * @module
 */
import { runNode } from "./evaluate.ts";
import { CompileError, type Const, constant, type Graph, type Node, numel } from "./graph.ts";
import { foldAffineIntoConv, foldPad, rounds } from "./fold_conv.ts";
import { ORDER_KEEPING_OPS } from "../onnx/ops/kinds.ts";
import type { QParams } from "./quantize.ts";

/**
 * Fixes the input shapes (symbolic dimensions replaced; the key "" names the first
 * input) and computes every tensor's
 * static shape by running the graph on zeros (cheap for the models this targets).
 *
 * @example
 * ```ts
 * inferShapes(graph, { x: [1, 3, 8, 8] });
 * graph.shapes.get("y"); // [1, 10]
 * ```
 */
export function inferShapes(g: Graph, inputShapes: Record<string, number[]> = {}): void {
  g.shapes.clear();
  g.dtypes.clear();
  const vals = new Map<string, Const>();
  for (const [k, inp] of g.inputs.entries()) {
    const given = inputShapes[inp.name] ?? (k === 0 ? inputShapes[""] : undefined);
    const shape = given ?? inp.shape.map((d) => (typeof d === "number" && d > 0 ? d : NaN));
    if (shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new CompileError(`input ${inp.name} has a dynamic shape ${JSON.stringify(inp.shape)}: give --input-shape`, {
        usage: true,
      });
    }
    inp.shape = [...shape];
    g.shapes.set(inp.name, [...shape]);
    vals.set(inp.name, constant(shape, new Float32Array(numel(shape)), "float32"));
  }
  for (const [k, c] of g.consts) {
    g.shapes.set(k, c.dims);
    vals.set(k, c);
  }
  for (const n of g.nodes) {
    const ins = n.inputs.map((i) => (i === "" ? undefined : vals.get(i)));
    ins.forEach((v, k) => {
      if (!v && n.inputs[k] !== "") {
        throw new CompileError(`node ${n.name} (${n.op}): input ${n.inputs[k]} is never produced`);
      }
    });
    const outs = runNode(n, ins, true, g.opset);
    n.outputs.forEach((o, k) => {
      if (!outs[k]) return;
      vals.set(o, outs[k]);
      g.shapes.set(o, outs[k].dims);
      if (outs[k].dtype !== "float32") g.dtypes.set(o, outs[k].dtype);
    });
  }
}

function isConst(g: Graph, name: string): boolean {
  return name === "" || g.consts.has(name);
}

/** A folded DequantizeLinear of int8 weights with zero point 0: remember the weight scales. */
function noteWeightScales(g: Graph, n: Node, w: Const): void {
  const q = g.consts.get(n.inputs[0])!,
    sc = g.consts.get(n.inputs[1])!,
    zp = n.inputs[2] ? g.consts.get(n.inputs[2]) : undefined;
  const axis = typeof n.attrs.axis === "number" ? n.attrs.axis : 1;
  if (q.dtype !== "int8" || (zp && zp.data.some((v) => v !== 0)) || w.dims.length < 2) return;
  const M = w.dims[0];
  if (numel(sc.dims) === M && axis === 0) g.weightScales.set(n.outputs[0], Float32Array.from(sc.data));
  else if (w.dims.length === 2 && axis === 1 && numel(sc.dims) === w.dims[1]) {
    g.weightScales.set(n.outputs[0], Float32Array.from(sc.data));
  } else if (numel(sc.dims) === 1) g.weightScales.set(n.outputs[0], new Float32Array(M).fill(sc.data[0]));
}

/**
 * QuantizeLinear -> DequantizeLinear pairs on activations (QDQ models): the pair is
 * removed and its scale and zero point become the tensor's quantization (uint8
 * parameters are moved to the same grid in int8: zero point - 128).
 */
function foldQdq(g: Graph): boolean {
  for (const q of g.nodes) {
    if (q.op !== "QuantizeLinear" || g.consts.has(q.inputs[0])) continue;
    const sc = g.consts.get(q.inputs[1]), zp = q.inputs[2] ? g.consts.get(q.inputs[2]) : undefined;
    if (!sc || numel(sc.dims) !== 1 || (q.inputs[2] && !zp)) continue;
    const dqs = g.consumers(q.outputs[0]);
    if (!dqs.length || dqs.some((d) => d.op !== "DequantizeLinear") || g.outputs.includes(q.outputs[0])) continue;
    const zero = zp ? zp.data[0] - (zp.dtype === "uint8" ? 128 : 0) : 0;
    const x = q.inputs[0];
    g.quant.set(x, { scale: Math.fround(sc.data[0]), zeroPoint: zero });
    for (const d of dqs) {
      const out = d.outputs[0];
      g.nodes = g.nodes.filter((m) => m !== d);
      if (g.outputs.includes(out)) {
        // keep the output name: rename x's producer output
        const p = g.producer(x);
        if (p) {
          p.outputs = p.outputs.map((o) => (o === x ? out : o));
          g.replaceUses(x, out);
          g.quant.set(out, g.quant.get(x)!);
          continue;
        }
      }
      g.replaceUses(out, x);
    }
    g.nodes = g.nodes.filter((m) => m !== q);
    return true;
  }
  return false;
}

/** The one grid of the order-keeping ops that read `x` (as their order-kept input), if they all have one. */
function readersGrid(g: Graph, x: string): QParams | undefined {
  const cs = g.consumers(x);
  if (!cs.length || g.outputs.includes(x)) return undefined;
  let q: QParams | undefined;
  for (const c of cs) {
    if (!ORDER_KEEPING_OPS.has(c.op) || c.outputs.filter((o) => o !== "").length !== 1) return undefined;
    if (c.op !== "Concat" && c.inputs.indexOf(x, 1) >= 0) return undefined; // x is also a parameter
    const cq = g.quant.get(c.outputs[0]);
    if (!cq || (q && (cq.scale !== q.scale || cq.zeroPoint !== q.zeroPoint))) return undefined;
    q = cq;
  }
  return q;
}

/**
 * QDQ models: a float tensor read only by ops that keep values' order (MaxPool, layout
 * ops, Concat, Relu, Clip) whose outputs the model quantizes on one grid gets that grid
 * too. Quantization is monotone, so `q(max(v)) = max(q(v))` (likewise for a selection or
 * a clamp): rounding before the op gives the same int8 values as rounding after it, and
 * the producer (a `PRelu` whose output onnxruntime leaves float before a MaxPool) joins
 * the quantized region, or the model input is quantized (YOLOX's Focus: four strided
 * Slices of the image, concatenated, then quantized) and its readers run on the device.
 */
function quantizeBeforeOrderKeeping(g: Graph): boolean {
  if (!g.quant.size) return false;
  for (const n of g.nodes) {
    if (!ORDER_KEEPING_OPS.has(n.op) || n.outputs.filter((o) => o !== "").length !== 1) continue;
    if (!g.quant.get(n.outputs[0])) continue;
    const ins = n.op === "Concat" ? n.inputs : [n.inputs[0]];
    for (const x of ins) {
      if (x === "" || g.consts.has(x) || g.quant.has(x) || g.dtypes.has(x)) continue;
      const q = readersGrid(g, x);
      if (!q) continue;
      g.quant.set(x, q);
      return true;
    }
  }
  return false;
}

/** Folds Constant nodes, nodes with constant inputs, and Shape of static tensors. */
function foldConstants(g: Graph): boolean {
  let changed = false;
  const keep: Node[] = [];
  for (const n of g.nodes) {
    let outs: Const[] | undefined;
    if (n.op === "Constant") outs = runNode(n, [], false, g.opset);
    else if (n.op === "Shape" && g.shapes.has(n.inputs[0])) {
      outs = [constant([g.shapes.get(n.inputs[0])!.length], Float64Array.from(g.shapes.get(n.inputs[0])!), "int64")];
    } else if (n.inputs.length && n.inputs.every((i) => isConst(g, i))) {
      outs = runNode(n, n.inputs.map((i) => (i === "" ? undefined : g.consts.get(i))), false, g.opset);
      if (n.op === "DequantizeLinear") noteWeightScales(g, n, outs[0]);
    }
    if (outs) {
      n.outputs.forEach((o, k) => outs![k] && g.consts.set(o, outs![k]));
      changed = true;
    } else keep.push(n);
  }
  g.nodes = keep;
  return changed;
}

function scalarOf(g: Graph, name: string): number | undefined {
  const c = g.consts.get(name);
  if (!c || numel(c.dims) !== 1) return undefined;
  return c.data[0];
}

function soleConsumer(g: Graph, name: string): Node | undefined {
  const cs = g.consumers(name);
  return cs.length === 1 && !g.outputs.includes(name) ? cs[0] : undefined;
}

/** Conv (+ bias) followed by BatchNormalization -> Conv with folded weights and bias. */
function foldBatchNorm(g: Graph): boolean {
  for (const bn of g.nodes) {
    if (bn.op !== "BatchNormalization" || !bn.inputs.slice(1).every((i) => g.consts.has(i))) continue;
    const conv = g.producer(bn.inputs[0]);
    if (!conv || conv.op !== "Conv" || !g.consts.has(conv.inputs[1]) || soleConsumer(g, bn.inputs[0]) !== bn) continue;
    if (rounds(g, bn.inputs[0])) continue; // a QDQ model rounds the Conv output before the norm
    const [sc, bi, mean, vr] = bn.inputs.slice(1).map((i) => g.consts.get(i)!);
    const eps = typeof bn.attrs.epsilon === "number" ? bn.attrs.epsilon : 1e-5;
    const w = g.consts.get(conv.inputs[1])!;
    const M = w.dims[0], per = numel(w.dims.slice(1));
    const b = conv.inputs[2] ? g.consts.get(conv.inputs[2]) : undefined;
    const nw = new Float32Array(w.data.length), nb = new Float32Array(M);
    for (let m = 0; m < M; m++) {
      const f = sc.data[m] / Math.sqrt(vr.data[m] + eps);
      for (let k = 0; k < per; k++) nw[m * per + k] = w.data[m * per + k] * f;
      nb[m] = ((b ? b.data[m] : 0) - mean.data[m]) * f + bi.data[m];
    }
    const wn = g.fresh(`${conv.name}_w_bn`), bname = g.fresh(`${conv.name}_b_bn`);
    g.consts.set(wn, constant(w.dims, nw, "float32"));
    g.consts.set(bname, constant([M], nb, "float32"));
    conv.inputs = [conv.inputs[0], wn, bname];
    conv.outputs = [bn.outputs[0]];
    g.nodes = g.nodes.filter((n) => n !== bn);
    return true;
  }
  return false;
}

function removeIdentities(g: Graph): boolean {
  for (const n of g.nodes) {
    const noopCast = n.op === "Cast" && n.attrs.to === 1 && !g.dtypes.has(n.inputs[0]) && !g.consts.has(n.inputs[0]);
    if (n.op !== "Identity" && n.op !== "Dropout" && !noopCast) continue;
    const out = n.outputs[0], x = n.inputs[0];
    if (g.outputs.includes(out)) {
      // keep the graph output's name: rename the producer's output instead
      const p = g.producer(x);
      if (!p || g.outputs.includes(x) || (g.quant.has(out) && g.quant.has(x))) continue; // cannot drop it
      g.nodes = g.nodes.filter((m) => m !== n);
      p.outputs = p.outputs.map((o) => (o === x ? out : o));
      g.replaceUses(x, out);
      if (g.quant.has(x)) g.quant.set(out, g.quant.get(x)!);
      return true;
    }
    if (g.quant.has(out) && !g.quant.has(x)) continue;
    g.nodes = g.nodes.filter((m) => m !== n);
    g.replaceUses(out, x);
    return true;
  }
  return false;
}

const near = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) < 1e-6 * Math.max(1, Math.abs(b));

function clipBounds(g: Graph, n: Node): [number, number] {
  const lo = n.inputs[1] ? scalarOf(g, n.inputs[1]) : (n.attrs.min as number | undefined);
  const hi = n.inputs[2] ? scalarOf(g, n.inputs[2]) : (n.attrs.max as number | undefined);
  return [lo ?? -Infinity, hi ?? Infinity];
}

/** Transpose -> Transpose: composed into one, or removed when the composition is the identity. */
function cancelTransposes(g: Graph): boolean {
  for (const t2 of g.nodes) {
    if (t2.op !== "Transpose") continue;
    const t1 = g.producer(t2.inputs[0]);
    if (!t1 || t1.op !== "Transpose" || soleConsumer(g, t1.outputs[0]) !== t2) continue;
    const r = g.shapes.get(t1.inputs[0])?.length;
    if (!r) continue;
    const id = [...Array(r).keys()];
    const p1 = (t1.attrs.perm as number[]) ?? [...id].reverse(), p2 = (t2.attrs.perm as number[]) ?? [...id].reverse();
    // a Transpose keeps values: only a change of grid between the two would round
    const q0 = g.quant.get(t1.inputs[0]), q1 = g.quant.get(t1.outputs[0]), q2 = g.quant.get(t2.outputs[0]);
    if (q1 && !(q2 && q1.scale === q2.scale && q1.zeroPoint === q2.zeroPoint)) continue;
    if (q2 && !(q0 && q0.scale === q2.scale && q0.zeroPoint === q2.zeroPoint)) continue;
    const p = p2.map((i) => p1[i]);
    g.nodes = g.nodes.filter((m) => m !== t1);
    if (p.every((v, i) => v === i)) {
      Object.assign(t2, { op: "Identity", inputs: [t1.inputs[0]], attrs: {} }); // removed next
    } else {
      t2.inputs = [t1.inputs[0]];
      t2.attrs = { ...t2.attrs, perm: p };
    }
    return true;
  }
  return false;
}

/** Activation patterns -> single nodes. */
function fusePatterns(g: Graph): boolean {
  for (const n of g.nodes) {
    // Div by constant -> Mul by reciprocal (float division only: an integer Div truncates)
    if (
      n.op === "Div" && g.consts.has(n.inputs[1]) && !g.consts.has(n.inputs[0]) && !rounds(g, n.outputs[0]) &&
      !g.dtypes.has(n.inputs[0]) && g.consts.get(n.inputs[1])!.dtype === "float32"
    ) {
      const c = g.consts.get(n.inputs[1])!;
      const name = g.fresh(`${n.name}_recip`);
      g.consts.set(name, constant(c.dims, Float32Array.from(c.data, (v) => 1 / v), "float32"));
      n.op = "Mul";
      n.inputs = [n.inputs[0], name];
      return true;
    }
    // x * clip(x + 3, 0, 6) [* 1/6] -> HardSwish
    if (n.op === "Mul" && !n.inputs.some((i) => g.consts.has(i))) {
      for (const [xi, ci] of [[0, 1], [1, 0]]) {
        const x = n.inputs[xi], clip = g.producer(n.inputs[ci]);
        // a QDQ model rounds the activation before the Mul: keep both ops (lower fuses them exactly)
        if (!clip || rounds(g, clip.outputs[0])) continue;
        if (
          clip.op === "HardSigmoid" && clip.inputs[0] === x && near(clip.attrs.alpha as number ?? 0.2, 1 / 6) &&
          near(clip.attrs.beta as number ?? 0.5, 0.5) && soleConsumer(g, clip.outputs[0]) === n
        ) {
          n.op = "HardSwish";
          n.inputs = [x];
          g.nodes = g.nodes.filter((m) => m !== clip);
          return true;
        }
        if (clip.op === "Sigmoid" && clip.inputs[0] === x && soleConsumer(g, clip.outputs[0]) === n) {
          n.op = "SiLU";
          n.inputs = [x];
          g.nodes = g.nodes.filter((m) => m !== clip);
          return true;
        }
        if (clip.op !== "Clip" && clip.op !== "Relu6") continue;
        const [lo, hi] = clipBounds(g, clip);
        const add = g.producer(clip.inputs[0]);
        if (lo !== 0 || hi !== 6 || !add || add.op !== "Add") continue;
        const three = add.inputs[0] === x ? add.inputs[1] : add.inputs[1] === x ? add.inputs[0] : undefined;
        if (!three || !near(scalarOf(g, three), 3)) continue;
        const div = soleConsumer(g, n.outputs[0]);
        if (!div || div.op !== "Mul" || !near(scalarOf(g, div.inputs[1]), 1 / 6)) continue;
        if (soleConsumer(g, clip.outputs[0]) !== n || soleConsumer(g, add.outputs[0]) !== clip) continue;
        if (rounds(g, add.outputs[0]) || rounds(g, n.outputs[0])) continue;
        div.op = "HardSwish";
        div.inputs = [x];
        div.attrs = {};
        g.nodes = g.nodes.filter((m) => m !== n && m !== clip && m !== add);
        return true;
      }
    }
    // MatMul(x, W) + b -> Gemm
    if (
      n.op === "MatMul" && g.consts.has(n.inputs[1]) && g.consts.get(n.inputs[1])!.dims.length === 2 &&
      (g.shapes.get(n.inputs[0])?.length ?? 0) === 2
    ) {
      const add = rounds(g, n.outputs[0]) ? undefined : soleConsumer(g, n.outputs[0]);
      const bias = add && add.op === "Add" ? add.inputs.find((i) => i !== n.outputs[0] && g.consts.has(i)) : undefined;
      n.op = "Gemm";
      n.attrs = {};
      if (add && bias) {
        n.inputs = [n.inputs[0], n.inputs[1], bias];
        n.outputs = [add.outputs[0]];
        g.nodes = g.nodes.filter((m) => m !== add);
      }
      return true;
    }
  }
  return false;
}

/**
 * Runs every simplification to a fixed point and infers static shapes.
 *
 * @example
 * ```ts
 * simplify(graph, { x: [1, 3, 48, 192] });
 * ```
 */
export function simplify(g: Graph, inputShapes: Record<string, number[]> = {}): void {
  inferShapes(g, inputShapes);
  for (let iter = 0; iter < 10000; iter++) {
    const changed = foldConstants(g) || foldQdq(g) || quantizeBeforeOrderKeeping(g) || removeIdentities(g) ||
      foldBatchNorm(g) || fusePatterns(g) ||
      foldAffineIntoConv(g) || foldPad(g) || cancelTransposes(g);
    if (!changed) break;
  }
  g.prune();
  // folding keeps tensor names (and so their shapes); new constants bring their own
  for (const [k, c] of g.consts) g.shapes.set(k, c.dims);
  const known = new Set(g.shapes.keys());
  if (g.nodes.some((n) => n.outputs.some((o) => o !== "" && !known.has(o)))) inferShapes(g, inputShapes);
}

export { CompileError };
