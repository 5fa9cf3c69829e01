/**
 * Shape rules the compiler needs without running an op: the conv/pool output size, ONNX
 * `auto_pad`, and the output shapes of the heavy ops (so shape inference on zeros skips
 * computing them).
 *
 * @example
 * ```ts
 * import { poolOut } from "./compiler/shapes.ts";
 * poolOut(8, 3, 2, 1, 1, 1, false); // 4
 * ```
 * @module
 */
import { broadcastShape } from "../onnx/numeric.ts";
import { attrA, attrN, type Const, type Node } from "./graph.ts";

/**
 * Output size of a conv/pool axis (ONNX rule, floor or ceil, with the onnxruntime rule
 * that drops a last window starting past the input and the leading pad).
 *
 * @example
 * ```ts
 * poolOut(8, 3, 2, 1, 1, 1, false); // 4
 * ```
 */
export function poolOut(inp: number, k: number, s: number, d: number, lo: number, hi: number, ceil: boolean): number {
  const span = inp + lo + hi - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= inp + lo) o--;
  return o;
}

/**
 * Resolves ONNX `auto_pad` into explicit pads [top, left, bottom, right].
 *
 * @example
 * ```ts
 * resolvePads({ op: "Conv", name: "c", inputs: [], outputs: [], attrs: { auto_pad: "SAME_UPPER" } }, [8, 8], [3, 3], [1, 1], [1, 1]);
 * ```
 */
export function resolvePads(n: Node, spatial: number[], kernel: number[], str: number[], dil: number[]): number[] {
  const auto = (n.attrs.auto_pad as string) ?? "NOTSET";
  if (auto === "NOTSET" || auto === "VALID") return auto === "VALID" ? [0, 0, 0, 0] : attrA(n, "pads", [0, 0, 0, 0]);
  const pads = [0, 0, 0, 0];
  for (let i = 0; i < 2; i++) {
    const out = Math.ceil(spatial[i] / str[i]);
    const total = Math.max(0, (out - 1) * str[i] + dil[i] * (kernel[i] - 1) + 1 - spatial[i]);
    const small = Math.floor(total / 2);
    pads[i] = auto === "SAME_UPPER" ? small : total - small;
    pads[i + 2] = total - pads[i];
  }
  return pads;
}

/**
 * Output shape of the heavy ops (Conv, ConvTranspose, pools, Gemm/MatMul) and of shape-
 * preserving activations, without computing values; undefined for the others.
 *
 * @example
 * ```ts
 * outputDims(node, [x, w]); // [1, 16, 4, 4] for a stride-2 Conv of [1, 3, 8, 8]
 * ```
 */
export function outputDims(n: Node, ins: (Const | undefined)[]): number[] | undefined {
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
      const batch = broadcastShape(d.slice(0, -2), b.dims.slice(0, -2));
      return batch ? [...batch, d[d.length - 2], b.dims[b.dims.length - 1]] : undefined;
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
