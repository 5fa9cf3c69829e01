// The ONNX runner's float32 paths that run on the WASM kernels (large enough tensors:
// small ones stay in TypeScript), checked against float64 references computed here.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type AttrValue,
  encodeModel,
  float,
  makeModel,
  makeNode,
  OnnxGraph,
  type Tensor,
  tensor,
  valueInfo,
} from "../onnx/mod.ts";
import { seededFloats } from "./helpers/kernel_data.ts";
import { gemm, gemmDot, gemmStepwise, im2col, PackedMatrix, softmax, softmaxAxis } from "../kernels/mod.ts";
import { gemm as runnerGemm, GEMM_DOT_KERNEL_MIN } from "../onnx/numeric_nn.ts";

const rand = (n: number, seed: number, scale = 4): Float32Array => seededFloats(n, seed, scale);

function run(op: string, inputs: Record<string, Tensor>, attrs: Record<string, AttrValue> = {}): Tensor {
  const names = Object.keys(inputs);
  const m = makeModel({
    opset: 17,
    nodes: [makeNode(op, names, ["y"], attrs, "n0")],
    inputs: names.map((n) => valueInfo(n, inputs[n].dtype, inputs[n].shape)),
    outputs: [valueInfo("y", "float32", null)],
  });
  return OnnxGraph.fromBytes(encodeModel(m)).run(inputs).y;
}

function close(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const g = got[i], w = want[i];
    if (w === Infinity || Number.isNaN(w)) {
      assert.ok(Object.is(g, w), `element ${i}: ${g} vs ${w}`);
      continue;
    }
    assert.ok(Math.abs(g - w) <= tol * (1 + Math.abs(w)), `element ${i}: ${g} vs ${w}`);
  }
}

function softmaxRef(x: Float32Array, outer: number, axis: number, inner: number): Float64Array {
  const o = new Float64Array(x.length);
  for (let p = 0; p < outer; p++) {
    for (let q = 0; q < inner; q++) {
      let mx = -Infinity, s = 0;
      for (let k = 0; k < axis; k++) mx = Math.max(mx, x[(p * axis + k) * inner + q]);
      for (let k = 0; k < axis; k++) s += Math.exp(x[(p * axis + k) * inner + q] - mx);
      for (let k = 0; k < axis; k++) o[(p * axis + k) * inner + q] = Math.exp(x[(p * axis + k) * inner + q] - mx) / s;
    }
  }
  return o;
}

