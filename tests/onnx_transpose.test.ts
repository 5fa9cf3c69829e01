// Transpose in the graph runner (onnx/numeric.ts): every permutation of rank 2 to 6 on
// shapes that take the tiled path (the input's last axis not last in the output, both
// extents >= 16) and shapes that do not, float32 (the WASM kernel from 256 elements on) and
// int32 (TypeScript), against an index-by-index reference; the kernel copies bits.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { transpose } from "../onnx/numeric.ts";
import { conv1x1Permuted, gemm, permute } from "../kernels/mod.ts";

function reference(x: Float32Array, shape: number[], perm: number[]): Float32Array {
  const r = shape.length, out = new Float32Array(x.length), outShape = perm.map((p) => shape[p]);
  const inStr = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const idx = new Array<number>(r).fill(0);
  for (let q = 0; q < x.length; q++) {
    out[q] = x[idx.reduce((s, v, d) => s + v * inStr[perm[d]], 0)];
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

const perms = (r: number): number[][] =>
  r === 1
    ? [[0]]
    : perms(r - 1).flatMap((p) => Array.from({ length: r }, (_, i) => [...p.slice(0, i), r - 1, ...p.slice(i)]));

describe("transpose", () => {
  const shapes = [[40, 33], [3, 17, 50], [2, 16, 3, 37], [1, 70, 4, 16], [5, 7, 9], [33, 1, 20, 2], [2, 3, 2, 5, 2, 3]];
  for (const shape of shapes) {
    test(`[${shape}], every permutation`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n }, (_, i) => i * 1.5 - 7);
      for (const p of perms(shape.length)) {
        const y = new Float32Array(n);
        transpose(x, shape, p, y);
        assert.deepEqual(y, reference(x, shape, p), `perm [${p}]`);
        const xi = Int32Array.from(x, (v) => v * 2), yi = new Int32Array(n);
        transpose(xi, shape, p, yi);
        assert.deepEqual(Float32Array.from(yi, (v) => v / 2), y, `int32, perm [${p}]`);
      }
    });
  }

  test("the kernel copies bits (NaN payloads, -0), rank 7 stays in TypeScript, bad perms throw", () => {
    const shape = [3, 5, 7, 11], n = 3 * 5 * 7 * 11;
    const bits = Uint32Array.from({ length: n }, (_, i) => (i % 5 ? (i * 2654435761) >>> 0 : 0x7fc00001 + i));
    const y = new Float32Array(n);
    permute(new Float32Array(bits.buffer), shape, [3, 1, 0, 2], y);
    const want = reference(new Float32Array(Float32Array.from(bits, (_, i) => i).buffer), shape, [3, 1, 0, 2]);
    assert.deepEqual(new Uint32Array(y.buffer), Uint32Array.from(want, (i) => bits[i]));
    const s7 = [2, 2, 2, 2, 2, 2, 5], x7 = Float32Array.from({ length: 320 }, (_, i) => i);
    const p7 = [6, 5, 4, 3, 2, 1, 0], y7 = new Float32Array(320);
    transpose(x7, s7, p7, y7);
    assert.deepEqual(y7, reference(x7, s7, p7));
    assert.throws(() => permute(x7, s7, p7, new Float32Array(320)), RangeError);
    assert.throws(() => permute(new Float32Array(6), [2, 3], [0, 0], new Float32Array(6)), /not a permutation/);
  });

  test("conv1x1Permuted: the bits of permute, then the gemm kernel's 1x1 Conv", () => {
    const specials = [NaN, Infinity, -Infinity, -0, 0, 1e30, -1e30];
    const cases: [number[], number[], number][] = [
      [[1, 37, 4, 16], [0, 3, 2, 1], 1],
      [[1, 9, 5, 8], [0, 3, 1, 2], 3],
      [[1, 6, 3], [0, 2, 1], 2],
    ];
    for (const [shape, perm, m] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n }, (_, i) => (i % 29 === 3 ? specials[i % 7] : Math.sin(i) * 3));
      const t = permute(x, shape, perm, new Float32Array(n));
      const c = shape[perm[1]], pixels = n / c;
      const w = Float32Array.from({ length: m * c }, (_, i) => (i % 11 === 5 ? -0 : Math.cos(i) * 2));
      const want = gemm(w, t, new Float32Array(m * pixels), m, pixels, c, {
        aRowStride: c,
        aColStride: 1,
        bRowStride: pixels,
      });
      const inStr = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
      const pix = perm.slice(2);
      const got = conv1x1Permuted(
        x,
        w,
        new Float32Array(m * pixels),
        m,
        c,
        pix.map((p) => shape[p]),
        pix.map((p) => inStr[p]),
      );
      for (let i = 0; i < want.length; i++) {
        if (!Object.is(got[i], want[i])) assert.fail(`[${shape}] perm [${perm}] element ${i}: ${got[i]} vs ${want[i]}`);
      }
    }
  });
});
