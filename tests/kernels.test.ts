// The WASM kernels against plain TypeScript references: random shapes, odd sizes, every
// padding combination, NaN / infinities / .5 ties, the Python reference's TensorInfo
// examples, WasmBuffers across memory growth, and argument errors.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  allocate,
  depad,
  depadDequantize,
  depadDequantizeNchw,
  dequantize,
  nchwToNhwc,
  nhwcToNchw,
  pad,
  quantize,
  quantizePad,
  simdSupported,
  WasmBuffer,
  wasmMemory,
} from "../kernels/mod.ts";
import { assertSame, prod, randomFloats, rint } from "./helpers/kernel_data.ts";

type Pads = [number, number][];
type QArr = Int8Array | Uint8Array;

// ---- references (float32 arithmetic via Math.fround)
function rne(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
function refQ(x: number, scale: number, zp: number, uint8: boolean): number {
  const v = Math.fround(Math.fround(x) / Math.fround(scale));
  if (Number.isNaN(v)) return zp;
  const [lo, hi] = uint8 ? [0, 255] : [-128, 127];
  return Math.min(hi, Math.max(lo, rne(v) + zp));
}
/** Axelera's numpy recipe: np.round(x / scale + zp).clip(lo, hi), in float32. */
function numpyQ(x: number, scale: number, zp: number, uint8: boolean): number {
  const v = Math.fround(Math.fround(Math.fround(x) / Math.fround(scale)) + zp);
  const [lo, hi] = uint8 ? [0, 255] : [-128, 127];
  return Math.min(hi, Math.max(lo, rne(v)));
}
function refDQ(q: number, scale: number, zp: number): number {
  return Math.fround(Math.fround(q - zp) * Math.fround(scale));
}
function shape4(s: number[]): number[] {
  return [...Array(4 - s.length).fill(1), ...s];
}
function pads4(p: Pads): Pads {
  return [...Array(4 - p.length).fill([0, 0]), ...p];
}
function padded(s: number[], p: Pads): number[] {
  return s.map((d, i) => d + p[i][0] + p[i][1]);
}
/** Plain reference of np.pad with a constant. */
function refPad(src: ArrayLike<number>, shape: number[], p: Pads, fill: number): number[] {
  const s = shape4(shape), q = pads4(p), d = padded(s, q);
  const out = new Array(prod(d)).fill(fill);
  let i = 0;
  for (let n = 0; n < s[0]; n++) {
    for (let h = 0; h < s[1]; h++) {
      for (let w = 0; w < s[2]; w++) {
        for (let c = 0; c < s[3]; c++) {
          const o = (((n + q[0][0]) * d[1] + h + q[1][0]) * d[2] + w + q[2][0]) * d[3] + c + q[3][0];
          out[o] = src[i++];
        }
      }
    }
  }
  return out;
}
function refDepad(src: ArrayLike<number>, paddedShape: number[], p: Pads): number[] {
  const d = shape4(paddedShape), q = pads4(p), s = d.map((v, i) => v - q[i][0] - q[i][1]);
  const out: number[] = [];
  for (let n = 0; n < s[0]; n++) {
    for (let h = 0; h < s[1]; h++) {
      for (let w = 0; w < s[2]; w++) {
        for (let c = 0; c < s[3]; c++) {
          out.push(src[(((n + q[0][0]) * d[1] + h + q[1][0]) * d[2] + w + q[2][0]) * d[3] + c + q[3][0]]);
        }
      }
    }
  }
  return out;
}
/** NHWC [n,h,w,c] -> NCHW. */
function refNchw(src: ArrayLike<number>, s4: number[]): number[] {
  const [N, H, W, C] = s4;
  const out = new Array(N * H * W * C);
  for (let n = 0; n < N; n++) {
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        for (let c = 0; c < C; c++) out[((n * C + c) * H + h) * W + w] = src[((n * H + h) * W + w) * C + c];
      }
    }
  }
  return out;
}
function allPaddings(): Pads[] {
  const out: Pads[] = [];
  for (let m = 0; m < 256; m++) {
    const p: Pads = [];
    for (let a = 0; a < 4; a++) {
      p.push([(m >> (2 * a)) & 1 ? rint(1, 3) : 0, (m >> (2 * a + 1)) & 1 ? rint(1, 3) : 0]);
    }
    out.push(p);
  }
  return out;
}
const CASES: { shape: number[]; padding: Pads }[] = [
  // The Python reference's TensorInfo examples.
  { shape: [1, 230, 240, 3], padding: [[0, 0], [3, 3], [3, 13], [0, 1]] },
  { shape: [1, 1, 1, 1024], padding: [[0, 0], [0, 0], [0, 0], [0, 24]] },
  // The benchmarks' shapes and the 3 -> 4 channel fast path with odd widths.
  { shape: [1, 80, 80, 60], padding: [[0, 0], [0, 0], [0, 0], [0, 4]] },
  { shape: [1, 5, 37, 3], padding: [[0, 0], [1, 1], [1, 15], [0, 1]] },
  { shape: [2, 3, 17, 3], padding: [[1, 0], [0, 2], [0, 0], [0, 1]] },
  // Lower ranks.
  { shape: [7, 19], padding: [[1, 2], [3, 0]] },
  { shape: [33], padding: [[5, 6]] },
];
for (const padding of allPaddings()) {
  CASES.push({ shape: [rint(1, 2), rint(1, 4), rint(1, 20), [1, 2, 3, 4, 5, 16, 17, 33][rint(0, 7)]], padding });
}

