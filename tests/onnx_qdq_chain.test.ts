// Quantize-dequantize pairs, BatchNormalization and lone ConvTransposes in the runner's
// kernel chains and pipelines (onnx/optimize.ts, kernels/src/chain.rs): every graph is run
// optimized and node by node (`{ optimize: false }`, the pre-change runner) and compared
// bit for bit, on data with ties, NaN, infinities, -0 and values beyond the saturation.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type AttrValue, type NodeProto, type Tensor, tensor } from "../onnx/mod.ts";
import { chain, type ChainStep, softmaxChain, softmaxChainConv1x1 } from "../kernels/fused.ts";
import { gemm, PackedMatrix, permute, softmax } from "../kernels/mod.ts";
import { both, f32, n, rand, sameBits } from "./helpers/optimize_cases.ts";
import { allocate } from "../kernels/arena.ts";
import { kernelExports } from "../kernels/wasm.ts";
import { quantOps } from "../onnx/ops/quant.ts";

/** `count` floats around `scale`'s quantization grid: ties, specials, saturating values. */
function grid(count: number, scale: number, seed: number): Float32Array {
  const r = rand(count, seed, 200);
  const specials = [NaN, Infinity, -Infinity, -0, 0, 1e30, -1e30, 1e-30, -1e-30];
  for (let i = 0; i < count; i++) {
    if (i % 7 === 0) r[i] = (Math.round(r[i]) + 0.5) * scale; // x / scale lands on a tie (or next to it)
    else if (i % 11 === 0) r[i] = specials[(i / 11) % specials.length | 0];
    else if (i % 13 === 0) r[i] = -0.3 * scale; // rounds to -0
  }
  return r;
}

const ZP: [string, number | undefined][] = [
  ["int8", -128],
  ["int8", 3],
  ["int8", 0],
  ["uint8", 128],
  ["uint8", 7],
  ["uint8", undefined], // no zero point: uint8, 0
  ["int16", -5],
  ["uint16", 300],
];

function zpTensor(type: string, v: number): Tensor {
  return tensor(type as "int8", [], [v]);
}

describe("QuantizeLinear -> DequantizeLinear as one chain step", () => {
  for (const [type, zp] of ZP) {
    test(`${type} zero point ${zp ?? "absent"}`, () => {
      const scale = 0.0371;
      const init: Record<string, Tensor> = { s: tensor("float32", [], [scale]) };
      if (zp !== undefined) init.z = zpTensor(type, zp);
      const qi = zp === undefined ? ["x", "s"] : ["x", "s", "z"];
      const di = zp === undefined ? ["q", "s"] : ["q", "s", "z"];
      const x = tensor("float32", [1, 3, 17, 23], grid(3 * 17 * 23, scale, 5));
      const { opt, a, b } = both({ nodes: [n("QuantizeLinear", qi, "q"), n("DequantizeLinear", di, "y")], x, init });
      sameBits(a, b);
      assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["ElementwiseChain"]);
    });
  }

  test("a DequantizeLinear with another scale stays two nodes", () => {
    const init = { s: tensor("float32", [], [0.05]), s2: tensor("float32", [], [0.1]), z: zpTensor("int8", 1) };
    const x = tensor("float32", [1, 2, 16, 16], grid(512, 0.05, 6));
    const { opt, a, b } = both({
      nodes: [n("QuantizeLinear", ["x", "s", "z"], "q"), n("DequantizeLinear", ["q", "s2", "z"], "y")],
      x,
      init,
    });
    sameBits(a, b);
    assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["QuantizeLinear", "DequantizeLinear"]);
  });

  test("chains of QDQ, Add, Mul and Sigmoid, with a channel operand", () => {
    const init = {
      s: tensor("float32", [], [0.02]),
      z: zpTensor("int8", -7),
      s2: tensor("float32", [], [1 / 255]),
      z2: zpTensor("uint8", 0),
      bias: f32([1, 5, 1, 1], 3),
    };
    const nodes = [
      n("QuantizeLinear", ["x", "s", "z"], "q0"),
      n("DequantizeLinear", ["q0", "s", "z"], "d0"),
      n("Add", ["d0", "bias"], "a"),
      n("QuantizeLinear", ["a", "s", "z"], "q1"),
      n("DequantizeLinear", ["q1", "s", "z"], "d1"),
      n("Sigmoid", ["d1"], "g"),
      n("QuantizeLinear", ["g", "s2", "z2"], "q2"),
      n("DequantizeLinear", ["q2", "s2", "z2"], "y"),
    ];
    // the small one runs the steps, the large one reads the steps after the first qdq from a table
    for (const [h, w] of [[9, 31], [40, 71]]) {
      const x = tensor("float32", [2, 5, h, w], grid(2 * 5 * h * w, 0.02, 7));
      const { opt, a, b } = both({ nodes, x, init });
      sameBits(a, b);
      assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["ElementwiseChain"]);
    }
  });
});

