// Transpose in the graph runner (onnx/numeric.ts): every permutation of rank 2 to 4 on
// shapes that take the tiled path (the input's last axis not last in the output, both
// extents >= 16) and shapes that do not, against an index-by-index reference.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { transpose } from "../onnx/numeric.ts";

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
  for (const shape of [[40, 33], [3, 17, 50], [2, 16, 3, 37], [1, 70, 4, 16], [5, 7, 9], [33, 1, 20, 2]]) {
    test(`[${shape}], every permutation`, () => {
      const n = shape.reduce((a, b) => a * b, 1);
      const x = Float32Array.from({ length: n }, (_, i) => i * 1.5 - 7);
      for (const p of perms(shape.length)) {
        const y = new Float32Array(n);
        transpose(x, shape, p, y);
        assert.deepEqual(y, reference(x, shape, p), `perm [${p}]`);
      }
    });
  }
});