describe("kernels: setup", () => {
  test("WebAssembly SIMD is available and the module's memory is exposed", () => {
    assert.equal(simdSupported(), true);
    assert.ok(wasmMemory() instanceof WebAssembly.Memory);
    assert.ok(wasmMemory().buffer.byteLength > 0);
  });
});

describe("kernels: quantize / dequantize", () => {
  test("random values, odd lengths, int8 and uint8, against the reference", () => {
    for (const n of [0, 1, 3, 15, 16, 17, 31, 63, 100, 1001, 4099]) {
      for (const uint8 of [false, true]) {
        const scale = [0.003919653594493866, 0.1, 1, 0.75][rint(0, 3)];
        const zp = uint8 ? rint(0, 255) : rint(-128, 127);
        const x = randomFloats(n, scale);
        const q = quantize(x, uint8 ? new Uint8Array(n) : new Int8Array(n), scale, zp);
        assertSame(q, Array.from(x, (v) => refQ(v, scale, zp, uint8)), `quantize n=${n} uint8=${uint8}`);
        const y = dequantize(q, new Float32Array(n), scale, zp);
        assertSame(y, Array.from(q, (v) => refDQ(v, scale, zp)), `dequantize n=${n} uint8=${uint8}`);
      }
    }
  });

  test("NaN gives the zero point, +inf the maximum, -inf the minimum", () => {
    const x = new Float32Array(40).fill(NaN);
    x.set([Infinity, -Infinity, 1e30, -1e30], 0);
    x.set([Infinity, -Infinity], 20);
    const q = quantize(x, new Int8Array(40), 0.5, -7);
    assert.deepEqual([q[0], q[1], q[2], q[3], q[4], q[20], q[21], q[39]], [127, -128, 127, -128, -7, 127, -128, -7]);
    const u = quantize(x, new Uint8Array(40), 0.5, 9);
    assert.deepEqual([u[0], u[1], u[4], u[20], u[21], u[39]], [255, 0, 9, 255, 0, 9]);
  });

  test("large magnitudes saturate on the SIMD body, the RGB -> RGBX path and the tail", () => {
    // The SIMD body rounds with 1.5 * 2^23 after clamping x / scale from below at -2^22
    // and lets the saturating narrows clamp the rest: these are the values around those
    // limits (and where the rounding trick alone would wrap).
    const edges = [
      2 ** 22 - 0.5,
      2 ** 22,
      2 ** 22 + 2,
      1.5 * 2 ** 23,
      2 ** 23,
      2 ** 24,
      3e7,
      1e38,
      32767.5,
      32768,
      65536,
      255.5,
      128.5,
    ];
    const vals = [...edges, ...edges.map((v) => -v), 0, -0, 0.5, -0.5, 1.5, NaN, Infinity, -Infinity];
    const n = 16 * 3 * 3 + 5; // whole SIMD blocks of RGB pixels plus a scalar tail
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = vals[(i * 7) % vals.length] * (i % 3 === 0 ? 1 : 0.75);
    for (const [zp, uint8] of [[-128, false], [127, false], [-7, false], [0, true], [255, true], [9, true]] as const) {
      for (const scale of [1, 0.5, 3]) {
        const want = Array.from(x, (v) => refQ(v, scale, zp, uint8));
        const q = quantize(x, uint8 ? new Uint8Array(n) : new Int8Array(n), scale, zp);
        assertSame(q, want, `quantize zp=${zp} uint8=${uint8} scale=${scale}`);
        const w = Math.floor(n / 3),
          shape = [1, 1, w, 3],
          padding: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 1]];
        const qp = quantizePad(
          x.subarray(0, w * 3),
          shape,
          padding,
          scale,
          zp,
          uint8 ? new Uint8Array(w * 4) : new Int8Array(w * 4),
        );
        assertSame(
          qp,
          refPad(want.slice(0, w * 3), shape, padding, zp),
          `quantizePad rgbx zp=${zp} uint8=${uint8} scale=${scale}`,
        );
      }
    }
  });

  test("ties round half to even, and divide rather than multiply by the reciprocal", () => {
    const ks = Array.from({ length: 64 }, (_, i) => i - 32);
    const x = new Float32Array(ks.map((k) => k + 0.5));
    const q = quantize(x, new Int8Array(x.length), 1, 0);
    assert.deepEqual(Array.from(q), ks.map((k) => (k % 2 === 0 ? k : k + 1)));
    // 0.25 / 0.1 is exactly 2.5 in float32 (-> 2), 0.25 * (1 / 0.1) is not.
    const t = quantize(new Float32Array(17).fill(0.25), new Int8Array(17), 0.1, 0);
    assert.deepEqual(Array.from(t), new Array(17).fill(2));
  });

  test("equals numpy's np.round(x / scale + zp) on .5 boundaries for even zero points", () => {
    for (
      const [zp, uint8] of [[-128, false], [0, false], [6, false], [126, false], [0, true], [128, true], [
        254,
        true,
      ]] as const
    ) {
      for (const scale of [1, 0.25, 0.5]) {
        const x = new Float32Array(2048);
        for (let i = 0; i < x.length; i++) x[i] = ((i - 1024) / 4 + 0.5 * (i % 2)) * scale;
        const q = quantize(x, uint8 ? new Uint8Array(x.length) : new Int8Array(x.length), scale, zp);
        assertSame(q, Array.from(x, (v) => numpyQ(v, scale, zp, uint8)), `zp=${zp} scale=${scale}`);
      }
    }
  });

  test("differs from numpy only on exact ties with an odd zero point (documented)", () => {
    const x = new Float32Array([0.5, 1.5, 2.25, -0.5, 3.75]);
    const q = quantize(x, new Int8Array(5), 1, -7);
    assert.deepEqual(Array.from(q), [-7, -5, -5, -7, -3]); // rne(v) + zp
    assert.deepEqual(Array.from(x, (v) => numpyQ(v, 1, -7, false)), [-6, -6, -5, -8, -3]);
  });
});