test("an operand along the last axis (a chain of one-element blocks, run by periods)", () => {
  const init = {
    s: tensor("float32", [], [0.05]),
    z: zpTensor("int8", 2),
    k: f32([1, 300], 41),
    t: f32([2, 4, 300], 42),
  };
  const nodes = [
    n("QuantizeLinear", ["x", "s", "z"], "q0"),
    n("DequantizeLinear", ["q0", "s", "z"], "d0"),
    n("Mul", ["d0", "k"], "m"),
    n("Add", ["m", "t"], "a"),
    n("QuantizeLinear", ["a", "s", "z"], "q1"),
    n("DequantizeLinear", ["q1", "s", "z"], "y"),
  ];
  const { opt, a, b } = both({ nodes, x: tensor("float32", [2, 4, 300], grid(2400, 0.05, 43)), init });
  sameBits(a, b);
  assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["ElementwiseChain"]);
});

describe("BatchNormalization in a chain", () => {
  const bn = (c: number): Record<string, Tensor> => ({
    sc: f32([c], 11),
    bi: f32([c], 12),
    mean: f32([c], 13),
    var: tensor("float32", [c], rand(c, 14, 1).map((v) => Math.abs(v) + 0.1)),
  });
  for (const shape of [[2, 6, 10, 13], [3, 6, 50], [40, 6]]) {
    test(`input [${shape}] (channels on axis 1)`, () => {
      const nodes = [
        n("BatchNormalization", ["x", "sc", "bi", "mean", "var"], "b", { epsilon: 1e-3 }),
        n("Relu", ["b"], "y"),
      ];
      const { opt, a, b } = both({ nodes, x: f32(shape, 15), init: bn(6) });
      sameBits(a, b);
      assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["ElementwiseChain"]);
    });
  }
});

describe("a QDQ text-detector head (ConvTranspose, bias, BatchNormalization, Sigmoid) as one pipeline", () => {
  // the DB head of PP-OCR as the compiler leaves it on the host: every value quantized and dequantized
  const head = (c: number, h: number, w: number, paired: boolean) => {
    const init: Record<string, Tensor> = {
      w1: f32([c, c, 2, 2], 21, 0.5),
      b1: f32([1, c, 1, 1], 22),
      w2: f32([c, 1, 2, 2], 23, 0.5),
      b2: tensor("float32", [1, 1, 1, 1], [0.25]),
      sc: f32([c], 24),
      bi: f32([c], 25),
      mean: f32([c], 26),
      var: tensor("float32", [c], rand(c, 27, 1).map((v) => Math.abs(v) + 0.1)),
      s: tensor("float32", [], [0.043]),
      z: zpTensor("int8", -3),
      so: tensor("float32", [], [1 / 256]),
      zo: zpTensor("int8", -128),
    };
    const qdq = (v: string, out: string, s = "s", z = "z"): NodeProto[] => [
      n("QuantizeLinear", [v, s, z], `${out}_q`),
      n("DequantizeLinear", [`${out}_q`, s, z], out),
    ];
    const ct: Record<string, AttrValue> = { kernel_shape: [2, 2], strides: [2, 2] };
    const nodes = [
      n("ConvTranspose", ["x", "w1"], "c1", ct),
      ...qdq("c1", "c1d"),
      n("Add", ["c1d", "b1"], "a1"),
      ...qdq("a1", "a1d"),
      n("BatchNormalization", ["a1d", "sc", "bi", "mean", "var"], "bn"),
      ...(paired ? qdq("bn", "bnd") : [n("Relu", ["bn"], "bnd")]),
      n("ConvTranspose", ["bnd", "w2"], "c2", ct),
      ...qdq("c2", "c2d"),
      n("Add", ["c2d", "b2"], "a2"),
      ...qdq("a2", "a2d"),
      n("Sigmoid", ["a2d"], "g"),
      ...qdq("g", "y", "so", "zo"),
    ];
    return { nodes, x: tensor("float32", [1, c, h, w], grid(c * h * w, 0.043, 28)), init };
  };
  // the larger ones give the steps after a qdq as a table (kernels/src/qdq_table.rs)
  for (const [c, h, w] of [[8, 10, 20], [24, 7, 13], [3, 40, 44], [24, 32, 40]]) {
    for (const paired of [true, false]) {
      test(`${c} channels, ${h}x${w}${paired ? "" : " (Relu between)"}`, () => {
        const { opt, a, b } = both(head(c, h, w, paired));
        sameBits(a, b);
        assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["KernelPipeline"]);
      });
    }
  }
});

