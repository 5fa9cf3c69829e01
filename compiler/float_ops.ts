/**
 * Float (NCHW, ONNX semantics) implementations of the ops the compiler understands, used
 * for constant folding and for calibration (running the float model on calibration
 * data to record activation ranges). Plain loops; float32 storage.
 *
 * @example
 * ```ts
 * import { runNode } from "./compiler/float_ops.ts";
 * import { constant } from "./compiler/graph.ts";
 * const [y] = runNode({ op: "Relu", name: "r", inputs: ["x"], outputs: ["y"], attrs: {} },
 *   [constant([2], new Float32Array([-1, 2]))]);
 * ```
 * @module
 */
import { attrA, attrN, CompileError, type Const, constant, f32, type Node, numel } from "./graph.ts";
import { runHostOp } from "./host_ops.ts";
import { conv, convTranspose, pool, poolOut, resolvePads } from "./float_nn.ts";

export { poolOut, resolvePads };

const i64 = (dims: number[], data: number[] | Float64Array) => constant(dims, Float64Array.from(data), "int64");

function strides(dims: number[]): number[] {
  const s = new Array(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

/**
 * numpy broadcasting of two shapes.
 *
 * @example
 * ```ts
 * broadcastShape([1, 8, 4, 4], [1, 8, 1, 1]); // [1, 8, 4, 4]
 * ```
 */
export function broadcastShape(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1, y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new CompileError(`shapes ${JSON.stringify(a)} and ${JSON.stringify(b)} do not broadcast`);
    }
    out.push(Math.max(x, y));
  }
  return out;
}

