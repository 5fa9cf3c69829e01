// Deterministic random data and exact comparison for the kernel tests
// (tests/kernels.test.ts, tests/kernels_numeric.test.ts, tests/convt_*.test.ts).
import assert from "node:assert/strict";
import type { ConvTransposeGeometry } from "../../kernels/fused.ts";

// ---- deterministic random numbers
let seed = 0x9e3779b9;
export function rnd(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
export const rint = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
export function prod(s: number[]): number {
  return s.reduce((a, b) => a * b, 1);
}
export function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(got[i] === 0 && want[i] === 0)) {
      assert.fail(`${what}: element ${i} is ${got[i]}, expected ${want[i]}`);
    }
  }
}
/** Random floats with specials and exact ties mixed in. */
export function randomFloats(n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.03) a[i] = NaN;
    else if (r < 0.05) a[i] = Infinity;
    else if (r < 0.07) a[i] = -Infinity;
    else if (r < 0.3) a[i] = (rint(-300, 300) + 0.5) * scale;
    else a[i] = (rnd() - 0.5) * 400 * scale;
  }
  return a;
}
/** All 256 combinations of zero / non-zero begin and end padding on the 4 axes. */

/** `n` floats in [-scale, scale) from a linear congruential generator seeded with `seed`. */
export function seededFloats(n: number, seed: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}

/** The geometry of a tiled 2-D ConvTranspose (stride = kernel = (kh, 2)), batch 1, no padding. */
export function geometry(
  c: number,
  m: number,
  group: number,
  kh: number,
  ih: number,
  iw: number,
): ConvTransposeGeometry {
  return {
    n: 1,
    c,
    m,
    group,
    inSp: [ih, iw],
    outSp: [ih * kh, iw * 2],
    kSp: [kh, 2],
    strides: [kh, 2],
    dil: [1, 1],
    pads: [0, 0],
  };
}