describe("chain kernel: several steps in one pass equal the steps one by one", () => {
  const inner = [1, 3, 5, 1030, 2053, 4099];
  for (const len of inner) {
    test(`blocks of ${len}`, () => {
      const channels = 3, total = len * channels * 2;
      const x = grid(total, 0.1, 31);
      const steps: ChainStep[] = [
        { kind: "qdq", scale: 0.1, zeroPoint: 4, type: "int8" },
        { op: "add", b: { kind: "channel", values: rand(channels, 32) } },
        { op: "div", b: { kind: "tensor", values: rand(total, 33) }, reverse: true },
        { kind: "sigmoid" },
        { op: "mul", b: { kind: "scalar", value: -3 } },
        { kind: "clip", lo: -1, hi: 2 },
        { kind: "qdq", scale: 0.01, zeroPoint: 200, type: "uint8" },
        { kind: "relu" },
      ];
      // with a tensor operand, and without (the steps after the first qdq as a table when large enough)
      for (const st of [steps, steps.filter((s) => !("op" in s) || s.b.kind !== "tensor")]) {
        const all = chain(x, new Float32Array(total), len, channels, st);
        let one = x.slice();
        for (const s of st) one = chain(one, new Float32Array(total), len, channels, [s]);
        sameBits(all, one);
      }
      assert.throws(
        () =>
          chain(x, new Float32Array(total), len, channels, [{ kind: "qdq", scale: 1, zeroPoint: 300, type: "int8" }]),
        RangeError,
      );
    });
  }
});

describe("chain kernel: the steps after an 8-bit qdq as a table", () => {
  for (const [type, zp] of [["int8", -128], ["int8", 5], ["uint8", 0], ["uint8", 131]] as const) {
    test(`${type} zero point ${zp}: every level, its ties and its neighbours`, () => {
      const scale = 0.0625 * 1.37, channels = 2;
      const levels: number[] = [];
      for (let q = -300; q < 300; q++) {
        levels.push(q * scale, (q + 0.5) * scale, Math.fround((q + 0.5) * scale) * (1 + 2 ** -23));
      }
      levels.push(NaN, Infinity, -Infinity, -0);
      const inner = levels.length, total = inner * channels;
      const x = Float32Array.from({ length: total }, (_, i) => levels[i % inner]);
      const steps: ChainStep[] = [
        { kind: "qdq", scale, zeroPoint: zp, type },
        { op: "mul", b: { kind: "channel", values: new Float32Array([1.7, -0.3]) } },
        { kind: "sigmoid" },
        { op: "sub", b: { kind: "scalar", value: 0.5 }, reverse: true },
      ];
      const all = chain(x, new Float32Array(total), inner, channels, steps);
      let one = x.slice();
      for (const s of steps) one = chain(one, new Float32Array(total), inner, channels, [s]);
      sameBits(all, one);
    });
  }
  test("a kept table is used only for the same constants (operand values, not addresses)", () => {
    const channels = 3, inner = 2000, total = channels * inner;
    const x = grid(total, 0.05, 41);
    const q = { kind: "qdq", scale: 0.05, zeroPoint: 3, type: "int8" } as const;
    // the per-channel operands go through the same scratch block on every call: a table kept
    // by address would answer the second call with the first call's results
    const variants: ChainStep[][] = [[1, 2, 3], [1, 2, 4], [-1, 2, 3]].map((v) => [
      q,
      { op: "mul", b: { kind: "channel", values: new Float32Array(v) } },
      { kind: "sigmoid" },
    ]);
    variants.push([q, { op: "mul", b: { kind: "scalar", value: 2 } }, { kind: "relu" }]);
    variants.push([q, { op: "mul", b: { kind: "scalar", value: 2 } }, { kind: "sigmoid" }]);
    variants.push([{ ...q, scale: 0.06 }, { op: "mul", b: { kind: "scalar", value: 2 } }, { kind: "sigmoid" }]);
    for (const round of [0, 1]) {
      for (const steps of round ? [...variants].reverse() : variants) {
        const all = chain(x, new Float32Array(total), inner, channels, steps);
        let one = x.slice();
        for (const s of steps) one = chain(one, new Float32Array(total), inner, channels, [s]);
        sameBits(all, one);
      }
    }
  });
});