describe("onnx runner on the kernels", () => {
  test("Add/Sub/Mul/Div with broadcasting match float32 arithmetic exactly", () => {
    const a = rand(4 * 3 * 50, 1), b = rand(3 * 1, 2);
    const ops: Record<string, (x: number, y: number) => number> = {
      Add: (x, y) => x + y,
      Sub: (x, y) => x - y,
      Mul: (x, y) => x * y,
      Div: (x, y) => x / y,
    };
    for (const [op, f] of Object.entries(ops)) {
      const y = run(op, { a: tensor("float32", [4, 3, 50], a), b: tensor("float32", [3, 1], b) });
      assert.deepEqual(y.shape, [4, 3, 50]);
      const d = y.data as Float32Array;
      for (let i = 0; i < d.length; i++) {
        assert.equal(d[i], Math.fround(f(a[i], b[Math.floor(i / 50) % 3])), `${op} element ${i}`);
      }
    }
  });

  test("Exp (overflow gives +Infinity, NaN stays NaN) and Sigmoid", () => {
    const x = rand(1000, 3, 20);
    x[0] = 88.5, x[1] = 100, x[2] = -100, x[3] = NaN, x[4] = 88.72;
    const e = run("Exp", { x: tensor("float32", [1000], x) }).data as Float32Array;
    close(e, Array.from(x, (v) => Math.fround(Math.exp(v))), 3e-7);
    assert.equal(e[1], Infinity);
    const s = run("Sigmoid", { x: tensor("float32", [1000], x) }).data as Float32Array;
    close(s, Array.from(x, (v) => 1 / (1 + Math.exp(-v))), 3e-7);
  });

  test("Softmax on the last axis and on a middle axis (no transpose)", () => {
    const x = rand(2 * 16 * 4 * 37, 4, 6);
    for (const [axis, outer, len, inner] of [[3, 2 * 16 * 4, 37, 1], [1, 2, 16, 4 * 37], [0, 1, 2, 16 * 4 * 37]]) {
      const y = run("Softmax", { x: tensor("float32", [2, 16, 4, 37], x) }, { axis });
      close(y.data as Float32Array, softmaxRef(x, outer, len, inner), 1e-6);
    }
    // LogSoftmax keeps the TypeScript path
    const l = run("LogSoftmax", { x: tensor("float32", [2, 16, 4, 37], x) }, { axis: 1 }).data as Float32Array;
    close(l, Array.from(softmaxRef(x, 2, 16, 148), Math.log), 1e-5);
  });

  test("MatMul, Gemm (transposed A) and a 1x1 Conv through the GEMM kernel", () => {
    const a = rand(37 * 50, 5, 1), b = rand(50 * 61, 6, 1);
    const ref = new Float64Array(37 * 61);
    for (let i = 0; i < 37; i++) {
      for (let j = 0; j < 61; j++) {
        let s = 0;
        for (let p = 0; p < 50; p++) s += a[i * 50 + p] * b[p * 61 + j];
        ref[i * 61 + j] = s;
      }
    }
    close(
      run("MatMul", { a: tensor("float32", [37, 50], a), b: tensor("float32", [50, 61], b) }).data as Float32Array,
      ref,
      1e-5,
    );
    const at = new Float32Array(50 * 37);
    for (let i = 0; i < 37; i++) for (let p = 0; p < 50; p++) at[p * 37 + i] = a[i * 50 + p];
    close(
      run("Gemm", { a: tensor("float32", [50, 37], at), b: tensor("float32", [50, 61], b) }, { transA: 1 })
        .data as Float32Array,
      ref,
      1e-5,
    );
    // Conv 1x1: weights [37, 50, 1, 1] over x [1, 50, 61, 1]
    close(
      run("Conv", { x: tensor("float32", [1, 50, 61, 1], b), w: tensor("float32", [37, 50, 1, 1], a) })
        .data as Float32Array,
      ref,
      1e-5,
    );
  });

  test("ConvTranspose (stride 2 kernel 2, and pads/dilations/groups/output_padding) matches a direct reference", () => {
    const cases: {
      c: number;
      m: number;
      g: number;
      h: number;
      w: number;
      k: [number, number];
      s: [number, number];
      d: [number, number];
      p: number[];
      op: [number, number];
    }[] = [
      { c: 24, m: 3, g: 1, h: 9, w: 12, k: [2, 2], s: [2, 2], d: [1, 1], p: [0, 0, 0, 0], op: [0, 0] },
      { c: 8, m: 6, g: 2, h: 7, w: 10, k: [3, 3], s: [2, 1], d: [1, 2], p: [1, 2, 0, 1], op: [1, 0] },
    ];
    for (const t of cases) {
      const cg = t.c / t.g, mg = t.m / t.g, [kh, kw] = t.k;
      const x = rand(t.c * t.h * t.w, 7, 1), w = rand(t.c * mg * kh * kw, 8, 1), bias = rand(t.m, 9, 1);
      const oh = t.s[0] * (t.h - 1) + t.op[0] + (kh - 1) * t.d[0] + 1 - t.p[0] - t.p[2];
      const ow = t.s[1] * (t.w - 1) + t.op[1] + (kw - 1) * t.d[1] + 1 - t.p[1] - t.p[3];
      const ref = new Float64Array(t.m * oh * ow);
      for (let oc = 0; oc < t.m; oc++) ref.fill(bias[oc], oc * oh * ow, (oc + 1) * oh * ow);
      for (let g = 0; g < t.g; g++) {
        for (let ic = 0; ic < cg; ic++) {
          for (let o = 0; o < mg; o++) {
            for (let i = 0; i < t.h; i++) {
              for (let j = 0; j < t.w; j++) {
                for (let a = 0; a < kh; a++) {
                  for (let e = 0; e < kw; e++) {
                    const y = i * t.s[0] + a * t.d[0] - t.p[0], z = j * t.s[1] + e * t.d[1] - t.p[1];
                    if (y < 0 || y >= oh || z < 0 || z >= ow) continue;
                    ref[((g * mg + o) * oh + y) * ow + z] += x[((g * cg + ic) * t.h + i) * t.w + j] *
                      w[(((g * cg + ic) * mg + o) * kh + a) * kw + e];
                  }
                }
              }
            }
          }
        }
      }
      const y = run("ConvTranspose", {
        x: tensor("float32", [1, t.c, t.h, t.w], x),
        w: tensor("float32", [t.c, mg, kh, kw], w),
        b: tensor("float32", [t.m], bias),
      }, { group: t.g, kernel_shape: t.k, strides: t.s, dilations: t.d, pads: t.p, output_padding: t.op });
      assert.deepEqual(y.shape, [1, t.m, oh, ow]);
      close(y.data as Float32Array, ref, 1e-5);
    }
  });
});

