import { encodeModel } from "./onnx/write.ts";
import ort from "onnxruntime-node";
import { readFileSync } from "node:fs";
const cases = JSON.parse(readFileSync("/tmp/axb/x/cases.json", "utf8"));
const t = (name: string, dataType: number, dims: number[], data: any) => ({ name, dataType, dims, data });
let bad = 0, total = 0, ties = 0;
for (let ci = 0; ci < cases.length; ci++) {
  const c = cases[ci];
  const x = new Uint8Array(readFileSync(`/tmp/axb/x/${ci}.x`));
  const yOurs = new Uint8Array(readFileSync(`/tmp/axb/x/${ci}.y`));
  const d = new Uint8Array(readFileSync(`/tmp/axb/x/${ci}.d`));
  const cing = c.cin / c.group;
  const wo = new Int8Array(d.buffer, 0, c.wlen);
  const W = new Int8Array(c.wlen); // OHWI -> OIHW
  for (let o = 0; o < c.cout; o++) for (let i = 0; i < c.k; i++) for (let j = 0; j < c.k; j++) for (let q = 0; q < cing; q++)
    W[((o * cing + q) * c.k + i) * c.k + j] = wo[((o * c.k + i) * c.k + j) * cing + q];
  const dv = new DataView(d.buffer);
  const bias = new Int32Array(c.cout), ws = new Float32Array(c.cout);
  for (let o = 0; o < c.cout; o++) { bias[o] = dv.getInt32(c.boff + 4 * o, true); ws[o] = dv.getFloat32(c.soff + 4 * o, true); }
  const dt = c.u8 ? 2 : 3;
  const zp = (v: number) => c.u8 ? new Uint8Array([v]) : new Int8Array([v]);
  const node = { name: "c", opType: "QLinearConv", domain: "", inputs: ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], outputs: ["y"],
    attributes: [{ name: "kernel_shape", type: 7, ints: [c.k, c.k] }, { name: "strides", type: 7, ints: [c.s, c.s] }, { name: "dilations", type: 7, ints: [c.d, c.d] },
      { name: "pads", type: 7, ints: [c.pad, c.pad, c.pad, c.pad] }, { name: "group", type: 2, i: c.group }] };
  const model = { irVersion: 8, opsetImports: [{ domain: "", version: 13 }], graph: { name: "g", nodes: [node],
    initializers: [t("xs", 1, [], new Float32Array([c.xs])), t("xz", dt, [], zp(c.xz)), t("w", 3, [c.cout, cing, c.k, c.k], W),
      t("ws", 1, [c.cout], ws), t("wz", 3, [c.cout], new Int8Array(c.cout)), t("ys", 1, [], new Float32Array([c.ys])),
      t("yz", dt, [], zp(c.yz)), t("b", 6, [c.cout], bias)],
    inputs: [{ name: "x", elemType: dt, shape: [1, c.cin, c.h, c.w] }], outputs: [{ name: "y", elemType: dt, shape: [1, c.cout, c.oh, c.ow] }], valueInfo: [] } };
  const sess = await ort.InferenceSession.create(encodeModel(model as any), { intraOpNumThreads: 1 });
  const xn = c.u8 ? new Uint8Array(x.length) : new Int8Array(x.length);
  const xi = c.u8 ? x : new Int8Array(x.buffer);
  for (let h = 0; h < c.h; h++) for (let w = 0; w < c.w; w++) for (let q = 0; q < c.cin; q++) xn[(q * c.h + h) * c.w + w] = xi[(h * c.w + w) * c.cin + q];
  const out = await sess.run({ x: new ort.Tensor(c.u8 ? "uint8" : "int8", xn, [1, c.cin, c.h, c.w]) });
  const yo = out.y.data as Uint8Array | Int8Array;
  const yb = new Uint8Array(yo.buffer, yo.byteOffset, yo.length);
  let caseBad = 0;
  for (let h = 0; h < c.oh; h++) for (let w = 0; w < c.ow; w++) for (let o = 0; o < c.cout; o++) {
    total++;
    if (yb[(o * c.oh + h) * c.ow + w] !== yOurs[(h * c.ow + w) * c.cout + o]) { bad++; caseBad++; }
  }
  if (caseBad) console.log(`case ${ci}: ${caseBad} mismatches`, JSON.stringify(c));
}
console.log(`compared ${total} outputs in ${cases.length} cases: ${bad} mismatches`);