describe("softmaxChainConv1x1: Softmax, chain, Transpose and 1x1 Conv in one call", () => {
  // [outer, mid, cols] with perm [0, 2, 1]... read as [1, cols, ...pixels]: the rows of the
  // softmax are the pixels, in the transposed order
  const cases: [number[], number[], number, ChainStep[]][] = [
    [[1, 301, 4, 16], [0, 3, 2, 1], 1, [{ kind: "qdq", scale: 1 / 255, zeroPoint: 0, type: "uint8" }]],
    [[1, 9, 5, 8], [0, 3, 1, 2], 3, [
      { kind: "qdq", scale: 0.01, zeroPoint: -3, type: "int8" },
      { op: "mul", b: { kind: "scalar", value: 1.7 } },
    ]],
    [[1, 7, 6], [0, 2, 1], 2, []],
    [[1, 5, 3, 68], [0, 3, 1, 2], 2, [{ kind: "sigmoid" }]], // longer than the transposed path takes
    [[1, 11, 6], [0, 2, 1], 1, [{ kind: "qdq", scale: 1 / 255, zeroPoint: 0, type: "uint8" }]], // cols not a multiple of 4
    [[1, 2100, 4, 16], [0, 3, 2, 1], 1, [{ kind: "qdq", scale: 1 / 255, zeroPoint: 0, type: "uint8" }]], // several chunks
    // YOLOv8n's head (int8, zero point -128): groups whose four sums are positive (no NaN)
    // quantize without the clamps and the NaN select, the others with them
    [[1, 1001, 4, 16], [0, 3, 2, 1], 1, [{ kind: "qdq", scale: 0.003921568859368563, zeroPoint: -128, type: "int8" }]],
    // 1 / scale above the highest level: probabilities near 1 clamp, the full quantize throughout
    [[1, 301, 4, 16], [0, 3, 2, 1], 1, [{ kind: "qdq", scale: 1 / 300, zeroPoint: 0, type: "uint8" }]],
    [[1, 301, 4, 16], [0, 3, 2, 1], 2, [{ kind: "qdq", scale: 1 / 127, zeroPoint: 0, type: "int8" }]],
    // the rows' last axis a multiple of 4 (a group's four outputs at one stride, carries
    // every second group) and a single axis
    [[1, 3, 8, 16], [0, 3, 1, 2], 1, [{ kind: "qdq", scale: 1 / 255, zeroPoint: 0, type: "uint8" }]],
    [[1, 64, 8], [0, 2, 1], 2, [{ kind: "qdq", scale: 1 / 255, zeroPoint: 0, type: "uint8" }]],
    // blocks of four groups (rows [anchors, 4], anchors a multiple of 4: one vector store per
    // side); with 12 channels the source's chunks end inside a block (682 groups: two after
    // the last complete block, and the next chunk starts unaligned)
    [[1, 1000, 4, 16], [0, 3, 2, 1], 1, [{ kind: "qdq", scale: 0.003921568859368563, zeroPoint: -128, type: "int8" }]],
    [[1, 2100, 4, 12], [0, 3, 2, 1], 1, [{ kind: "qdq", scale: 1 / 255, zeroPoint: 0, type: "uint8" }]],
    [[1, 8, 4, 16], [0, 3, 2, 1], 1, []],
  ];
  for (const [shape, perm, m, steps] of cases) {
    test(`[${shape}] perm [${perm}], ${m} out, ${steps.length} steps: the bits of softmaxChain, permute, gemm`, () => {
      const nEl = shape.reduce((a, b) => a * b, 1), cols = shape[shape.length - 1], rows = nEl / cols;
      const x = grid(nEl, 0.3, 41);
      for (let i = 0; i < nEl; i += 97) x[i] = [NaN, Infinity, -Infinity, 1e30, -1e30][(i / 97) % 5 | 0];
      const p = softmaxChain(x, [rows, cols], steps, new Float32Array(nEl));
      const t = permute(p, shape, perm, new Float32Array(nEl));
      const w = Float32Array.from({ length: m * cols }, (_, i) => (i % 11 === 5 ? -0 : Math.cos(i) * 2));
      const want = gemm(w, t, new Float32Array(m * rows), m, rows, cols, {
        aRowStride: cols,
        aColStride: 1,
        bRowStride: rows,
      });
      // the pixel axes in the input's order and their strides in the output
      const pix = perm.slice(2), outSt = new Map<number, number>();
      for (let i = pix.length - 1, st = 1; i >= 0; i--) {
        outSt.set(pix[i], st);
        st *= shape[pix[i]];
      }
      const axes = [...pix].sort((a, b) => a - b);
      const order = { sizes: axes.map((a) => shape[a]), outStrides: axes.map((a) => outSt.get(a)!) };
      // both places of the exponentials' sums (kernels/src/softmax.rs SUMS_APART: chosen per
      // engine at load, JavaScriptCore's in a pass of their own) give the same bits
      const k = kernelExports();
      try {
        for (const apart of [false, true]) {
          k.set_softmax_sums_apart(apart);
          const got = softmaxChainConv1x1(x, [rows, cols], steps, w, m, order, new Float32Array(m * rows));
          sameBits(got, want);
          // the source already in the kernels' memory: one call, the same bits
          const inMem = allocate(4 * nEl);
          inMem.f32().set(x);
          sameBits(softmaxChainConv1x1(inMem, [rows, cols], steps, w, m, order, new Float32Array(m * rows)), want);
          inMem.free();
        }
      } finally {
        k.set_softmax_sums_apart("Bun" in globalThis); // the engine's choice, as kernelExports() set it
      }
    });
  }
  test("orders that leave the output, and per-channel operands, are refused", () => {
    const x = new Float32Array(32), w = new Float32Array(8);
    assert.throws(
      () => softmaxChainConv1x1(x, [4, 8], [], w, 1, { sizes: [4], outStrides: [2] }, new Float32Array(4)),
      /leaves/,
    );
    assert.throws(
      () => softmaxChainConv1x1(x, [4, 8], [], w, 1, { sizes: [2, 3], outStrides: [1, 2] }, new Float32Array(4)),
      /do not fit/,
    );
    const steps: ChainStep[] = [{ op: "add", b: { kind: "channel", values: new Float32Array(4) } }];
    assert.throws(
      () => softmaxChainConv1x1(x, [4, 8], steps, w, 1, { sizes: [4], outStrides: [1] }, new Float32Array(4)),
      /only scalars/,
    );
  });
});