test("Conv 3x3 (pads, strides, dilations, groups) through im2col + GEMM matches a direct reference", () => {
  const cases = [
    { c: 6, m: 8, g: 1, h: 15, w: 13, k: [3, 3], s: [1, 1], d: [1, 1], p: [1, 1, 1, 1] },
    { c: 8, m: 6, g: 2, h: 33, w: 30, k: [3, 2], s: [2, 1], d: [1, 2], p: [1, 0, 2, 1] },
  ];
  for (const t of cases) {
    const cg = t.c / t.g, mg = t.m / t.g, [kh, kw] = t.k;
    const x = rand(t.c * t.h * t.w, 14, 1), w = rand(t.m * cg * kh * kw, 15, 1), bias = rand(t.m, 16, 1);
    const oh = Math.floor((t.h + t.p[0] + t.p[2] - ((kh - 1) * t.d[0] + 1)) / t.s[0]) + 1;
    const ow = Math.floor((t.w + t.p[1] + t.p[3] - ((kw - 1) * t.d[1] + 1)) / t.s[1]) + 1;
    const ref = new Float64Array(t.m * oh * ow);
    for (let oc = 0; oc < t.m; oc++) {
      const g = Math.floor(oc / mg);
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let s = bias[oc];
          for (let ic = 0; ic < cg; ic++) {
            for (let a = 0; a < kh; a++) {
              for (let e = 0; e < kw; e++) {
                const y = i * t.s[0] - t.p[0] + a * t.d[0], z = j * t.s[1] - t.p[1] + e * t.d[1];
                if (y < 0 || y >= t.h || z < 0 || z >= t.w) continue;
                s += x[((g * cg + ic) * t.h + y) * t.w + z] * w[((oc * cg + ic) * kh + a) * kw + e];
              }
            }
          }
          ref[(oc * oh + i) * ow + j] = s;
        }
      }
    }
    const y = run("Conv", {
      x: tensor("float32", [1, t.c, t.h, t.w], x),
      w: tensor("float32", [t.m, cg, kh, kw], w),
      b: tensor("float32", [t.m], bias),
    }, { group: t.g, kernel_shape: t.k, strides: t.s, dilations: t.d, pads: t.p });
    assert.deepEqual(y.shape, [1, t.m, oh, ow]);
    close(y.data as Float32Array, ref, 1e-5);
    // and bit for bit the gemm kernel's sums over the patches (padding taps as +0 values,
    // float32 multiply then add in order of channel and tap, from +0), then the bias
    const want = new Float32Array(t.m * oh * ow);
    for (let oc = 0; oc < t.m; oc++) {
      const g = Math.floor(oc / mg);
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let s = 0;
          for (let ic = 0; ic < cg; ic++) {
            for (let a = 0; a < kh; a++) {
              for (let e = 0; e < kw; e++) {
                const y = i * t.s[0] - t.p[0] + a * t.d[0], z = j * t.s[1] - t.p[1] + e * t.d[1];
                const xv = y < 0 || y >= t.h || z < 0 || z >= t.w ? 0 : x[((g * cg + ic) * t.h + y) * t.w + z];
                s = Math.fround(s + Math.fround(xv * w[((oc * cg + ic) * kh + a) * kw + e]));
              }
            }
          }
          want[(oc * oh + i) * ow + j] = Math.fround(s + bias[oc]);
        }
      }
    }
    assert.deepEqual(y.data, want);
  }
});

