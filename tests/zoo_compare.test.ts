// tests/zoo/compare.ts boxesAsEither: the zoo's detector rule. A box on which onnxruntime's
// two optimization levels agree must be in ours; a box on which they disagree may follow
// either level; anything else (a missing agreed box, an extra box, a score off) fails.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { boxesAsEither, type Det, pairedComparison, sameBoxes } from "./zoo/compare.ts";

const box = (x0: number, y0: number, x1: number, y1: number, score = 0.9, cls = 0): Det => ({
  x0,
  y0,
  x1,
  y1,
  score,
  cls,
});

// two levels: they agree on A, disagree on B (ref) / B' (alt: IoU 0.86 with B), alt adds C
const A = box(0, 0, 99, 19), B = box(40, 190, 335, 209), B2 = box(39, 189, 336, 211), C = box(152, 80, 162, 89);
const ref = [A, B], alt = [A, B2, C];
const tol = 0.01;

describe("boxesAsEither", () => {
  test("the boxes of either level pass, and count the disputed reference boxes", () => {
    assert.deepEqual(boxesAsEither(ref, alt, ref, tol), { why: "", split: 0 });
    assert.deepEqual(boxesAsEither(ref, alt, alt, tol), { why: "", split: 1 });
    // a mix: B' from alt, no C (as ref)
    assert.deepEqual(boxesAsEither(ref, alt, [A, B2], tol), { why: "", split: 1 });
  });

  test("a box on which both levels agree is required", () => {
    assert.match(boxesAsEither(ref, alt, [B2, C], tol).why, /reference box \[0,0,99,19\].*no match/);
  });

  test("a box of neither level is extra", () => {
    assert.match(boxesAsEither(ref, alt, [A, B, box(400, 0, 500, 30)], tol).why, /1 extra boxes/);
  });

  test("a score off by more than the tolerance fails on an agreed box", () => {
    assert.match(boxesAsEither(ref, alt, [box(0, 0, 99, 19, 0.95), B], tol).why, /score 0.9500 vs 0.9000/);
  });

  test("without a second level it is sameBoxes", () => {
    assert.equal(sameBoxes(ref, ref, tol), "");
    assert.match(sameBoxes(ref, alt, tol), /reference box \[40,190,335,209\].*best IoU 0.86/);
    assert.equal(boxesAsEither(ref, undefined, alt, tol).why, sameBoxes(ref, alt, tol));
  });
});

// pairedComparison: the float form's judgement against quantize_static (docs/zoo.md)
describe("pairedComparison", () => {
  test("a tie within the spread of the differences passes; a better score passes", () => {
    const ort = [0.9991, 0.9993, 0.9995, 0.9990, 0.9996, 0.9994];
    const ours = [0.9992, 0.9991, 0.9996, 0.9989, 0.9995, 0.9995];
    const c = pairedComparison(ours, ort);
    assert.equal(c.worse, false);
    assert.equal(c.n, 6);
    assert.equal(c.wins + c.losses, 6);
    assert.equal(pairedComparison(ort.map((v) => v + 1e-4), ort).worse, false);
    assert.equal(pairedComparison(ort, ort).worse, false, "identical scores tie");
  });

  test("a deficit the items show consistently fails, however small", () => {
    const ort = [0.9991, 0.9993, 0.9995, 0.9990, 0.9996, 0.9994];
    assert.equal(pairedComparison(ort.map((v) => v - 1e-6), ort).worse, true);
    const noisy = ort.map((v, i) => v - 3e-4 + (i % 2 ? 1e-4 : -1e-4));
    assert.equal(pairedComparison(noisy, ort).worse, true);
  });

  test("top-1 decisions (0/1): McNemar's normal form", () => {
    // 3 decisions only onnxruntime gets right, none only ours: within noise (3 < 2 sqrt(3))
    const ref = Array(40).fill(1), ours = [...ref];
    ours[0] = ours[1] = ours[2] = 0;
    assert.equal(pairedComparison(ours, ref).worse, false);
    // 8 against 0: beyond it
    for (let i = 0; i < 8; i++) ours[i] = 0;
    assert.equal(pairedComparison(ours, ref).worse, true);
    assert.throws(() => pairedComparison([1], [1, 0]), RangeError);
  });
});