describe("Softmax and Transpose as pipeline stages", () => {
  const s = 1 / 255;
  const init = { s: tensor("float32", [], [s]), z: zpTensor("uint8", 0) };
  const qdq = (from: string, to: string): NodeProto[] => [
    n("QuantizeLinear", [from, "s", "z"], `${to}_q`),
    n("DequantizeLinear", [`${to}_q`, "s", "z"], to),
  ];
  // 24 out: the Conv runs after a transposed copy (it reads through the permutation up to 4)
  for (const [boxes, m, bias] of [[300, 1, false], [600, 1, false], [600, 3, true], [600, 24, true]] as const) {
    test(`YOLOv8's distribution head, ${boxes} boxes: Softmax -> QDQ -> Transpose -> 1x1 Conv (${m} out, bias ${bias})`, () => {
      const x = tensor("float32", [1, boxes, 4, 16], grid(boxes * 64, 0.05, 12));
      const { opt, a, b } = both({
        nodes: [
          n("Softmax", ["x"], "p", { axis: -1 }),
          ...qdq("p", "pq"),
          n("Transpose", ["pq"], "t", { perm: [0, 3, 2, 1] }),
          n("Conv", bias ? ["t", "wm", "bm"] : ["t", "wm"], "y", { kernel_shape: [1, 1] }),
        ],
        x,
        init: { ...init, wm: f32([m, 16, 1, 1], 9), bm: f32([m], 10) },
      });
      sameBits(a, b);
      // a 1x1 Conv joins; its gemm runs on the kernel from m * pixels * c >= 32768 (then it
      // reads the Softmax's output through the Transpose; below: the Conv runs alone)
      assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["KernelPipeline"]);
    });
  }
  test("a Transpose, then a 1x1 Conv with 480 outputs (PaddleOCR's recognizer): the Conv after a transposed copy", () => {
    const x = tensor("float32", [1, 1, 40, 120], grid(4800, 0.05, 17));
    const { opt, a, b } = both({
      nodes: [
        n("Transpose", ["x"], "t", { perm: [0, 3, 1, 2] }),
        n("Conv", ["t", "wm", "bm"], "c", { kernel_shape: [1, 1] }),
        ...qdq("c", "y"),
      ],
      x,
      init: { ...init, wm: f32([480, 120, 1, 1], 18, 0.2), bm: f32([480], 19) },
    });
    sameBits(a, b);
    assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["KernelPipeline"]);
  });
  test("a Transpose that leaves the channels strided, then a 1x1 Conv: the Conv after the transpose", () => {
    const x = tensor("float32", [1, 16, 40, 60], grid(16 * 2400, 0.05, 14));
    const { opt, a, b } = both({
      nodes: [
        n("Transpose", ["x"], "t", { perm: [0, 1, 3, 2] }),
        n("Conv", ["t", "wm", "bm"], "y", { kernel_shape: [1, 1] }),
      ],
      x,
      init: { wm: f32([2, 16, 1, 1], 15), bm: f32([2], 16) },
    });
    sameBits(a, b);
    assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["KernelPipeline"]);
  });
  for (const [axis, perm] of [[1, [0, 2, 1]], [2, [1, 0, 2]]] as const) {
    test(`Softmax on axis ${axis} -> Transpose [${perm}] -> QDQ`, () => {
      const x = tensor("float32", [3, 40, 24], grid(3 * 40 * 24, 0.1, 13));
      const { opt, a, b } = both({
        nodes: [n("Softmax", ["x"], "p", { axis }), n("Transpose", ["p"], "t", { perm: [...perm] }), ...qdq("t", "y")],
        x,
        init,
      });
      sameBits(a, b);
      assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["KernelPipeline"]);
    });
  }
});