test("im2col copies every tap's input value (+0 in the padding) and refuses offsets out of range", () => {
  const inSize = 37, channels = 5, kSize = 4, outSize = 23;
  const x = rand(channels * inSize, 81, 3);
  x[3] = -0;
  x[7] = NaN;
  const offs = new Int32Array(outSize * kSize).map((_, i) => (i % 7 === 3 ? -1 : (i * 13) % inSize));
  for (const [o0, wd] of [[0, outSize], [8, 9]]) {
    const col = im2col(x, inSize, channels, offs, kSize, o0, wd, new Float32Array(channels * kSize * wd).fill(5));
    for (let ic = 0; ic < channels; ic++) {
      for (let kk = 0; kk < kSize; kk++) {
        for (let j = 0; j < wd; j++) {
          const off = offs[(o0 + j) * kSize + kk], v = col[(ic * kSize + kk) * wd + j];
          assert.ok(Object.is(v, off >= 0 ? x[ic * inSize + off] : 0), `channel ${ic} tap ${kk} column ${j}`);
        }
      }
    }
  }
  const bad = offs.slice();
  bad[5] = inSize;
  assert.throws(
    () => im2col(x, inSize, channels, bad, kSize, 0, outSize, new Float32Array(channels * kSize * outSize)),
    RangeError,
  );
  assert.throws(
    () => im2col(x, inSize, channels, offs, kSize, 20, 4, new Float32Array(channels * kSize * 4)),
    RangeError,
  );
  assert.throws(() => im2col(x, inSize, channels, offs, kSize, 0, outSize, new Float32Array(3)), RangeError);
});