describe("kernels: pad / depad and the fused kernels", () => {
  test("pad and depad, int8 / uint8 / float32, every padding combination", () => {
    for (const { shape, padding } of CASES) {
      const n = prod(shape), pn = prod(padded(shape4(shape), pads4(padding)));
      const i8 = new Int8Array(n).map(() => rint(-128, 127));
      const got = pad(i8, shape, padding, -128, new Int8Array(pn));
      assertSame(got, refPad(i8, shape, padding, -128), `pad int8 ${shape} ${JSON.stringify(padding)}`);
      const pshape = padded(shape4(shape), pads4(padding)).slice(4 - shape.length);
      assertSame(depad(got, pshape, padding, new Int8Array(n)), i8, `depad(pad) int8 ${shape}`);
      const noisy = new Int8Array(pn).map(() => rint(-128, 127));
      assertSame(
        depad(noisy, pshape, padding, new Int8Array(n)),
        refDepad(noisy, pshape, padding),
        `depad int8 ${shape}`,
      );
      const noisyF = randomFloats(pn, 1);
      assertSame(
        depad(noisyF, pshape, padding, new Float32Array(n)),
        refDepad(noisyF, pshape, padding),
        `depad f32 ${shape}`,
      );
      const u8 = new Uint8Array(n).map(() => rint(0, 255));
      assertSame(pad(u8, shape, padding, 200, new Uint8Array(pn)), refPad(u8, shape, padding, 200), "pad uint8");
      const f = randomFloats(n, 1);
      const pf = pad(f, shape, padding, -0.5, new Float32Array(pn));
      assertSame(pf, refPad(f, shape, padding, -0.5), `pad f32 ${shape}`);
      assertSame(depad(pf, pshape, padding, new Float32Array(n)), f, `depad f32 ${shape}`);
    }
  });

  test("quantizePad, depadDequantize and depadDequantizeNchw, every padding combination", () => {
    for (const { shape, padding } of CASES) {
      const s4 = shape4(shape), p4 = pads4(padding);
      const n = prod(s4), pn = prod(padded(s4, p4));
      const pshape = padded(s4, p4).slice(4 - shape.length);
      for (const uint8 of [false, true]) {
        const scale = rint(0, 1) ? 0.003919653594493866 : 0.5;
        const zp = uint8 ? rint(0, 255) : rint(-128, 127);
        const x = randomFloats(n, scale);
        const q = Array.from(x, (v) => refQ(v, scale, zp, uint8));
        const qp = quantizePad(x, shape, padding, scale, zp, uint8 ? new Uint8Array(pn) : new Int8Array(pn));
        const what = `${shape} ${JSON.stringify(padding)} uint8=${uint8}`;
        assertSame(qp, refPad(q, shape, padding, zp), `quantizePad ${what}`);
        const y = Array.from(q, (v) => refDQ(v, scale, zp));
        assertSame(depadDequantize(qp, pshape, padding, scale, zp, new Float32Array(n)), y, `depadDequantize ${what}`);
        const noisy = uint8 ? new Uint8Array(pn).map(() => rint(0, 255)) : new Int8Array(pn).map(() => rint(-128, 127));
        const yn = refDepad(noisy, pshape, padding).map((v) => refDQ(v, scale, zp));
        assertSame(
          depadDequantize(noisy, pshape, padding, scale, zp, new Float32Array(n)),
          yn,
          `depadDequantize noisy ${what}`,
        );
        assertSame(
          depadDequantizeNchw(noisy, pshape, padding, scale, zp, new Float32Array(n)),
          refNchw(yn, s4),
          `depadDequantizeNchw noisy ${what}`,
        );
        assertSame(
          depadDequantizeNchw(qp, pshape, padding, scale, zp, new Float32Array(n)),
          refNchw(y, s4),
          `depadDequantizeNchw ${what}`,
        );
      }
    }
  });
});