describe("chains with operands along two axes (LayerNorm's rows and columns)", () => {
  test("the per-row operand runs as a tensor, refreshed on every run; bits of the nodes one by one", () => {
    const s = 0.02,
      init = {
        s: tensor("float32", [], [s]),
        z: zpTensor("int8", 3),
        g: f32([120], 21),
        b: f32([120], 22),
      };
    const nodes: NodeProto[] = [
      n("ReduceMean", ["x"], "mu", { axes: [-1] }),
      n("Sub", ["x", "mu"], "d"),
      n("ReduceMax", ["d"], "r", { axes: [-1] }),
      n("Div", ["d", "r"], "q0"),
      n("QuantizeLinear", ["q0", "s", "z"], "q1"),
      n("DequantizeLinear", ["q1", "s", "z"], "q2"),
      n("Mul", ["q2", "g"], "m"),
      n("QuantizeLinear", ["m", "s", "z"], "m1"),
      n("DequantizeLinear", ["m1", "s", "z"], "m2"),
      n("Add", ["m2", "b"], "y"),
    ];
    const x = tensor("float32", [1, 40, 120], grid(4800, s, 23));
    const { opt, plain, a, b } = both({ nodes, x, init });
    sameBits(a, b);
    assert.ok(opt.executionPlan().some((p) => p.opType === "ElementwiseChain" && p.name.startsWith("Div_q0+")));
    const x2 = tensor("float32", [1, 40, 120], grid(4800, s, 24));
    sameBits(opt.run({ x: x2 }).y.data as Float32Array, plain.run({ x: x2 }).y.data as Float32Array);
  });
});

describe("softmaxChain: a Softmax and the chain after it in one pass", () => {
  for (const [rows, cols] of [[300, 16], [7, 1000], [33, 6], [2, 3]] as const) {
    test(`[${rows}, ${cols}]: the bits of softmax, then chain`, () => {
      const x = grid(rows * cols, 0.3, 31);
      for (
        const steps of [
          [{ kind: "qdq", scale: 1 / 255, zeroPoint: 0, type: "uint8" }],
          [
            { kind: "qdq", scale: 0.01, zeroPoint: -3, type: "int8" },
            { op: "mul", b: { kind: "scalar", value: 1.7 } },
            {
              kind: "sigmoid",
            },
          ],
        ] as ChainStep[][]
      ) {
        const sm = softmax(x, [rows, cols], new Float32Array(x.length));
        const want = chain(sm, new Float32Array(x.length), x.length, 1, steps);
        sameBits(softmaxChain(x, [rows, cols], steps, new Float32Array(x.length)), want);
      }
    });
  }
  test("per-channel operands are refused", () => {
    const steps: ChainStep[] = [{ op: "add", b: { kind: "channel", values: new Float32Array(4) } }];
    assert.throws(() => softmaxChain(new Float32Array(8), [2, 4], steps, new Float32Array(8)), /only scalars/);
  });
});

