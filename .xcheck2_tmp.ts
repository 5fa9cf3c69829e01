import { encodeModel } from "./onnx/write.ts";
import ort from "onnxruntime-node";
import { readFileSync } from "node:fs";
const cases = JSON.parse(readFileSync("/tmp/axb/x/pcases.json", "utf8"));
const f32 = Math.fround;
const t = (name: string, dataType: number, dims: number[], data: any) => ({ name, dataType, dims, data });
const n = (opType: string, inputs: string[], outputs: string[], attributes: any[] = []) => ({ name: outputs[0], opType, domain: "", inputs, outputs, attributes });
const results: Record<string, [number, number]> = { ap: [0, 0], gap: [0, 0], add: [0, 0], mul: [0, 0] };
for (let ci = 0; ci < cases.length; ci++) {
  const c = cases[ci];
  const x = new Int8Array(readFileSync(`/tmp/axb/x/p${ci}.x`).buffer.slice(0));
  const b = new Int8Array(readFileSync(`/tmp/axb/x/p${ci}.b`).buffer.slice(0));
  const nchw = (a: Int8Array, H: number, W: number, C: number) => { const o = new Int8Array(a.length); for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let q = 0; q < C; q++) o[(q * H + h) * W + w] = a[(h * W + w) * C + q]; return o; };
  const sc = (v: number) => new Float32Array([v]), zp = (v: number) => new Int8Array([v]);
  const nodes = [
    n("DequantizeLinear", ["x", "xs", "xz"], ["xf"]), n("DequantizeLinear", ["b", "bs", "bz"], ["bf"]),
    n("AveragePool", ["xf"], ["apf"], [{ name: "kernel_shape", type: 7, ints: [c.k, c.k] }, { name: "strides", type: 7, ints: [c.s, c.s] }, { name: "pads", type: 7, ints: [c.pad, c.pad, c.pad, c.pad] }, { name: "ceil_mode", type: 2, i: c.ceil }, { name: "count_include_pad", type: 2, i: c.incl }]),
    n("GlobalAveragePool", ["xf"], ["gapf"]), n("Add", ["xf", "bf"], ["addf"]), n("Mul", ["xf", "bf"], ["mulf"]),
    n("QuantizeLinear", ["apf", "ys", "yz"], ["ap"]), n("QuantizeLinear", ["gapf", "ys", "yz"], ["gap"]), n("QuantizeLinear", ["addf", "ys", "yz"], ["add"]), n("QuantizeLinear", ["mulf", "ys3", "yz"], ["mul"])];
  const model = { irVersion: 8, opsetImports: [{ domain: "", version: 13 }], graph: { name: "g", nodes,
    initializers: [t("xs", 1, [], sc(c.xs)), t("xz", 3, [], zp(c.xz)), t("bs", 1, [], sc(c.bs)), t("bz", 3, [], zp(c.bz)), t("ys", 1, [], sc(c.ys)), t("ys3", 1, [], sc(f32(c.ys * 3))), t("yz", 3, [], zp(c.yz))],
    inputs: [{ name: "x", elemType: 3, shape: [1, c.c, c.h, c.w] }, { name: "b", elemType: 3, shape: [1, c.c, 1, c.w] }],
    outputs: ["ap", "gap", "add", "mul"].map((name) => ({ name, elemType: 3, shape: null })), valueInfo: [] } };
  const sess = await ort.InferenceSession.create(encodeModel(model as any), { intraOpNumThreads: 1, graphOptimizationLevel: "disabled" });
  const out = await sess.run({ x: new ort.Tensor("int8", nchw(x, c.h, c.w, c.c), [1, c.c, c.h, c.w]), b: new ort.Tensor("int8", nchw(b, 1, c.w, c.c), [1, c.c, 1, c.w]) });
  const dims: Record<string, [number, number]> = { ap: [c.oh, c.ow], gap: [1, 1], add: [c.h, c.w], mul: [c.h, c.w] };
  ["ap", "gap", "add", "mul"].forEach((name, j) => {
    const ours = new Int8Array(readFileSync(`/tmp/axb/x/p${ci}.y${j}`).buffer.slice(0));
    const theirs = out[name].data as Int8Array;
    const [H, W] = dims[name];
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let q = 0; q < c.c; q++) {
      results[name][0]++;
      if (ours[(h * W + w) * c.c + q] !== theirs[(q * H + h) * W + w]) results[name][1]++;
    }
  });
}
console.log(JSON.stringify(results), "(compared, mismatches)");