describe("kernels: transposes", () => {
  test("nhwcToNchw and nchwToNhwc, int8 and float32, random shapes", () => {
    const shapes = [[1, 1, 1, 1], [1, 7, 9, 3], [2, 5, 3, 17], [1, 4, 4, 64], [3, 1, 33, 2], [6, 5], [9]];
    for (let i = 0; i < 12; i++) shapes.push([rint(1, 2), rint(1, 20), rint(1, 20), rint(1, 40)]);
    for (const shape of shapes) {
      const s4 = shape4(shape), n = prod(s4);
      const nchwShape = [s4[0], s4[3], s4[1], s4[2]];
      const f = randomFloats(n, 1);
      const t = nhwcToNchw(f, shape, new Float32Array(n));
      assertSame(t, refNchw(f, s4), `nhwcToNchw f32 ${shape}`);
      assertSame(nchwToNhwc(t, nchwShape, new Float32Array(n)), f, `nchwToNhwc f32 ${shape}`);
      const b = new Int8Array(n).map(() => rint(-128, 127));
      const tb = nhwcToNchw(b, shape, new Int8Array(n));
      assertSame(tb, refNchw(b, s4), `nhwcToNchw int8 ${shape}`);
      assertSame(nchwToNhwc(tb, nchwShape, new Int8Array(n)), b, `nchwToNhwc int8 ${shape}`);
    }
  });

  test("SIMD fast paths (c = 1..4): SIMD body and scalar tail, batches, unaligned WasmBuffer views", () => {
    // h*w around multiples of 4 (f32 vectors) and 16 (byte vectors), so that every tail length occurs.
    const pixels = [1, 2, 3, 4, 5, 7, 15, 16, 17, 31, 33, 47, 50, 63, 65, 100];
    for (const c of [1, 2, 3, 4, 5]) {
      for (const hw of pixels) {
        for (const batch of [1, 2, 3]) {
          const [h, w] = hw % 2 === 0 ? [2, hw / 2] : [1, hw];
          const s4 = [batch, h, w, c], n = prod(s4), nchwShape = [batch, c, h, w];
          const what = `c=${c} h*w=${hw} n=${batch}`;
          const f = randomFloats(n, 1);
          const t = nhwcToNchw(f, s4, new Float32Array(n));
          assertSame(t, refNchw(f, s4), `nhwcToNchw f32 ${what}`);
          assertSame(nchwToNhwc(t, nchwShape, new Float32Array(n)), f, `nchwToNhwc f32 ${what}`);
          const u = new Uint8Array(n).map(() => rint(0, 255));
          const tu = nhwcToNchw(u, s4, new Uint8Array(n));
          assertSame(tu, refNchw(u, s4), `nhwcToNchw uint8 ${what}`);
          assertSame(nchwToNhwc(tu, nchwShape, new Uint8Array(n)), u, `nchwToNhwc uint8 ${what}`);
        }
      }
    }
    // Views of the module's memory one element past a 16-byte boundary: unaligned vector loads and stores.
    for (const [c, hw] of [[3, 37], [4, 21], [2, 19], [3, 50]]) {
      const n = 2 * hw * c, s4 = [2, 1, hw, c], nchwShape = [2, c, 1, hw];
      const a = allocate(4 * (n + 1)), b = allocate(4 * (n + 1));
      try {
        const f = randomFloats(n, 1);
        a.f32().subarray(1).set(f);
        nhwcToNchw(a.f32().subarray(1), s4, b.f32().subarray(1));
        assertSame(b.f32().subarray(1), refNchw(f, s4), `nhwcToNchw f32 unaligned c=${c}`);
        nchwToNhwc(b.f32().subarray(1), nchwShape, a.f32().subarray(1));
        assertSame(a.f32().subarray(1), f, `nchwToNhwc f32 unaligned c=${c}`);
        const q = new Int8Array(n).map(() => rint(-128, 127));
        a.i8().subarray(1, n + 1).set(q);
        nhwcToNchw(a.i8().subarray(1, n + 1), s4, b.i8().subarray(1, n + 1));
        assertSame(b.i8().subarray(1, n + 1), refNchw(q, s4), `nhwcToNchw int8 unaligned c=${c}`);
        nchwToNhwc(b.i8().subarray(1, n + 1), nchwShape, a.i8().subarray(1, n + 1));
        assertSame(a.i8().subarray(1, n + 1), q, `nchwToNhwc int8 unaligned c=${c}`);
      } finally {
        a.free();
        b.free();
      }
    }
  });
});