function binary(a: Const, b: Const, f: (x: number, y: number) => number): Const {
  const dims = broadcastShape(a.dims, b.dims);
  const n = dims.length;
  const pa = [...new Array(n - a.dims.length).fill(1), ...a.dims];
  const pb = [...new Array(n - b.dims.length).fill(1), ...b.dims];
  const sa = strides(pa).map((s, i) => (pa[i] === 1 ? 0 : s));
  const sb = strides(pb).map((s, i) => (pb[i] === 1 ? 0 : s));
  const isInt = a.dtype !== "float32" && b.dtype !== "float32";
  const out = isInt ? new Float64Array(numel(dims)) : new Float32Array(numel(dims));
  const idx = new Array(n).fill(0);
  for (let k = 0; k < out.length; k++) {
    let ia = 0, ib = 0;
    for (let d = 0; d < n; d++) {
      ia += idx[d] * sa[d];
      ib += idx[d] * sb[d];
    }
    out[k] = f(a.data[ia], b.data[ib]);
    for (let d = n - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return constant(dims, out, isInt ? a.dtype : "float32");
}

function unary(x: Const, f: (v: number) => number): Const {
  return f32(x.dims, Float32Array.from(x.data, f));
}

function transpose(x: Const, perm: number[]): Const {
  const dims = perm.map((p) => x.dims[p]);
  const sx = strides(x.dims);
  const out = x.data instanceof Float32Array ? new Float32Array(numel(dims)) : new Float64Array(numel(dims));
  const n = dims.length;
  const idx = new Array(n).fill(0);
  for (let k = 0; k < out.length; k++) {
    let src = 0;
    for (let d = 0; d < n; d++) src += idx[d] * sx[perm[d]];
    out[k] = x.data[src];
    for (let d = n - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return constant(dims, out, x.dtype);
}

function matmul(a: Const, b: Const): Const {
  const ad = a.dims.length === 1 ? [1, a.dims[0]] : a.dims, bd = b.dims.length === 1 ? [b.dims[0], 1] : b.dims;
  const M = ad[ad.length - 2], K = ad[ad.length - 1], Nn = bd[bd.length - 1];
  if (bd[bd.length - 2] !== K) throw new CompileError(`MatMul: inner dimensions ${K} and ${bd[bd.length - 2]} differ`);
  const batch = broadcastShape(ad.slice(0, -2), bd.slice(0, -2));
  const nb = numel(batch);
  const out = new Float32Array(nb * M * Nn);
  const bIndex = (dims: number[], k: number) => {
    // index of batch element k (of `batch`) in an operand with batch dims `dims` (broadcast)
    const pd = [...new Array(batch.length - dims.length).fill(1), ...dims];
    let idx = 0, rem = k;
    const st = strides(batch);
    for (let i = 0; i < batch.length; i++) {
      const c = Math.floor(rem / st[i]);
      rem -= c * st[i];
      idx = idx * pd[i] + (pd[i] === 1 ? 0 : c);
    }
    return idx;
  };
  for (let k = 0; k < nb; k++) {
    const ao = bIndex(ad.slice(0, -2), k) * M * K, bo = bIndex(bd.slice(0, -2), k) * K * Nn;
    for (let r = 0; r < M; r++) {
      for (let j = 0; j < Nn; j++) {
        let acc = 0;
        for (let q = 0; q < K; q++) acc += a.data[ao + r * K + q] * b.data[bo + q * Nn + j];
        out[(k * M + r) * Nn + j] = acc;
      }
    }
  }
  let dims = [...batch, M, Nn];
  if (a.dims.length === 1) dims = [...batch, Nn];
  if (b.dims.length === 1) dims = a.dims.length === 1 ? [...batch] : [...batch, M];
  return f32(dims, out);
}

function reduce(n: Node, x: Const, axesIn: number[] | undefined): Const {
  const r = x.dims.length;
  const axes = (axesIn ?? x.dims.map((_, i) => i)).map((a) => (a < 0 ? a + r : a));
  const keep = attrN(n, "keepdims", 1) === 1;
  const outDims = x.dims.map((d, i) => (axes.includes(i) ? 1 : d));
  const out = new Float32Array(numel(outDims)).fill(
    n.op === "ReduceMax" ? -Infinity : n.op === "ReduceMin" ? Infinity : 0,
  );
  const so = strides(outDims);
  const idx = new Array(r).fill(0);
  for (let k = 0; k < x.data.length; k++) {
    let o = 0;
    for (let d = 0; d < r; d++) o += (axes.includes(d) ? 0 : idx[d]) * so[d];
    const v = x.data[k];
    if (n.op === "ReduceMax") out[o] = Math.max(out[o], v);
    else if (n.op === "ReduceMin") out[o] = Math.min(out[o], v);
    else if (n.op === "ReduceSumSquare") out[o] += v * v;
    else out[o] += v;
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < x.dims[d]) break;
      idx[d] = 0;
    }
  }
  if (n.op === "ReduceMean") {
    const cnt = numel(x.dims) / numel(outDims);
    for (let i = 0; i < out.length; i++) out[i] /= cnt;
  }
  return f32(keep ? outDims : x.dims.filter((_, i) => !axes.includes(i)), out);
}

function sliceAxes(x: Const, starts: number[], ends: number[], axes: number[], steps: number[]): Const {
  const r = x.dims.length;
  const st = new Array(r).fill(0), sp = new Array(r).fill(1), dims = [...x.dims];
  axes.forEach((a0, k) => {
    const a = a0 < 0 ? a0 + r : a0;
    const d = x.dims[a];
    const step = steps[k] ?? 1;
    let s = starts[k], e = ends[k];
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
      dims[a] = Math.max(0, Math.ceil((e - s) / step));
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
      dims[a] = Math.max(0, Math.ceil((e - s) / step));
    }
    st[a] = s;
    sp[a] = step;
  });
  const sx = strides(x.dims);
  const out = x.data instanceof Float32Array ? new Float32Array(numel(dims)) : new Float64Array(numel(dims));
  const idx = new Array(r).fill(0);
  for (let k = 0; k < out.length; k++) {
    let src = 0;
    for (let d = 0; d < r; d++) src += (st[d] + idx[d] * sp[d]) * sx[d];
    out[k] = x.data[src];
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < dims[d]) break;
      idx[d] = 0;
    }
  }
  return constant(dims, out, x.dtype);
}

function concat(xs: Const[], axis0: number): Const {
  const r = xs[0].dims.length;
  const axis = axis0 < 0 ? axis0 + r : axis0;
  const dims = [...xs[0].dims];
  dims[axis] = xs.reduce((a, x) => a + x.dims[axis], 0);
  const outer = numel(dims.slice(0, axis)), inner = numel(dims.slice(axis + 1));
  const isF = xs.some((x) => x.data instanceof Float32Array);
  const out = isF ? new Float32Array(numel(dims)) : new Float64Array(numel(dims));
  let off = 0;
  for (const x of xs) {
    const len = x.dims[axis];
    for (let o = 0; o < outer; o++) {
      for (let a = 0; a < len * inner; a++) out[o * dims[axis] * inner + off * inner + a] = x.data[o * len * inner + a];
    }
    off += len;
  }
  return constant(dims, out, isF ? "float32" : xs[0].dtype);
}

function reshapeDims(x: Const, shape: number[], allowZero = false): number[] {
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
  const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  return dims.map((d) => (d === -1 ? numel(x.dims) / known : d));
}

