// The float32 numeric kernels of the ONNX runner against plain TypeScript references
// (ulp bounds, broadcasting), the per-engine dequantize formulation, and sigmoid where
// exp saturates. Split from tests/kernels.test.ts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  add,
  allocate,
  binary,
  broadcastShape,
  depadDequantize,
  dequantize,
  div,
  exp,
  mul,
  sigmoid,
  softmax,
  sub,
} from "../kernels/mod.ts";
import { assertSame, prod, randomFloats, rint, rnd } from "./helpers/kernel_data.ts";

// ---- float32 numeric kernels (ONNX runner)
const f32bits = new Float32Array(2), i32bits = new Int32Array(f32bits.buffer);
function ulpDiff(a: number, b: number): number {
  f32bits[0] = a;
  f32bits[1] = b;
  return Math.abs(i32bits[0] - i32bits[1]);
}
/** Reference broadcast binary op in float32. */
function refBinary(op: (x: number, y: number) => number, a: Float32Array, as: number[], b: Float32Array, bs: number[]) {
  const shape = broadcastShape(as, bs), r = shape.length, n = prod(shape);
  const out = new Float32Array(n);
  const idx = (s: number[], coord: number[]) => {
    let k = 0;
    for (let i = 0; i < s.length; i++) {
      const c = coord[r - s.length + i];
      k = k * s[i] + (s[i] === 1 ? 0 : c);
    }
    return k;
  };
  const coord = new Array(r).fill(0);
  for (let o = 0; o < n; o++) {
    let t = o;
    for (let i = r - 1; i >= 0; i--) {
      coord[i] = t % shape[i];
      t = Math.floor(t / shape[i]);
    }
    out[o] = op(a[idx(as, coord)], b[idx(bs, coord)]);
  }
  return out;
}