describe("kernels: WasmBuffer and the arena", () => {
  test("kernels run in place on WasmBuffers and on views of the module's memory", () => {
    const n = 1000;
    const x = allocate(4 * n), q = allocate(n), y = allocate(4 * n);
    try {
      const src = randomFloats(n, 0.1);
      x.f32().set(src);
      quantize(x, q, 0.1, 3, "int8");
      assertSame(q.i8(), Array.from(src, (v) => refQ(v, 0.1, 3, false)), "quantize WasmBuffer");
      dequantize(q, y, 0.1, 3, "int8");
      assertSame(y.f32(), Array.from(q.i8(), (v) => refDQ(v, 0.1, 3)), "dequantize WasmBuffer");
      // A typed array viewing the memory is used in place too.
      quantize(x.f32(), q.u8(), 0.1, 30);
      assertSame(q.u8(), Array.from(src, (v) => refQ(v, 0.1, 30, true)), "quantize memory views");
      // WasmBuffer pad of float32 and int8 (element size inferred from the byte length).
      const pq = allocate(n + 20);
      pad(q, [n], [[10, 10]], 7, pq);
      assertSame(pq.u8(), refPad(q.u8(), [n], [[10, 10]], 7), "pad WasmBuffer int8");
      pq.free();
    } finally {
      x.free();
      q.free();
      y.free();
    }
  });

  test("views are re-created after the memory grows and data survives", () => {
    const a = allocate(64);
    a.u8().set(Array.from({ length: 64 }, (_, i) => i));
    const before = a.u8();
    const pages = wasmMemory().buffer.byteLength;
    const big = allocate(pages + 64 * 1024 * 1024); // forces memory.grow
    assert.ok(wasmMemory().buffer.byteLength > pages);
    assert.equal(before.length, 0, "old views are detached after growth");
    assert.deepEqual(Array.from(a.u8().subarray(0, 5)), [0, 1, 2, 3, 4]);
    quantize(new Float32Array(16).fill(1), a.i8().subarray(0, 16), 1, 0);
    assert.equal(a.i8()[0], 1);
    big.free();
    a.free();
    assert.throws(() => a.u8(), /used after free/);
    assert.throws(() => quantize(new Float32Array(64), a, 1, 0), /freed/);
  });

  test("byteOffset and byteLength describe the block, 16-byte aligned", () => {
    const b = allocate(10);
    assert.equal(b.byteLength, 10);
    assert.equal(b.byteOffset % 16, 0);
    assert.equal(b.f32().length, 2);
    assert.ok(b instanceof WasmBuffer);
    b.free();
    assert.throws(() => allocate(-1), RangeError);
  });
});