function resize(n: Node, x: Const, ins: (Const | undefined)[]): Const {
  const mode = (n.attrs.mode as string) ?? "nearest";
  if (mode !== "nearest") throw new CompileError(`node ${n.name} (${n.op}): only nearest mode is supported`);
  let dims: number[];
  const scales = n.op === "Upsample" ? ins[1] : ins[2];
  const sizes = n.op === "Upsample" ? undefined : ins[3];
  if (sizes && sizes.data.length) dims = Array.from(sizes.data);
  else if (scales && scales.data.length) dims = x.dims.map((d, i) => Math.floor(d * scales.data[i]));
  else throw new CompileError(`node ${n.name} (${n.op}): needs constant scales or sizes`);
  const [N, C, H, W] = x.dims;
  const [, , OH, OW] = dims;
  const out = new Float32Array(numel(dims));
  for (let p = 0; p < N * C; p++) {
    for (let h = 0; h < OH; h++) {
      for (let w = 0; w < OW; w++) {
        const ih = Math.min(H - 1, Math.floor((h * H) / OH)), iw = Math.min(W - 1, Math.floor((w * W) / OW));
        out[(p * OH + h) * OW + w] = x.data[(p * H + ih) * W + iw];
      }
    }
  }
  return f32(dims, out);
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** erf (Abramowitz-Stegun 7.1.26, |error| < 1.5e-7): float execution only (calibration, folding). */
function erf(v: number): number {
  const s = Math.sign(v), a = Math.abs(v);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 -
    (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t *
      Math.exp(-a * a);
  return s * y;
}

/**
 * Scalar float functions of the element-wise activations (ONNX definitions), used for
 * float execution and for the device's lookup tables.
 *
 * @example
 * ```ts
 * activation({ op: "HardSwish", name: "h", inputs: [], outputs: [], attrs: {} })!(1); // 0.666...
 * ```
 */
export function activation(n: Node): ((v: number) => number) | undefined {
  switch (n.op) {
    case "Relu":
      return (v) => Math.max(v, 0);
    case "Sigmoid":
      return sigmoid;
    case "Tanh":
      return Math.tanh;
    case "HardSigmoid": {
      const a = attrN(n, "alpha", 0.2), b = attrN(n, "beta", 0.5);
      return (v) => Math.max(0, Math.min(1, Math.fround(a) * v + Math.fround(b)));
    }
    case "HardSwish":
      return (v) => v * Math.max(0, Math.min(1, v / 6 + 0.5));
    case "SiLU":
    case "Swish":
      return (v) => v * sigmoid(v);
    case "LeakyRelu": {
      const a = attrN(n, "alpha", 0.01);
      return (v) => (v >= 0 ? v : Math.fround(a) * v);
    }
    case "Elu": {
      const a = attrN(n, "alpha", 1);
      return (v) => (v >= 0 ? v : a * (Math.exp(v) - 1));
    }
    case "Exp":
      return Math.exp;
    case "Sqrt":
      return Math.sqrt;
    case "Neg":
      return (v) => -v;
    case "Abs":
      return Math.abs;
    case "Identity":
    case "Dropout":
      return (v) => v;
    default:
      return undefined;
  }
}

/**
 * Output shape of the heavy ops (Conv, ConvTranspose, pools, Gemm/MatMul, Resize, Softmax)
 * without computing values, for shape inference; undefined for the others.
 */
function outputDims(n: Node, ins: (Const | undefined)[]): number[] | undefined {
  const x = ins[0];
  if (!x || x.dtype !== "float32") return undefined;
  const d = x.dims;
  switch (n.op) {
    case "Conv":
    case "MaxPool":
    case "AveragePool": {
      if (d.length !== 4 || (n.op === "Conv" && !ins[1])) return undefined;
      const k = n.op === "Conv" ? ins[1]!.dims.slice(2) : attrA(n, "kernel_shape", [1, 1]);
      const st = attrA(n, "strides", [1, 1]), dl = attrA(n, "dilations", [1, 1]);
      const [pt, pl, pb, pr] = resolvePads(n, d.slice(2), k, st, dl);
      const ceil = n.op !== "Conv" && attrN(n, "ceil_mode", 0) === 1;
      if (n.outputs.length > 1 && n.outputs[1]) return undefined;
      return [
        d[0],
        n.op === "Conv" ? ins[1]!.dims[0] : d[1],
        poolOut(d[2], k[0], st[0], dl[0], pt, pb, ceil),
        poolOut(d[3], k[1], st[1], dl[1], pl, pr, ceil),
      ];
    }
    case "ConvTranspose": {
      const w = ins[1];
      if (d.length !== 4 || !w || n.attrs.output_shape || n.attrs.auto_pad) return undefined;
      const k = w.dims.slice(2), st = attrA(n, "strides", [1, 1]), dl = attrA(n, "dilations", [1, 1]);
      const [pt, pl, pb, pr] = attrA(n, "pads", [0, 0, 0, 0]), op = attrA(n, "output_padding", [0, 0]);
      return [
        d[0],
        w.dims[1] * attrN(n, "group", 1),
        st[0] * (d[2] - 1) + op[0] + (k[0] - 1) * dl[0] + 1 - pt - pb,
        st[1] * (d[3] - 1) + op[1] + (k[1] - 1) * dl[1] + 1 - pl - pr,
      ];
    }
    case "GlobalAveragePool":
    case "GlobalMaxPool":
      return [d[0], d[1], ...d.slice(2).map(() => 1)];
    case "MatMul": {
      const b = ins[1];
      if (!b || d.length < 2 || b.dims.length < 2) return undefined;
      return [...broadcastShape(d.slice(0, -2), b.dims.slice(0, -2)), d[d.length - 2], b.dims[b.dims.length - 1]];
    }
    case "Gemm": {
      const b = ins[1];
      if (!b || d.length !== 2) return undefined;
      return [attrN(n, "transA", 0) ? d[1] : d[0], attrN(n, "transB", 0) ? b.dims[0] : b.dims[1]];
    }
    case "Softmax":
    case "HardSwish":
    case "Sigmoid":
    case "Relu":
      return [...d];
    default:
      return undefined;
  }
}

/**
 * Runs one node on constant inputs (`undefined` for absent optional inputs); returns its
 * outputs. With `shapeOnly`, heavy ops return zeros of the right shape (shape inference).
 * Throws CompileError for an op it does not know.
 *
 * @example
 * ```ts
 * const [y] = runNode({ op: "Add", name: "a", inputs: ["x", "y"], outputs: ["z"], attrs: {} },
 *   [constant([1], new Float32Array([1])), constant([1], new Float32Array([2]))]);
 * ```
 */
export function runNode(n: Node, ins: (Const | undefined)[], shapeOnly = false): Const[] {
  if (shapeOnly) {
    const dims = outputDims(n, ins);
    if (dims) return [f32(dims)];
  }
  const x = ins[0]!;
  const act = activation(n);
  if (act && n.op !== "Identity" && n.op !== "Dropout") return [unary(x, act)];
  switch (n.op) {
    case "Identity":
    case "Dropout":
      return [x];
    case "Constant": {
      const v = n.attrs.value;
      if (v && typeof v === "object" && !Array.isArray(v)) return [v as Const];
      if (typeof n.attrs.value_float === "number") return [f32([], new Float32Array([n.attrs.value_float as number]))];
      if (typeof n.attrs.value_int === "number") return [i64([], [n.attrs.value_int as number])];
      if (Array.isArray(n.attrs.value_ints)) {
        return [i64([(n.attrs.value_ints as number[]).length], n.attrs.value_ints as number[])];
      }
      if (Array.isArray(n.attrs.value_floats)) {
        const a = n.attrs.value_floats as number[];
        return [f32([a.length], Float32Array.from(a))];
      }
      throw new CompileError(`node ${n.name} (Constant): unsupported value`);
    }
    case "DequantizeLinear":
    case "QuantizeLinear": // one semantics: the graph runner's (onnx/ops), rounding half to even
      return runHostOp(n, ins, 21)!;
    case "Conv":
      return [conv(n, x, ins[1]!, ins[2])];
    case "ConvTranspose":
      return [convTranspose(n, x, ins[1]!, ins[2])];
    case "Add":
      return [binary(x, ins[1]!, (a, b) => a + b)];
    case "Sub":
      return [binary(x, ins[1]!, (a, b) => a - b)];
    case "Mul":
      return [binary(x, ins[1]!, (a, b) => a * b)];
    case "Div":
      return [binary(x, ins[1]!, (a, b) => (x.dtype === "float32" ? a / b : Math.trunc(a / b)))];
    case "Pow":
      return [binary(x, ins[1]!, (a, b) => Math.pow(a, b))];
    case "Max":
      return [ins.slice(1).reduce((a, b) => binary(a!, b!, Math.max), x)!];
    case "Min":
      return [ins.slice(1).reduce((a, b) => binary(a!, b!, Math.min), x)!];
    case "Clip": {
      const lo = ins[1]?.data[0] ?? attrN(n, "min", -Infinity);
      const hi = ins[2]?.data[0] ?? attrN(n, "max", Infinity);
      return [unary(x, (v) => Math.min(Math.max(v, lo), hi))];
    }
    case "BatchNormalization": {
      const [sc, bi, mean, v] = [ins[1]!, ins[2]!, ins[3]!, ins[4]!];
      const eps = attrN(n, "epsilon", 1e-5);
      const C = x.dims[1], inner = numel(x.dims.slice(2));
      const out = new Float32Array(x.data.length);
      for (let i = 0; i < out.length; i++) {
        const c = Math.floor(i / inner) % C;
        out[i] = ((x.data[i] - mean.data[c]) / Math.sqrt(v.data[c] + eps)) * sc.data[c] + bi.data[c];
      }
      return [f32(x.dims, out)];
    }
    case "GlobalAveragePool":
    case "GlobalMaxPool": {
      const [N, C] = x.dims;
      const inner = numel(x.dims.slice(2));
      const out = new Float32Array(N * C);
      for (let p = 0; p < N * C; p++) {
        let s = 0, m = -Infinity;
        for (let k = 0; k < inner; k++) {
          const v = x.data[p * inner + k];
          s += v;
          if (v > m) m = v;
        }
        out[p] = n.op === "GlobalMaxPool" ? m : s / inner;
      }
      return [f32([N, C, ...x.dims.slice(2).map(() => 1)], out)];
    }
    case "MaxPool":
      return [pool(n, x, "max")];
    case "AveragePool":
      return [pool(n, x, "avg")];
    case "Gemm": {
      let a = x, b = ins[1]!;
      if (attrN(n, "transA", 0)) a = transpose(a, [1, 0]);
      if (attrN(n, "transB", 0)) b = transpose(b, [1, 0]);
      let y = matmul(a, b);
      const alpha = attrN(n, "alpha", 1), beta = attrN(n, "beta", 1);
      if (alpha !== 1) y = unary(y, (v) => v * alpha);
      if (ins[2]) y = binary(y, ins[2], (p, q) => p + beta * q);
      return [y];
    }
    case "MatMul":
      return [matmul(x, ins[1]!)];
    case "ReduceMean":
    case "ReduceSum":
    case "ReduceMax":
    case "ReduceMin":
    case "ReduceSumSquare": {
      const axes = ins[1]
        ? Array.from(ins[1].data)
        : Array.isArray(n.attrs.axes)
        ? (n.attrs.axes as number[])
        : undefined;
      if (ins[1] && !ins[1].data.length && attrN(n, "noop_with_empty_axes", 0) === 1) return [x];
      return [reduce(n, x, axes)];
    }
    case "Erf":
      return [unary(x, erf)];
    case "Concat":
      return [concat(ins as Const[], attrN(n, "axis", 0))];
    case "Split": {
      const r = x.dims.length;
      const ax0 = attrN(n, "axis", 0);
      const ax = ax0 < 0 ? ax0 + r : ax0;
      const k = n.outputs.length;
      const sizes = ins[1]
        ? Array.from(ins[1].data)
        : Array.isArray(n.attrs.split)
        ? (n.attrs.split as number[])
        : Array.from({ length: k }, (_, i) =>
          Math.min(Math.ceil(x.dims[ax] / k), x.dims[ax] - i * Math.ceil(x.dims[ax] / k)));
      let start = 0;
      return sizes.map((len) => {
        const out = sliceAxes(x, [start], [start + len], [ax], [1]);
        start += len;
        return out;
      });
    }
    case "Reshape":
      return [constant(reshapeDims(x, Array.from(ins[1]!.data), attrN(n, "allowzero", 0) === 1), x.data, x.dtype)];
    case "Flatten": {
      const ax0 = attrN(n, "axis", 1);
      const ax = ax0 < 0 ? ax0 + x.dims.length : ax0;
      return [constant([numel(x.dims.slice(0, ax)), numel(x.dims.slice(ax))], x.data, x.dtype)];
    }
    case "Squeeze": {
      const r = x.dims.length;
      const axes = (ins[1] ? Array.from(ins[1].data) : attrA(n, "axes", x.dims.map((d, i) => (d === 1 ? i : -99)))).map(
        (a) => (a < 0 ? a + r : a),
      );
      return [constant(x.dims.filter((_, i) => !axes.includes(i)), x.data, x.dtype)];
    }
    case "Unsqueeze": {
      const axesIn = ins[1] ? Array.from(ins[1].data) : attrA(n, "axes", []);
      const r = x.dims.length + axesIn.length;
      const axes = axesIn.map((a) => (a < 0 ? a + r : a)).sort((a, b) => a - b);
      const dims = [...x.dims];
      for (const a of axes) dims.splice(a, 0, 1);
      return [constant(dims, x.data, x.dtype)];
    }
    case "Transpose":
      return [transpose(x, attrA(n, "perm", x.dims.map((_, i) => x.dims.length - 1 - i)))];
    case "Shape":
      return [i64([x.dims.length], x.dims)];
    case "Size":
      return [i64([], [numel(x.dims)])];
    case "Cast": {
      const to = attrN(n, "to", 1);
      if (to === 1) return [f32(x.dims, Float32Array.from(x.data))];
      return [
        constant(x.dims, Float64Array.from(x.data, Math.trunc), to === 6 ? "int32" : to === 7 ? "int64" : "int64"),
      ];
    }
    case "Slice": {
      if (ins.length > 1) {
        const r = x.dims.length;
        const starts = Array.from(ins[1]!.data), ends = Array.from(ins[2]!.data);
        const axes = ins[3] ? Array.from(ins[3].data) : starts.map((_, i) => i);
        const steps = ins[4] ? Array.from(ins[4].data) : starts.map(() => 1);
        void r;
        return [sliceAxes(x, starts, ends, axes, steps)];
      }
      const starts = attrA(n, "starts", []);
      return [
        sliceAxes(x, starts, attrA(n, "ends", []), attrA(n, "axes", starts.map((_, i) => i)), starts.map(() => 1)),
      ];
    }
    case "Gather": {
      const ax0 = attrN(n, "axis", 0);
      const ax = ax0 < 0 ? ax0 + x.dims.length : ax0;
      const ind = ins[1]!;
      const outer = numel(x.dims.slice(0, ax)), inner = numel(x.dims.slice(ax + 1));
      const dims = [...x.dims.slice(0, ax), ...ind.dims, ...x.dims.slice(ax + 1)];
      const out = x.data instanceof Float32Array ? new Float32Array(numel(dims)) : new Float64Array(numel(dims));
      for (let o = 0; o < outer; o++) {
        for (let k = 0; k < ind.data.length; k++) {
          let i = ind.data[k];
          if (i < 0) i += x.dims[ax];
          for (let a = 0; a < inner; a++) {
            out[(o * ind.data.length + k) * inner + a] = x.data[(o * x.dims[ax] + i) * inner + a];
          }
        }
      }
      return [constant(dims, out, x.dtype)];
    }
    case "ConstantOfShape": {
      const dims = Array.from(x.data);
      const v = n.attrs.value as Const | undefined;
      const val = v ? v.data[0] : 0;
      return [
        v && v.dtype !== "float32"
          ? i64(dims, new Float64Array(numel(dims)).fill(val))
          : f32(dims, new Float32Array(numel(dims)).fill(val)),
      ];
    }
    case "Resize":
    case "Upsample":
      return [resize(n, x, ins)];
    case "Softmax": {
      // before opset 13: the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])]
      const legacy = n.opset !== undefined && n.opset < 13;
      const ax0 = attrN(n, "axis", legacy ? 1 : -1);
      const ax = ax0 < 0 ? ax0 + x.dims.length : ax0;
      const inner = legacy ? 1 : numel(x.dims.slice(ax + 1));
      const len = legacy ? numel(x.dims.slice(ax)) : x.dims[ax], outer = numel(x.dims.slice(0, ax));
      const out = new Float32Array(x.data.length);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let m = -Infinity, s = 0;
          for (let k = 0; k < len; k++) m = Math.max(m, x.data[(o * len + k) * inner + i]);
          for (let k = 0; k < len; k++) s += Math.exp(x.data[(o * len + k) * inner + i] - m);
          for (let k = 0; k < len; k++) {
            out[(o * len + k) * inner + i] = Math.exp(x.data[(o * len + k) * inner + i] - m) / s;
          }
        }
      }
      return [f32(x.dims, out)];
    }
    default: {
      const outs = runHostOp(n, ins, n.opset ?? 17);
      if (outs) return outs;
      throw new CompileError(
        `node ${n.name} (${n.op}): op not supported by the compiler's float executor nor by the host graph runner`,
      );
    }
  }
}