describe("kernels: softmaxAxis and gemm", () => {
  test("softmaxAxis equals softmax on the last axis and normalises a middle axis", () => {
    const x = rand(3 * 5 * 7, 10);
    assert.deepEqual(
      softmaxAxis(x, [3, 5, 7], -1, new Float32Array(x.length)),
      softmax(x, [3, 5, 7], new Float32Array(x.length)),
    );
    close(softmaxAxis(x, [3, 5, 7], 1, new Float32Array(x.length)), softmaxRef(x, 3, 5, 7), 1e-6);
    const inPlace = x.slice();
    softmaxAxis(inPlace, [3, 5, 7], 0, inPlace);
    close(inPlace, softmaxRef(x, 1, 3, 35), 1e-6);
    assert.throws(() => softmaxAxis(x, [3, 5, 7], 3, new Float32Array(x.length)), RangeError);
  });

  test("gemm is bit-exact float32 (products added in order), with accumulate and strided A", () => {
    const m = 7, n = 19, k = 6;
    const a = rand(m * k, 11, 2), b = rand(k * n, 12, 2), c0 = rand(m * n, 13, 2);
    const c = gemm(a, b, c0.slice(), m, n, k, { aRowStride: k, aColStride: 1, bRowStride: n }, true);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = c0[i * n + j];
        for (let p = 0; p < k; p++) s = Math.fround(s + Math.fround(a[i * k + p] * b[p * n + j]));
        assert.equal(c[i * n + j], s, `element ${i},${j}`);
      }
    }
    assert.throws(
      () => gemm(a, b.subarray(1), new Float32Array(m * n), m, n, k, { aRowStride: k, aColStride: 1, bRowStride: n }),
      RangeError,
    );
  });

  test("gemm over several column panels and a column tail keeps the per-element order", () => {
    // k = 300: panels of 24 columns; n = 150: six panels and a 6-column tail; m = 9: a 1-row block
    const m = 9, n = 150, k = 300;
    const a = rand(m * k, 21, 2), b = rand(k * n, 22, 2);
    const c = gemm(a, b, new Float32Array(m * n), m, n, k, { aRowStride: k, aColStride: 1, bRowStride: n });
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s = Math.fround(s + Math.fround(a[i * k + p] * b[p * n + j]));
        assert.equal(c[i * n + j], s, `element ${i},${j}`);
      }
    }
  });

  test("gemm with a PackedMatrix gives the bits of gemm with the matrix itself", () => {
    // 1-row and 4-row blocks, strips of 8, a column tail (or none), k from 1 up, B rows strided
    for (const [m, n, k] of [[1, 8, 1], [5, 19, 7], [9, 150, 300], [40, 33, 120], [3, 5, 4], [6, 16, 2]]) {
      const brs = n + 3, a = rand(m * k, 51 + m, 2), b = rand(k * brs, 52 + n, 2), c0 = rand(m * n, 53, 2);
      const layout = { aRowStride: k, aColStride: 1, bRowStride: brs };
      const p = PackedMatrix.pack(b, k, n, brs);
      for (const accumulate of [false, true]) {
        const want = gemm(a, b, c0.slice(), m, n, k, layout, accumulate);
        assert.deepEqual(gemm(a, p, c0.slice(), m, n, k, layout, accumulate), want, `${m}x${n}x${k} ${accumulate}`);
      }
      // transposed A, read through strides
      const at = new Float32Array(m * k);
      for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) at[q * m + i] = a[i * k + q];
      const tl = { aRowStride: 1, aColStride: m, bRowStride: 0 };
      assert.deepEqual(
        gemm(at, p, new Float32Array(m * n), m, n, k, tl),
        gemm(a, b, new Float32Array(m * n), m, n, k, layout),
      );
      assert.throws(() => gemm(a, p, new Float32Array(m * (n + 1)), m, n + 1, k, layout), RangeError);
      p.free();
      assert.ok(p.freed);
      assert.throws(() => gemm(a, p, new Float32Array(m * n), m, n, k, layout), TypeError);
    }
    assert.throws(() => PackedMatrix.pack(new Float32Array(10), 2, 8), RangeError);
  });

  test("gemmStepwise gives the JavaScript loop's bits (exact products, float32 sums, zeros skipped), per batch", () => {
    // n below 8, a multiple of 8, and the last n % 8 columns done as the 8 ending at n
    for (const n of [3, 8, 15, 21]) gemmStepwiseCase(n);
  });

  function gemmStepwiseCase(n: number): void {
    const m = 5, k = 9;
    const a = rand(2 * m * k, 31, 3), b = rand(3 * k * n, 32, 3);
    for (let i = 0; i < a.length; i += 7) a[i] = 0;
    // three batches: a broadcast over the last two
    const offsets = [0, 0, m * k, k * n, m * k, 2 * k * n];
    const c = gemmStepwise(a, b, new Float32Array(3 * m * n), m, n, k, {
      aRowStride: k,
      aColStride: 1,
      bRowStride: n,
    }, offsets);
    for (let q = 0; q < 3; q++) {
      const want = new Float32Array(m * n);
      runnerGemm(a, offsets[2 * q], k, 1, b, offsets[2 * q + 1], n, 1, want, 0, m, n, k, false);
      assert.deepEqual(c.subarray(q * m * n, (q + 1) * m * n), want, `n ${n}, batch ${q}`);
      // and that loop is not the float32-multiply kernel's: the test can tell them apart
      const f32 = gemm(a.subarray(offsets[2 * q]), b.subarray(offsets[2 * q + 1]), new Float32Array(m * n), m, n, k, {
        aRowStride: k,
        aColStride: 1,
        bRowStride: n,
      });
      if (q === 0) assert.notDeepEqual(f32, want, `n ${n}`);
    }
    const layout = { aRowStride: k, aColStride: 1, bRowStride: n };
    assert.throws(() => gemmStepwise(a, b, new Float32Array(m * n), m, n, k, layout, [0, 3 * k * n]), RangeError);
    assert.throws(() => gemmStepwise(a, b, new Float32Array(m * n), m, n, k, layout, [0]), RangeError);
  }

  /**
   * The runner's Gemm with `transB` as it was before the dot kernel: per element an f64 sum
   * of exact products in order of p, rounded once (`c += s` on a zeroed Float32Array); then
   * alpha and beta * C as gemmOp applies them.
   */
  function gemmTransBLoop(
    a: Float32Array,
    b: Float32Array,
    bias: Float32Array | undefined,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    alpha = 1,
    beta = 1,
  ): Float32Array {
    const c = new Float32Array(m * n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += (transA ? a[p * m + i] : a[i * k + p]) * b[j * k + p];
        c[i * n + j] += s;
      }
    }
    if (alpha !== 1) { for (let i = 0; i < c.length; i++) c[i] *= alpha; }
    if (bias) { for (let i = 0; i < c.length; i++) c[i] += beta * bias[i % n]; }
    return c;
  }

  test("gemmDot gives the runner's dot-product loop's bits (f64 sums in order of p), with tails and accumulate", () => {
    for (const [m, n, k] of [[2, 11, 7], [1, 4, 4], [3, 9, 13], [1, 1, 1], [2, 5, 0]]) {
      const a = rand(m * k, 51 + m, 3e3), b = rand(n * (k + 3), 52 + n, 0.37);
      for (let i = 0; i < a.length; i += 5) a[i] = i % 10 ? 0 : -0;
      for (const accumulate of [false, true]) {
        const want = Float32Array.from({ length: m * n }, (_, i) => i * 0.1 - 0.3);
        const got = want.slice();
        // below GEMM_DOT_KERNEL_MIN: the JavaScript loop
        assert.ok(m * n * k < GEMM_DOT_KERNEL_MIN);
        runnerGemm(a, 0, k, 1, b, 0, 1, k + 3, want, 0, m, n, k, accumulate);
        gemmDot(a, b, got, m, n, k, { aRowStride: k, aColStride: 1, bColStride: k + 3 }, accumulate);
        assert.deepEqual(got, want, `${m}x${n}x${k} accumulate ${accumulate}`);
      }
    }
    assert.throws(() =>
      gemmDot(rand(6, 1), rand(5, 2), new Float32Array(2), 1, 2, 3, {
        aRowStride: 3,
        aColStride: 1,
        bColStride: 3,
      }), RangeError);
  });

  test("Gemm with transB (a Linear layer) on the dot kernel keeps the runner's bits, constant or not", () => {
    // 1 x 403 x 1030 (the unrolled LSTM steps of a CRNN: one row at a time), and a
    // transposed A with tails in n and k; constant B (kept in the kernels' memory) or an input
    for (const [m, n, k, transA] of [[1, 403, 1030, false], [3, 37, 131, true]] as const) {
      assert.ok(m * n * k >= GEMM_DOT_KERNEL_MIN);
      const a = rand(m * k, 61 + n, 2), b = rand(n * k, 62 + n, 0.05), bias = rand(n, 63, 1);
      for (const [alpha, beta] of [[1, 1], [0.5, -2]]) {
        const want = gemmTransBLoop(a, b, bias, m, n, k, transA, alpha, beta);
        const attrs = { transA: transA ? 1 : 0, transB: 1, alpha: float(alpha), beta: float(beta) };
        const aShape = transA ? [k, m] : [m, k];
        for (const constant of [true, false]) {
          const inputs = [valueInfo("a", "float32", aShape)];
          if (!constant) inputs.push(valueInfo("w", "float32", [n, k]));
          const g = OnnxGraph.fromBytes(encodeModel(makeModel({
            nodes: [makeNode("Gemm", ["a", "w", "bias"], ["y"], attrs, "fc")],
            inputs,
            outputs: [valueInfo("y", "float32", null)],
            initializers: {
              bias: tensor("float32", [n], bias),
              ...(constant ? { w: tensor("float32", [n, k], b) } : {}),
            },
          })));
          const feeds: Record<string, Tensor> = { a: tensor("float32", aShape, a) };
          if (!constant) feeds.w = tensor("float32", [n, k], b);
          for (let run = 0; run < 2; run++) {
            assert.deepEqual(g.run(feeds).y.data, want, `${m}x${n}x${k} constant ${constant} run ${run}`);
          }
        }
      }
      // and those bits are not the float32 kernel's (the test tells the two apart)
      const bt = new Float32Array(k * n);
      for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bt[p * n + j] = b[j * k + p];
      const f32 = gemm(a, bt, new Float32Array(m * n), m, n, k, {
        aRowStride: transA ? 1 : k,
        aColStride: transA ? m : 1,
        bRowStride: n,
      });
      assert.notDeepEqual(f32, gemmTransBLoop(a, b, undefined, m, n, k, transA));
    }
  });

  test("MatMul of two activations (attention heads) on the kernel keeps the runner's bits", () => {
    const x = rand(8 * 40 * 15, 41, 3), y = rand(8 * 15 * 40, 42, 3);
    const got = run("MatMul", {
      x: { data: x, shape: [1, 8, 40, 15], dtype: "float32" },
      y: { data: y, shape: [1, 8, 15, 40], dtype: "float32" },
    });
    assert.deepEqual(got.shape, [1, 8, 40, 40]);
    const want = new Float32Array(8 * 40 * 40);
    for (let q = 0; q < 8; q++) runnerGemm(x, q * 600, 15, 1, y, q * 600, 40, 1, want, q * 1600, 40, 40, 15, false);
    assert.deepEqual(got.data, want);
  });
});
