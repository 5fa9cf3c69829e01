// TensorInfo.pad()/depad() of any element type (numpy pads and slices any dtype), and
// infer() taking any typed array of numbers for a one-input model.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as axr from "../mod.ts";
import { type EmulatorEnv, useEmulatorEnv } from "./helpers/emu_env.ts";

const tiny = fileURLToPath(new URL("./fixtures/tiny/model.json", import.meta.url));

/** np.pad by hand: index arithmetic over the padded shape. */
function naivePad(src: ArrayLike<number>, shape: number[], padding: [number, number][], fill: number): number[] {
  const inner = shape.map((d, i) => d - padding[i][0] - padding[i][1]);
  const total = shape.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let flat = 0; flat < total; flat++) {
    let rem = flat, srcIndex = 0, inside = true, mul = 1;
    const pos: number[] = [];
    for (let i = shape.length - 1; i >= 0; i--) {
      pos[i] = rem % shape[i];
      rem = Math.floor(rem / shape[i]);
    }
    for (let i = shape.length - 1; i >= 0; i--) {
      const p = pos[i] - padding[i][0];
      if (p < 0 || p >= inner[i]) inside = false;
      srcIndex += p * mul;
      mul *= inner[i];
    }
    out.push(inside ? src[srcIndex] : fill);
  }
  return out;
}

describe("TensorInfo.pad/depad of any element type", () => {
  const padding: [number, number][] = [[0, 0], [1, 2], [0, 1], [2, 3]];
  const info = new axr.TensorInfo([1, 6, 4, 9], { padding, zeroPoint: -3, scale: 0.5 });
  const unpadded = info.unpaddedLength;

  for (
    const [name, make, fill] of [
      ["Float32Array", (n: number) => Float32Array.from({ length: n }, (_, i) => i * 0.25 - 7), 0],
      ["Float64Array", (n: number) => Float64Array.from({ length: n }, (_, i) => i / 3), 0],
      ["Int16Array", (n: number) => Int16Array.from({ length: n }, (_, i) => i - 500), -3],
      ["Int32Array", (n: number) => Int32Array.from({ length: n }, (_, i) => i * 1000), -3],
      ["Int8Array", (n: number) => Int8Array.from({ length: n }, (_, i) => (i % 200) - 100), -3],
    ] as const
  ) {
    test(`${name}: pad equals np.pad (fill ${fill}), depad gives the input back`, () => {
      const x = make(unpadded);
      const padded = info.pad(x);
      assert.equal(padded.constructor, x.constructor);
      assert.equal(padded.length, info.length);
      assert.deepEqual(Array.from(padded as ArrayLike<number>), naivePad(x, [1, 6, 4, 9], padding, fill));
      const back = info.depad(padded);
      assert.deepEqual(Array.from(back as ArrayLike<number>), Array.from(x));
    });
  }

  test("BigInt64Array pads with the zero point", () => {
    const x = BigInt64Array.from({ length: unpadded }, (_, i) => BigInt(i));
    const padded = info.pad(x);
    assert.equal(padded[0], -3n);
    assert.deepEqual(Array.from(info.depad(padded)), Array.from(x));
  });

  test("wrong element counts and mixed element types are InvalidArgument", () => {
    assert.throws(() => info.depad(new Float32Array(info.unpaddedLength)), axr.InvalidArgument);
    assert.throws(() => info.pad(new Float32Array(3)), /must hold \d+ elements, got 3/);
    assert.throws(
      () => info.pad(new Float32Array(unpadded), new Int16Array(info.length)),
      /dst must be a Float32Array/,
    );
  });
});

describe("infer() with any typed array for a one-input model", () => {
  let env: EmulatorEnv;
  before(() => (env = useEmulatorEnv()));
  after(() => env.restore());

  test("a Uint8Array of pixels gives what the same values as float32 give", () => {
    using ctx = new axr.Context();
    const model = ctx.loadModel(tiny);
    using conn = ctx.deviceConnect();
    const inst = conn.loadModelInstance(model);
    const [input] = model.inputs();
    const pixels = Uint8Array.from({ length: input.unpaddedLength }, (_, i) => (i * 37) % 256);
    const viaBytes = inst.infer(pixels);
    const viaFloat = inst.infer(Float32Array.from(pixels));
    assert.deepEqual(Object.keys(viaBytes), Object.keys(viaFloat));
    for (const k of Object.keys(viaFloat)) assert.deepEqual(viaBytes[k].data, viaFloat[k].data, k);
    assert.throws(
      () => inst.infer(new BigInt64Array(input.unpaddedLength) as unknown as Float32Array),
      /not a float input/,
    );
  });
});
