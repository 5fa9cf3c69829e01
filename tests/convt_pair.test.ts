// kernels/fused.ts convTransposePair and prepareConvTransposePair: two tiled ConvTransposes
// streamed by rows give the bits of two convTranspose calls (the intermediate tensor never
// written out), for both kernel heights, groups, bias or none, column tails and every
// activation; a prepared pair keeps its own copy of the constants; geometries that do not
// chain are refused.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Activation,
  convTranspose,
  convTransposePair,
  convTransposePairs,
  prepareConvTransposePair,
} from "../kernels/fused.ts";
import { allocate } from "../kernels/arena.ts";
import { assertSame, geometry, randomFloats, seededFloats } from "./helpers/kernel_data.ts";

const ACTS: Activation[] = [{ kind: "none" }, { kind: "relu" }, { kind: "sigmoid" }, { kind: "clip", lo: -1, hi: 2 }];

describe("convTransposePair", () => {
  // [c, m1, group1, kh1, m2, kh2, ih, iw]
  const cases: number[][] = [
    [24, 24, 1, 2, 1, 2, 3, 16], // the demo's head
    [24, 24, 1, 2, 1, 2, 2, 19], // column tail
    [8, 8, 2, 2, 1, 2, 2, 14], // groups: tiles of 5 and 4 columns
    [4, 8, 2, 1, 6, 2, 3, 9],
    [3, 5, 1, 2, 4, 1, 2, 8],
    [2, 3, 1, 1, 2, 1, 1, 5],
  ];
  for (const [c, m1, group, kh1, m2, kh2, ih, iw] of cases) {
    test(`c${c} m${m1}/g${group} kh${kh1} -> m${m2} kh${kh2}, ${ih}x${iw}: the bits of two calls`, () => {
      const g1 = geometry(c, m1, group, kh1, ih, iw), g2 = geometry(m1, m2, 1, kh2, ih * kh1, iw * 2);
      assert.ok(convTransposePairs(g1, g2));
      const x = randomFloats(c * ih * iw, 8);
      const w1 = seededFloats(c * (m1 / group) * kh1 * 2, 1, 1), w2 = seededFloats(m1 * m2 * kh2 * 2, 2, 1);
      const b1 = seededFloats(m1, 3, 2), b2 = seededFloats(m2, 4, 2);
      b1[0] = 0;
      for (const [i, act] of ACTS.entries()) {
        const bias1 = i % 2 ? b1 : null;
        const mid = convTranspose(x, w1, bias1, new Float32Array(m1 * ih * kh1 * iw * 2), g1, act);
        const want = convTranspose(mid, w2, b2, new Float32Array(m2 * ih * kh1 * kh2 * iw * 4), g2, ACTS[3 - i]);
        const first = { w: w1, bias: bias1, g: g1, act }, second = { w: w2, bias: b2, g: g2, act: ACTS[3 - i] };
        assertSame(convTransposePair(x, first, second, new Float32Array(want.length)), want, `${act.kind}`);
        const y = allocate(4 * want.length); // output in the kernels' memory
        assertSame(convTransposePair(x, first, second, y).f32(), want, `${act.kind} (WasmBuffer)`);
        y.free();
        const prepared = prepareConvTransposePair(first, second);
        assertSame(prepared.run(x, new Float32Array(want.length)), want, `${act.kind} (prepared)`);
        assertSame(prepared.run(x, new Float32Array(want.length)), want, `${act.kind} (prepared, again)`);
        prepared.free();
      }
    });
  }

  test("a prepared pair keeps its own copy of the constants, checks sizes and refuses use after free()", () => {
    const g1 = geometry(24, 24, 1, 2, 2, 16), g2 = geometry(24, 1, 1, 2, 4, 32);
    const x = randomFloats(24 * 2 * 16, 9), w1 = seededFloats(24 * 24 * 4, 5, 1), w2 = seededFloats(24 * 4, 6, 1);
    const b1 = seededFloats(24, 7, 2), scale = seededFloats(24, 8, 1);
    const first = {
      w: w1,
      bias: b1,
      g: g1,
      act: { kind: "relu" } as Activation,
      chain: [{ op: "mul" as const, b: { kind: "channel" as const, values: scale } }],
    };
    const second = { w: w2, bias: null, g: g2, act: { kind: "sigmoid" } as Activation };
    const want = convTransposePair(x, first, second, new Float32Array(16 * 2 * 16));
    const prepared = prepareConvTransposePair(first, second);
    assert.equal(prepared.inputLength, x.length);
    assert.equal(prepared.outputLength, want.length);
    w1.fill(0); // changed after prepare: not seen
    scale.fill(0);
    assertSame(prepared.run(x, new Float32Array(want.length)), want, "own copy");
    assert.throws(() => prepared.run(x.subarray(1), new Float32Array(want.length)), RangeError);
    assert.throws(() => prepared.run(x, new Float32Array(want.length + 1)), RangeError);
    prepared.free();
    prepared.free(); // idempotent
    assert.throws(() => prepared.run(x, new Float32Array(want.length)), /after free/);
  });

  test("geometries that do not chain are refused", () => {
    const g1 = geometry(4, 4, 1, 2, 2, 8);
    const w1 = new Float32Array(64), w2 = new Float32Array(16);
    assert.equal(convTransposePairs(g1, geometry(4, 1, 1, 2, 4, 8)), false); // width mismatch
    assert.equal(convTransposePairs(g1, { ...geometry(4, 1, 1, 2, 4, 16), pads: [1, 0] }), false);
    assert.throws(
      () =>
        convTransposePair(
          new Float32Array(64),
          { w: w1, bias: null, g: g1, act: { kind: "none" } },
          { w: w2, bias: null, g: geometry(4, 1, 1, 2, 4, 8), act: { kind: "none" } },
          new Float32Array(128),
        ),
      RangeError,
    );
    assert.throws(
      () =>
        prepareConvTransposePair(
          { w: w1, bias: null, g: g1, act: { kind: "none" } },
          { w: w2, bias: null, g: geometry(4, 1, 1, 2, 4, 8), act: { kind: "none" } },
        ),
      RangeError,
    );
  });
});