describe("kernels: float32 numeric ops", () => {
  test("add / sub / mul / div with broadcasting equal float32 arithmetic exactly", () => {
    const ops = [
      [add, (x: number, y: number) => x + y],
      [sub, (x: number, y: number) => x - y],
      [mul, (x: number, y: number) => x * y],
      [div, (x: number, y: number) => x / y],
    ] as const;
    const pairs: [number[], number[]][] = [
      [[2, 3], [3]],
      [[2, 1, 3], [4, 1]],
      [[], [5]],
      [[7], []],
      [[1, 17], [9, 1]],
      [[2, 3, 4, 5], [2, 3, 4, 5]],
      [[3, 1, 1, 33], [1, 2, 5, 1]],
      [[1, 1, 1, 1, 2, 3], [3]],
      [[0, 3], [3]],
    ];
    for (let i = 0; i < 12; i++) {
      const r = rint(1, 4), s: number[] = [], t: number[] = [];
      for (let k = 0; k < r; k++) {
        const d = rint(1, 9);
        s.push(rnd() < 0.3 ? 1 : d);
        t.push(rnd() < 0.3 ? 1 : d);
      }
      pairs.push([s, t.slice(rint(0, r - 1))]);
    }
    for (const [as, bs] of pairs) {
      const a = randomFloats(prod(as), 1), b = randomFloats(prod(bs), 1);
      for (const [fn, op] of ops) {
        const want = refBinary(op, a, as, b, bs);
        const got = fn(a, as, b, bs, new Float32Array(want.length));
        assertSame(got, want, `${fn.name} [${as}] [${bs}]`);
      }
    }
    assert.throws(() => add(new Float32Array(6), [2, 3], new Float32Array(2), [2], new Float32Array(6)), {
      name: "RangeError",
      message: /do not broadcast/,
    });
    assert.throws(() => add(new Float32Array(6), [2, 3], new Float32Array(3), [3], new Float32Array(5)), {
      name: "RangeError",
      message: /out must have 6 elements, got 5/,
    });
  });

  test("binary ops run in place on a WasmBuffer of the output's shape", () => {
    const a = allocate(4 * 40);
    const src = randomFloats(40, 1);
    a.f32().set(src);
    const b = new Float32Array(8).map(() => rnd());
    binary("mul", a, [5, 8], b, [8], a);
    assertSame(a.f32(), refBinary((x, y) => x * y, src, [5, 8], b, [8]), "in-place mul");
    a.free();
  });

  test("exp is within 2 ulp of float32(Math.exp) on [-87, 88.3]; NaN stays NaN", () => {
    const n = 20011;
    const x = new Float32Array(n).map((_, i) => -87 + (175.3 * i) / n);
    const y = exp(x, new Float32Array(n));
    for (let i = 0; i < n; i++) {
      const want = Math.fround(Math.exp(x[i]));
      if (ulpDiff(y[i], want) > 2) assert.fail(`exp(${x[i]}) = ${y[i]}, expected ${want}`);
    }
    const special = exp(new Float32Array([NaN, 0, -Infinity, 1, 2, NaN]), new Float32Array(6));
    assert.ok(Number.isNaN(special[0]) && Number.isNaN(special[5]));
    assert.equal(special[1], 1);
    assert.ok(special[2] >= 0 && special[2] < 1e-37);
  });

  test("exp's SIMD lanes give the bits of its scalar tail (the one definition, kernels/src/numeric.rs)", () => {
    // a length-1 call runs the scalar exp_one; a long one the 4-lane body (2^n from the
    // exponent bits of fx + 1.5 * 2^23 + 127): the same bits for every input, clamp edges,
    // the smallest 2^n and specials included
    const edges = [88.37626266479492, -88.37626266479492, 88.3762, -88.3762, 87.3, -87.3, -0, 0, 1e-45, -1e-45];
    const x = new Float32Array(4003).map((_, i) =>
      i < edges.length * 4 ? edges[i >> 2] + (i % 4) * 1e-5 : (rnd() - 0.5) * (i % 2 ? 200 : 20)
    );
    x.set([NaN, Infinity, -Infinity, 1e30, -1e30, 127 * Math.LN2, -127 * Math.LN2, -87.33654475], 100);
    const all = exp(x, new Float32Array(x.length));
    const one = new Float32Array(1);
    for (let i = 0; i < x.length; i++) {
      const want = exp(x.subarray(i, i + 1), one)[0];
      if (!Object.is(all[i], want)) assert.fail(`exp(${x[i]}): lanes ${all[i]}, scalar ${want}`);
    }
  });

  test("sigmoid and softmax match double-precision references", () => {
    const n = 1003;
    const x = randomFloats(n, 0.05).map((v) => (Number.isFinite(v) ? v : 3));
    const s = sigmoid(x, new Float32Array(n));
    for (let i = 0; i < n; i++) {
      const want = 1 / (1 + Math.exp(-x[i]));
      if (Math.abs(s[i] - want) > 1e-6 * Math.max(want, 1e-30) + 1e-38) {
        assert.fail(`sigmoid(${x[i]}) = ${s[i]}, expected ${want}`);
      }
    }
    for (const [rows, cols] of [[1, 1000], [7, 3], [4, 85], [1, 1]]) {
      const v = new Float32Array(rows * cols).map(() => (rnd() - 0.5) * 20);
      const copy = v.slice();
      const out = softmax(v, [rows, cols], v); // in place
      for (let r = 0; r < rows; r++) {
        const row = Array.from(copy.subarray(r * cols, (r + 1) * cols));
        const m = Math.max(...row);
        const e = row.map((t) => Math.exp(t - m));
        const sum = e.reduce((p, q) => p + q, 0);
        for (let c = 0; c < cols; c++) {
          const want = e[c] / sum;
          const got = out[r * cols + c];
          if (Math.abs(got - want) > 2e-6 * want + 1e-30) assert.fail(`softmax row ${r} col ${c}: ${got} vs ${want}`);
        }
      }
    }
  });

  test("softmax gives the bits of its definition (kernels/src/softmax.rs), four rows at a time or one", () => {
    // the definition in float32: m the row's max, e = exp(x - m) (the exp kernel), four
    // partial sums over the full vectors in order, (a0 + a1) + (a2 + a3), the tail one by
    // one, then e / sum; a NaN in a row makes it NaN
    const ref = (x: Float32Array, cols: number): Float32Array => {
      const y = new Float32Array(x.length);
      for (let r = 0; r < x.length / cols; r++) {
        const row = x.subarray(r * cols, (r + 1) * cols);
        if (row.some((v) => Number.isNaN(v))) {
          y.fill(NaN, r * cols, (r + 1) * cols);
          continue;
        }
        let m = -Infinity;
        for (const v of row) m = Math.max(m, v);
        const e = exp(row.map((v) => v - m), new Float32Array(cols));
        const acc = [0, 0, 0, 0], full = cols - (cols % 4);
        for (let i = 0; i < full; i++) acc[i % 4] = Math.fround(acc[i % 4] + e[i]);
        let sum = Math.fround(Math.fround(acc[0] + acc[1]) + Math.fround(acc[2] + acc[3]));
        for (let i = full; i < cols; i++) sum = Math.fround(sum + e[i]);
        for (let i = 0; i < cols; i++) y[r * cols + i] = e[i] / sum;
      }
      return y;
    };
    const specials = [NaN, Infinity, -Infinity, -0, 0, 1e30, -1e30, 88.5, -100];
    for (const [rows, cols] of [[9, 4], [13, 16], [6, 20], [5, 64], [7, 1024], [5, 1028], [9, 6], [6, 3], [3, 1]]) {
      const x = new Float32Array(rows * cols).map((_, i) =>
        rnd() < 0.01 ? specials[i % specials.length] : (rnd() - 0.5) * (i % 3 ? 20 : 400)
      );
      x.fill(-Infinity, 0, cols); // a row of -inf: NaN throughout
      const want = ref(x, cols);
      const got = softmax(x, [rows, cols], new Float32Array(x.length));
      const inPlace = softmax(x, [rows, cols], x);
      for (let i = 0; i < x.length; i++) {
        if (!Object.is(got[i], want[i])) assert.fail(`[${rows}, ${cols}] element ${i}: ${got[i]} vs ${want[i]}`);
        if (!Object.is(inPlace[i], want[i])) assert.fail(`in place [${rows}, ${cols}] element ${i}: ${inPlace[i]}`);
      }
    }
  });
});

