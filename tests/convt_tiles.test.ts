// The tiled ConvTranspose kernels (kernels/src/convt.rs: stride = kernel = (kh, 2)) against a
// scalar float32 reference written from the registry's semantics (each output the sum over
// the input channels in order from +0 of float32 products, float32 adds; then `+ bias`,
// skipped for a 0 bias; then the activation): bit for bit, for widths that end in every
// register tile and column tail (tiles of 5 and 4 columns whose first 4 columns are one
// vector load, single columns), output channel counts that take each path, groups, and inputs
// with NaN, infinities and -0. The pair (convTransposePair) is checked against the same
// reference applied twice, with Sigmoid on the kernels' own `sigmoid` (the element-wise op).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Activation, convTranspose, type ConvTransposeGeometry, convTransposePair } from "../kernels/fused.ts";
import { sigmoid } from "../kernels/numeric.ts";
import { geometry, randomFloats, seededFloats } from "./helpers/kernel_data.ts";

const f = Math.fround;

/** The reference: float32 sums in input channel order, bias, activation (none / relu / clip). */
function reference(
  x: Float32Array,
  w: Float32Array,
  bias: Float32Array | null,
  g: ConvTransposeGeometry,
  act: Activation,
): Float32Array {
  const [ih, iw] = g.inSp, [oh, ow] = g.outSp, kh = g.kSp[0];
  const cg = g.c / g.group, mg = g.m / g.group;
  const y = new Float32Array(g.m * oh * ow);
  for (let gi = 0; gi < g.group; gi++) {
    for (let o = 0; o < mg; o++) {
      const oc = gi * mg + o;
      for (let i = 0; i < ih; i++) {
        for (let j = 0; j < iw; j++) {
          for (let a = 0; a < kh; a++) {
            for (let e = 0; e < 2; e++) {
              let s = 0;
              for (let ic = 0; ic < cg; ic++) {
                const c = gi * cg + ic;
                s = f(s + f(w[((c * mg + o) * kh + a) * 2 + e] * x[(c * ih + i) * iw + j]));
              }
              const b = bias ? bias[oc] : 0;
              if (b !== 0) s = f(s + b);
              if (act.kind === "relu") s = s > 0 ? s : 0;
              else if (act.kind === "clip") s = Math.min(Math.max(s, act.lo), act.hi);
              y[(oc * oh + i * kh + a) * ow + 2 * j + e] = s;
            }
          }
        }
      }
    }
  }
  return y;
}

/** Same bits (any NaN matches any NaN). */
function sameBits(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      assert.fail(
        `${what}: element ${i} is ${got[i]} (0x${a[i].toString(16)}), expected ${want[i]} (0x${b[i].toString(16)})`,
      );
    }
  }
}

const ACTS: Activation[] = [{ kind: "none" }, { kind: "relu" }, { kind: "clip", lo: -1, hi: 2 }];

describe("tiled ConvTranspose: bits of the scalar float32 reference", () => {
  // [c, m, group, kh, ih]; widths 1..14, 19, 24, 29, 33: every tile (5 and 4 columns) and tail
  const shapes: number[][] = [[24, 24, 1, 2, 2], [5, 6, 1, 2, 1], [8, 8, 2, 2, 1], [3, 4, 1, 2, 2], [7, 1, 1, 2, 2], [
    6,
    4,
    1,
    1,
    2,
  ], [4, 3, 1, 2, 1]];
  const widths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 19, 24, 29, 33];
  for (const [c, m, group, kh, ih] of shapes) {
    test(`c${c} m${m} g${group} kh${kh}, widths 1..33`, () => {
      for (const iw of widths) {
        const g = geometry(c, m, group, kh, ih, iw);
        const x = randomFloats(c * ih * iw, 0.01);
        x[0] = -0;
        const w = seededFloats(c * (m / group) * kh * 2, iw, 1);
        const bias = seededFloats(m, iw + 1, 1);
        bias[0] = 0;
        for (const [k, act] of ACTS.entries()) {
          const b = k === 1 ? null : bias;
          const want = reference(x, w, b, g, act);
          sameBits(convTranspose(x, w, b, new Float32Array(want.length), g, act), want, `iw ${iw} ${act.kind}`);
        }
      }
    });
  }

  test("the detector head's pair (24 -> 24 Relu, 24 -> 1 Sigmoid) at odd sizes", () => {
    for (const [ih, iw] of [[1, 1], [2, 7], [3, 13], [2, 24], [1, 29]]) {
      const g1 = geometry(24, 24, 1, 2, ih, iw), g2 = geometry(24, 1, 1, 2, 2 * ih, 2 * iw);
      const x = randomFloats(24 * ih * iw, 0.01);
      const w1 = seededFloats(24 * 24 * 4, ih, 0.3), w2 = seededFloats(24 * 4, iw, 0.5);
      const b1 = seededFloats(24, 3, 1), b2 = seededFloats(1, 4, 1);
      const mid = reference(x, w1, b1, g1, { kind: "relu" });
      const lin = reference(mid, w2, b2, g2, { kind: "none" });
      const want = sigmoid(lin, new Float32Array(lin.length));
      const got = convTransposePair(x, { w: w1, bias: b1, g: g1, act: { kind: "relu" } }, {
        w: w2,
        bias: b2,
        g: g2,
        act: { kind: "sigmoid" },
      }, new Float32Array(want.length));
      sameBits(got, want, `${ih}x${iw}`);
    }
  });
});