describe("kernels: argument errors", () => {
  test("sizes, types, shapes, scales and zero points are validated with clear messages", () => {
    const f = new Float32Array(12);
    assert.throws(() => quantize(f, new Int8Array(11), 1, 0), {
      name: "RangeError",
      message: /dst must have 12 elements, got 11/,
    });
    assert.throws(() => quantize(f as never, new Float32Array(12) as never, 1, 0), {
      name: "TypeError",
      message: /dst must be Int8Array or Uint8Array or WasmBuffer, got Float32Array/,
    });
    assert.throws(() => quantize(f, new Int8Array(12), 0, 0), {
      name: "RangeError",
      message: /scale must be a finite number > 0 in float32, got 0/,
    });
    // Finite in float64 but 0 or infinite in float32, where the kernels compute.
    assert.throws(() => quantize(f, new Int8Array(12), 1e-50, 0), { name: "RangeError", message: /got 1e-50/ });
    assert.throws(() => quantize(f, new Int8Array(12), 1e39, 0), { name: "RangeError", message: /got 1e\+39/ });
    assert.throws(() => quantize(f, new Int8Array(12), 1, 200), {
      name: "RangeError",
      message: /zeroPoint must be an integer in \[-128, 127\] for int8, got 200/,
    });
    assert.throws(() => quantize(f, new Uint8Array(12), 1, -1), {
      name: "RangeError",
      message: /\[0, 255\] for uint8/,
    });
    assert.throws(() => quantize(f, new Int8Array(12), 1, 0, "uint8"), {
      name: "TypeError",
      message: /contradicts dst/,
    });
    assert.throws(() => pad(new Int8Array(6), [1, 2, 3], [[0, 0], [0, 1]], 0, new Int8Array(8)), {
      name: "RangeError",
      message: /padding must have one \[begin, end\] pair per axis \(3\), got 2/,
    });
    assert.throws(() => pad(new Int8Array(6), [1, 2, 3], [[0, 0], [0, 0], [0, 1]], 0, new Int8Array(9)), {
      name: "RangeError",
      message: /dst must have 8 elements, got 9/,
    });
    assert.throws(() => pad(new Int8Array(6), [1, 1, 1, 2, 3], [], 0, new Int8Array(6)), {
      name: "RangeError",
      message: /shape must have rank 1 to 4, got rank 5/,
    });
    assert.throws(() => pad(new Int8Array(6), [2, 3], [[0, -1], [0, 0]], 0, new Int8Array(6)), {
      name: "RangeError",
      message: /padding\[0\]/,
    });
    assert.throws(() => pad(new Int8Array(6), [2, 3], [[0, 0], [0, 0]], 300, new Int8Array(6)), {
      name: "RangeError",
      message: /fill must be an integer in \[-128, 127\], got 300/,
    });
    assert.throws(() => pad(new Int8Array(6), [2, 3], [[0, 0], [0, 0]], 0, new Uint8Array(6)), {
      name: "TypeError",
      message: /dst must be a Int8Array like src/,
    });
    assert.throws(() => depad(new Int8Array(6), [2, 3], [[0, 0], [2, 2]], new Int8Array(0)), {
      name: "RangeError",
      message: /padding\[1\] \(\[2, 2\]\) exceeds paddedShape\[1\] \(3\)/,
    });
    assert.throws(() => depadDequantize(new Int8Array(8), [2, 4], [[0, 0], [0, 1]], 1, 0, new Float32Array(8)), {
      name: "RangeError",
      message: /dst must have 6 elements, got 8/,
    });
    assert.throws(() => nhwcToNchw(new Int8Array(6), [1, 2, 3], new Int8Array(5)), {
      name: "RangeError",
      message: /dst must have 6 elements/,
    });
    const b = allocate(32), b7 = allocate(7), b3 = allocate(3);
    assert.throws(() => quantize(b, b7, 1, 0), {
      name: "RangeError",
      message: /dst must be 8 bytes .* got a WasmBuffer of 7 bytes/,
    });
    assert.throws(() => pad(b, [3], [[0, 0]], 0, b3), {
      name: "RangeError",
      message: /src WasmBuffer must be 3 bytes \(int8\/uint8\) or 12 bytes \(float32\), got 32/,
    });
    // In-place on overlapping memory is refused.
    const f32 = b.f32();
    assert.throws(() => nhwcToNchw(f32, [8], f32), { name: "RangeError", message: /overlap/ });
    for (const x of [b, b7, b3]) x.free();
  });
});