describe("per-engine dequantize formulation", () => {
  test("both forms (extend_high, and 4-byte loads for JavaScriptCore) give the same bits", async () => {
    const { kernelExports } = await import("../kernels/wasm.ts");
    const k = kernelExports();
    const bun = "Bun" in globalThis;
    const q = new Int8Array(80 * 8 * 67 + 5).map((_, i) => (i * 40503) & 0xff);
    const u = new Uint8Array(q.buffer);
    const shape = [1, 8, 67, 80], pads: [number, number][] = [[0, 0], [0, 0], [0, 3], [0, 5]];
    const results: Float32Array[][] = [];
    try {
      for (const narrow of [false, true]) {
        k.set_dequantize_narrow_loads(narrow);
        results.push([
          dequantize(q, new Float32Array(q.length), 0.037, -3),
          dequantize(u, new Float32Array(u.length), 0.5, 130, "uint8"),
          depadDequantize(q.subarray(0, 8 * 67 * 80), shape, pads, 0.25, 7, new Float32Array(8 * 64 * 75)),
        ]);
      }
    } finally {
      k.set_dequantize_narrow_loads(bun); // the engine's choice, as kernelExports() set it
    }
    const [a, b] = results;
    for (let t = 0; t < a.length; t++) {
      assert.equal(a[t].length, b[t].length);
      for (let i = 0; i < a[t].length; i++) {
        if (!Object.is(a[t][i], b[t][i])) assert.fail(`result ${t} element ${i}: ${a[t][i]} vs ${b[t][i]}`);
      }
    }
    // and the values are the formula's
    for (let i = 0; i < q.length; i += 97) assert.equal(a[0][i], Math.fround((q[i] + 3) * Math.fround(0.037)));
  });
});

describe("sigmoid where exp saturates", () => {
  test("x <= -88.38 gives the subnormal 1 / (1 + exp(88.38)) without dividing: same bits as the division", async () => {
    const { chain } = await import("../kernels/fused.ts");
    // (the float32 neighbours of -88.3762626647949 too: sigmoid's exp skips the clamp to 88.376,
    // which only lanes below -88.376 would reach, and those give the constant)
    const lo = Math.fround(-88.3762626647949), up = new Float32Array([lo]);
    new Uint32Array(up.buffer)[0] -= 1; // one ulp towards 0
    const down = new Float32Array([lo]);
    new Uint32Array(down.buffer)[0] += 1; // one ulp away from 0
    const xs = [
      -1000,
      -100,
      -88.38,
      -88.3762626647949,
      up[0],
      down[0],
      -88.37626,
      -88.37,
      -87.5,
      -87.3,
      -50,
      0,
      3,
      100,
    ];
    xs.push(-Infinity, Infinity, NaN, -0);
    const x = new Float32Array(4 * xs.length + 3).map((_, i) => xs[i % xs.length]);
    const e = exp(x.map((v) => -v), new Float32Array(x.length));
    const s = sigmoid(x, new Float32Array(x.length));
    const c = chain(x, new Float32Array(x.length), x.length, 1, [{ kind: "sigmoid" }]);
    for (let i = 0; i < x.length; i++) {
      const want = Math.fround(1 / Math.fround(1 + e[i]));
      assert.ok(Object.is(s[i], want), `sigmoid(${x[i]}) = ${s[i]}, want ${want}`);
      assert.ok(Object.is(c[i], want), `chain sigmoid(${x[i]}) = ${c[i]}, want ${want}`);
    }
    assert.ok(s[0] > 0 && s[0] < 1.2e-38, `saturated sigmoid is the subnormal constant, got ${s[0]}`);
  });
});