describe("chains that read their own input again (Swish: x * sigmoid(x))", () => {
  const init = {
    s: tensor("float32", [], [0.031]),
    z: zpTensor("int8", -3),
    sg: tensor("float32", [], [1 / 255]),
    zg: zpTensor("uint8", 0),
    c: tensor("float32", [], [1.702]),
  };
  const qdq = (from: string, to: string, s = "s", z = "z") => [
    n("QuantizeLinear", [from, s, z], `${to}_q`),
    n("DequantizeLinear", [`${to}_q`, s, z], to),
  ];
  // PaddleOCR's recognizer: Mul by a constant, QDQ, Sigmoid, QDQ, then the input times that
  const swish = (v: string, reversed: boolean) => [
    n("Mul", [v, "c"], "m"),
    ...qdq("m", "md"),
    n("Sigmoid", ["md"], "g"),
    ...qdq("g", "gd", "sg", "zg"),
    n("Mul", reversed ? ["gd", v] : [v, "gd"], "sw"),
    ...qdq("sw", "y"),
  ];
  /** Runs `f` counting the QuantizeLinear nodes run one by one (the chains' fallback). */
  const counting = (f: () => void): number => {
    const q = quantOps.QuantizeLinear, run = q.run;
    let calls = 0;
    q.run = (...args) => (calls++, run(...args));
    try {
      f();
    } finally {
      q.run = run;
    }
    return calls;
  };
  for (const reversed of [false, true]) {
    for (const shape of [[1, 40, 240], [2, 7, 37]]) {
      const size = shape.reduce((a, b) => a * b, 1);
      test(`alone, input [${shape}]${reversed ? ", operands swapped" : ""}`, () => {
        const c = { nodes: swish("x", reversed), x: tensor("float32", shape, grid(size, 0.031, 42)), init };
        let r: ReturnType<typeof both> | undefined;
        assert.equal(counting(() => r = both(c)), 3); // the node-by-node graph's three
        sameBits(r!.a, r!.b);
        assert.deepEqual(r!.opt.executionPlan().map((p) => p.opType), ["ElementwiseChain"]);
      });
      test(
        `after an Add in one pipeline (its input in the kernels' memory), input [${shape}]${
          reversed ? ", operands swapped" : ""
        }`,
        () => {
          const nodes = [n("Add", ["x", "bias"], "a"), ...qdq("a", "ad"), ...swish("ad", reversed)];
          const bias = f32([shape[2]], 41);
          const c = { nodes, x: tensor("float32", shape, grid(size, 0.031, 43)), init: { ...init, bias } };
          let r: ReturnType<typeof both> | undefined;
          assert.equal(counting(() => r = both(c)), 4);
          sameBits(r!.a, r!.b);
          assert.deepEqual(r!.opt.executionPlan().map((p) => p.opType), ["KernelPipeline"]);
          const x2 = tensor("float32", shape, grid(size, 0.031, 44));
          sameBits(r!.opt.run({ x: x2 }).y.data as Float32Array, r!.plain.run({ x: x2 }).y.data as Float32Array);
        },
      );
    }
  }
});

describe("MatMul by a constant matrix as a pipeline stage (B packed once in the kernels' memory)", () => {
  /** Runs `f` counting the matrices packed. */
  const packing = (f: () => void): number => {
    const pack = PackedMatrix.pack;
    let calls = 0;
    PackedMatrix.pack = (...args) => (calls++, pack(...args));
    try {
      f();
    } finally {
      PackedMatrix.pack = pack;
    }
    return calls;
  };
  const qdq = (from: string, to: string) => [
    n("QuantizeLinear", [from, "s", "z"], `${to}_q`),
    n("DequantizeLinear", [`${to}_q`, "s", "z"], to),
  ];
  // PaddleOCR's recognizer: MatMul, QDQ, bias, QDQ; a 1-row tail of columns (333 = 41 * 8 + 5)
  for (
    const [shape, k, cols, transposed] of [
      [[1, 40, 120], 120, 333, false],
      [[2, 3, 40, 24], 24, 40, false],
      [[1, 120, 40], 120, 96, true],
    ] as const
  ) {
    test(`[${shape}]${transposed ? " transposed" : ""} x [${k}, ${cols}]: bits of the nodes one by one`, () => {
      const init = {
        s: tensor("float32", [], [0.0437]),
        z: zpTensor("int8", 5),
        w: f32([k, cols], 61, 0.3),
        bias: f32([cols], 62),
      };
      const a = transposed ? [n("Transpose", ["x"], "xt", { perm: [0, 2, 1] })] : [];
      const nodes = [
        ...a,
        n("MatMul", [transposed ? "xt" : "x", "w"], "mm"),
        ...qdq("mm", "mmd"),
        n("Add", ["mmd", "bias"], "ab"),
        ...qdq("ab", "y"),
      ];
      const size = shape.reduce((p: number, q: number) => p * q, 1);
      let r: ReturnType<typeof both> | undefined;
      assert.equal(packing(() => r = both({ nodes, x: tensor("float32", [...shape], rand(size, 63)), init })), 1);
      sameBits(r!.a, r!.b);
      assert.deepEqual(r!.opt.executionPlan().map((p) => p.opType), ["KernelPipeline"]);
      const x2 = tensor("float32", [...shape], rand(size, 64));
      const again = packing(() =>
        sameBits(r!.opt.run({ x: x2 }).y.data as Float32Array, r!.plain.run({ x: x2 }).y.data as Float32Array)
      );
      assert.equal(again, 0); // packed once, kept
    });
  }

  test("a product below the gemm kernel's size stays the runner's loop (same bits, nothing packed)", () => {
    const init = { s: tensor("float32", [], [0.05]), z: zpTensor("int8", 0), w: f32([16, 20], 65) };
    const nodes = [n("MatMul", ["x", "w"], "mm"), ...qdq("mm", "y")];
    let r: ReturnType<typeof both> | undefined;
    assert.equal(packing(() => r = both({ nodes, x: f32([1, 40, 16], 66), init })), 0);
    sameBits(r!.a, r!.b);
  });
});

describe("view ops (Reshape, Flatten, Squeeze, Unsqueeze) as pipeline stages", () => {
  const init = {
    s: tensor("float32", [], [0.0291]),
    z: zpTensor("int8", -4),
    so: tensor("float32", [], [1 / 255]),
    zo: zpTensor("int8", -128),
    rows: tensor("int64", [2], [-1, 45]),
    flat: tensor("int64", [3], [1, 6, 90]),
    ax0: tensor("int64", [1], [0]),
  };
  const qdq = (from: string, to: string, s = "s", z = "z") => [
    n("QuantizeLinear", [from, s, z], `${to}_q`),
    n("DequantizeLinear", [`${to}_q`, s, z], to),
  ];
  // PaddleOCR's recognizer head: chain, Reshape, Softmax + QDQ, Reshape, QDQ
  const cases: [string, NodeProto[]][] = [
    ["between stages", [
      ...qdq("x", "a"),
      n("Reshape", ["a", "rows"], "r"),
      n("Softmax", ["r"], "sm", { axis: -1 }),
      ...qdq("sm", "smd", "so", "zo"),
      n("Reshape", ["smd", "flat"], "f"),
      ...qdq("f", "y"),
    ]],
    ["first and last", [
      n("Unsqueeze", ["x", "ax0"], "u"),
      ...qdq("u", "a"),
      n("Squeeze", ["a", "ax0"], "sq"),
      n("Flatten", ["sq"], "y", { axis: 1 }),
    ]],
  ];
  for (const [name, nodes] of cases) {
    test(`${name}: one pipeline, the bits of the nodes one by one`, () => {
      const x = tensor("float32", [1, 6, 90], grid(540, 0.0291, 71));
      const { opt, plain, a, b } = both({ nodes, x, init });
      sameBits(a, b);
      assert.deepEqual(opt.executionPlan().map((p) => p.opType), ["KernelPipeline"]);
      assert.deepEqual(opt.run({ x }).y.shape, plain.run({ x }).y.shape);
      const x2 = tensor("float32", [1, 6, 90], grid(540, 0.0291, 72));
      sameBits(opt.run({ x: x2 }).y.data as Float32Array, plain.run({ x: x2 }).y.data as Float32Array);
    });
  }
});
