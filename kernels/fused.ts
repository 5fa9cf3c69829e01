/**
 * Fused float32 kernels for the ONNX graph runner (kernels/src/fused.rs): an element-wise
 * chain in one pass over memory, and a 2-D ConvTranspose with bias and activation (GEMM +
 * col2im in WASM, or direct tiles when stride = kernel). Each gives the same bits as its
 * ops run one by one (see the Rust module for the per-op semantics).
 *
 * @module
 */
import { allocate, memoryViews, scratchBlock, WasmBuffer } from "./arena.ts";
import { type Arg, callKernel, checkCount, checkOperand, isU32 } from "./call.ts";
import { PERMUTE_MAX_RANK } from "./permute.ts";
import { kernelExports } from "./wasm.ts";

// scratch slots of their own, above those callKernel gives to operands (one per operand)
const COL_SLOT = 100, PROG_SLOT = 101, CHUNK_SLOT = 102;
// rows of a source outside the kernels' memory are copied in by chunks of about this many
// bytes (they stay in the cache until the kernel reads them)
const CHUNK_BYTES = 128 * 1024;
const MAX_STEPS = 16;

/** An activation fused after a ConvTranspose or in a chain. @example `{ kind: "clip", lo: 0, hi: 6 }` */
export type Activation =
  | { kind: "none" }
  | { kind: "relu" }
  | { kind: "sigmoid" }
  | { kind: "clip"; lo: number; hi: number };

/** The operand of a binary chain step: a scalar, one value per channel, or a tensor of the chain's size. */
export type ChainOperand =
  | { kind: "scalar"; value: number }
  | { kind: "channel"; values: Float32Array | WasmBuffer }
  | { kind: "tensor"; values: Float32Array | WasmBuffer };

/**
 * A QuantizeLinear followed by the DequantizeLinear of the same scale and zero point:
 * `float32(sat(rne(x / scale) + zeroPoint) - zeroPoint) * scale`, one float32 division,
 * ties to even, and a NaN quantized to 0 (as the graph runner and onnxruntime store it).
 * @example `{ kind: "qdq", scale: 0.5, zeroPoint: -128, type: "int8" }`
 */
export interface QdqStep {
  kind: "qdq";
  scale: number;
  zeroPoint: number;
  type: "int8" | "uint8" | "int16" | "uint16";
}

/** One step of a chain: `x op b` (or `b op x` with `reverse`), an activation or a quantize-dequantize pair. @example `{ op: "add", b: { kind: "scalar", value: 1 } }` */
export type ChainStep =
  | { op: "add" | "sub" | "mul" | "div"; b: ChainOperand; reverse?: boolean }
  | Activation
  | QdqStep;

const QDQ_TYPES = { int8: [0, -128, 127], uint8: [1, 0, 255], int16: [2, -32768, 32767], uint16: [3, 0, 65535] };

const f32bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0];

function count(x: Float32Array | WasmBuffer): number {
  return x instanceof WasmBuffer ? x.byteLength >>> 2 : x.length;
}

function actWords(a: Activation): [number, number, number] {
  switch (a.kind) {
    case "none":
      return [0, 0, 0];
    case "relu":
      return [1, 0, 0];
    case "sigmoid":
      return [2, 0, 0];
    case "clip":
      return [3, f32bits(a.lo), f32bits(a.hi)];
  }
}

/**
 * `dst = steps(src)` element-wise in one pass (may be in place). Elements form blocks of
 * `inner`; block `o` uses per-channel values at `o % channels` (for NCHW with channel
 * operands: `inner` = H*W, `channels` = C).
 *
 * @throws {RangeError} on sizes that do not fit.
 * @example
 * ```ts
 * import { chain } from "./fused.ts";
 * const y = chain(new Float32Array([-1, 2]), new Float32Array(2), 2, 1, [
 *   { op: "mul", b: { kind: "scalar", value: 2 } }, { kind: "relu" }]);
 * console.log(y); // Float32Array [0, 4]
 * ```
 */
export function chain<D extends Float32Array | WasmBuffer>(
  src: Float32Array | WasmBuffer,
  dst: D,
  inner: number,
  channels: number,
  steps: readonly ChainStep[],
): D {
  const fn = "chain";
  checkOperand(fn, "src", src, [Float32Array]);
  checkOperand(fn, "dst", dst, [Float32Array]);
  const n = count(src);
  checkCount(fn, "dst", dst, n, 4);
  if (!(inner > 0 && channels > 0 && n % inner === 0)) {
    throw new RangeError(`chain: ${n} elements do not form blocks of ${inner} (channels ${channels})`);
  }
  const ins: Arg[] = [{ name: "src", value: src, bytes: 4 * n, inPlace: true }];
  const at = chainArgs(fn, "", steps, channels, n, ins);
  if (n === 0) return dst;
  callKernel(fn, ins, [{ name: "dst", value: dst, bytes: 4 * n }], undefined, (ptrs, [d]) => {
    const prog = writeProgram(PROG_SLOT, steps, ptrs, at);
    kernelExports().chain_f32(ptrs[0], d, n, inner, channels, prog, steps.length);
  });
  return dst;
}

/**
 * Softmax along the last axis of `shape` (the bits of `softmax` in kernels/numeric.ts), then
 * the chain `steps` on every value, in one pass: each block of rows goes through the steps
 * while it is in the cache. Steps with per-channel or tensor operands are refused.
 *
 * @throws {RangeError} on sizes that do not fit, or a per-channel or tensor operand.
 * @example
 * ```ts
 * import { softmaxChain } from "./fused.ts";
 * const y = softmaxChain(new Float32Array([0, 0, 1, 1]), [2, 2], [
 *   { kind: "qdq", scale: 1 / 255, zeroPoint: 0, type: "uint8" }], new Float32Array(4));
 * console.log(y); // Float32Array(4) [0.50196..., 0.50196..., 0.50196..., 0.50196...]
 * ```
 */
export function softmaxChain<D extends Float32Array | WasmBuffer>(
  src: Float32Array | WasmBuffer,
  shape: readonly number[],
  steps: readonly ChainStep[],
  dst: D,
): D {
  const fn = "softmaxChain";
  checkOperand(fn, "src", src, [Float32Array]);
  checkOperand(fn, "dst", dst, [Float32Array]);
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new RangeError(`${fn}: shape must be a non-empty array of non-negative integers, got [${shape}]`);
  }
  const n = shape.reduce((a, b) => a * b, 1), cols = shape[shape.length - 1];
  checkCount(fn, "src", src, n, 4);
  checkCount(fn, "dst", dst, n, 4);
  steps.forEach((s, i) => {
    if ("op" in s && s.b.kind !== "scalar") {
      throw new RangeError(`${fn}: steps[${i}] has a ${s.b.kind} operand; only scalars are taken`);
    }
  });
  const ins: Arg[] = [{ name: "src", value: src, bytes: 4 * n, inPlace: true }];
  const at = chainArgs(fn, "", steps, 1, undefined, ins);
  if (n === 0) return dst;
  callKernel(fn, ins, [{ name: "dst", value: dst, bytes: 4 * n }], undefined, (ptrs, [d]) => {
    const prog = writeProgram(PROG_SLOT, steps, ptrs, at);
    kernelExports().softmax_chain_f32(ptrs[0], d, n / cols, cols, prog, steps.length);
  });
  return dst;
}

/** Where the rows of {@link softmaxChainConv1x1} go: the axes of the row index (row-major, last fastest) and the output element stride of each. @example `{ sizes: [300, 4], outStrides: [1, 300] }` */
export interface RowOrder {
  sizes: readonly number[];
  outStrides: readonly number[];
}

/**
 * {@link softmaxChain} over `[rows, cols]`, then a 1x1 convolution with weights `w` (`[m,
 * cols]`) of every row as the channels of one pixel: `dst[o * rows + at(r)] = sum over c of
 * w[o * cols + c] * p[r, c]` (from +0, float32 multiply then add, in order of `c`), where
 * `at(r)` decomposes `r` over `order.sizes` and weighs the indices by `order.outStrides`. The
 * bits of softmaxChain, then a Transpose that makes the last axis the channels, then the
 * 1x1 Conv on the gemm kernel; the probabilities are never written out. A source outside
 * the kernels' memory is copied in by chunks of rows.
 *
 * @throws {RangeError} on sizes that do not fit, an order that leaves the output, or a per-channel or tensor operand.
 * @example
 * ```ts
 * import { softmaxChainConv1x1 } from "./fused.ts";
 * // 2 pixels of 4 channels, one output channel: the expectation of each distribution
 * const y = softmaxChainConv1x1(new Float32Array([0, 0, 0, 0, 0, 9, 0, 0]), [2, 4], [],
 *   new Float32Array([0, 1, 2, 3]), 1, { sizes: [2], outStrides: [1] }, new Float32Array(2));
 * console.log(y); // Float32Array(2) [1.5, 0.99...]
 * ```
 */
export function softmaxChainConv1x1<D extends Float32Array | WasmBuffer>(
  src: Float32Array | WasmBuffer,
  shape: readonly [number, number],
  steps: readonly ChainStep[],
  w: Float32Array,
  m: number,
  order: RowOrder,
  dst: D,
): D {
  const fn = "softmaxChainConv1x1";
  checkOperand(fn, "src", src, [Float32Array]);
  checkOperand(fn, "w", w, [Float32Array]);
  checkOperand(fn, "dst", dst, [Float32Array]);
  const [rows, cols] = shape;
  const { sizes, outStrides } = order;
  if (
    ![rows, cols, m].every(isU32) || sizes.length === 0 || sizes.length > PERMUTE_MAX_RANK ||
    outStrides.length !== sizes.length || ![...sizes, ...outStrides].every(isU32) ||
    sizes.reduce((a, b) => a * b, 1) !== rows
  ) {
    throw new RangeError(`${fn}: shape [${shape}], sizes [${sizes}] and strides [${outStrides}] do not fit`);
  }
  if (rows > 0 && sizes.reduce((a, d, i) => a + (d - 1) * outStrides[i], 0) >= rows) {
    throw new RangeError(`${fn}: the order [${sizes}] / [${outStrides}] leaves the ${rows} outputs of a channel`);
  }
  checkCount(fn, "src", src, rows * cols, 4);
  checkCount(fn, "w", w, m * cols, 4);
  checkCount(fn, "dst", dst, m * rows, 4);
  steps.forEach((s, i) => {
    if ("op" in s && s.b.kind !== "scalar") {
      throw new RangeError(`${fn}: steps[${i}] has a ${s.b.kind} operand; only scalars are taken`);
    }
  });
  const at = chainArgs(fn, "", steps, 1, undefined, []);
  if (rows * cols * m === 0) return dst;
  const buffer = kernelExports().memory.buffer;
  const inMemory = src instanceof WasmBuffer || src.buffer === buffer;
  // rows per call: all when the source is in the kernels' memory, else chunks (a multiple of 4)
  const step = inMemory ? rows : Math.max(4, Math.floor(CHUNK_BYTES / (4 * cols)) & ~3);
  const chunk = inMemory ? 0 : scratchBlock(CHUNK_SLOT, 4 * Math.min(step, rows) * cols);
  const ins: Arg[] = [{ name: "w", value: w, bytes: 4 * m * cols }];
  if (inMemory) ins.push({ name: "src", value: src, bytes: 4 * rows * cols });
  const params = [m, rows, 0, sizes.length, ...sizes, ...outStrides];
  callKernel(fn, ins, [{ name: "dst", value: dst, bytes: 4 * m * rows }], params, ([pw, ps], [d], pp) => {
    const prog = writeProgram(PROG_SLOT, steps, [], at);
    const k = kernelExports();
    if (inMemory) return k.softmax_chain_conv1x1_f32(ps, rows, cols, prog, steps.length, pw, d, pp);
    const from = src as Float32Array;
    for (let r = 0; r < rows; r += step) {
      const n = Math.min(step, rows - r), v = memoryViews();
      v.f32.set(from.subarray(r * cols, (r + n) * cols), chunk >>> 2);
      v.u32[(pp >>> 2) + 2] = r;
      k.softmax_chain_conv1x1_f32(chunk, n, cols, prog, steps.length, pw, d, pp);
    }
  });
  return dst;
}

/**
 * Checks a chain's steps (count, zero points, operand sizes: `channels` values per channel,
 * `n` per tensor, tensors refused when `n` is undefined) and appends their operands to
 * `ins`; returns, per step, the index in `ins` of its operand.
 */
function chainArgs(
  fn: string,
  prefix: string,
  steps: readonly ChainStep[],
  channels: number,
  n: number | undefined,
  ins: Arg[],
): number[] {
  if (steps.length > MAX_STEPS) throw new RangeError(`${fn}: at most ${MAX_STEPS} steps, got ${steps.length}`);
  const at: number[] = [];
  steps.forEach((s, i) => {
    const name = `${prefix}steps[${i}]`;
    if ("kind" in s && s.kind === "qdq") {
      const t = QDQ_TYPES[s.type];
      if (!t || !Number.isInteger(s.zeroPoint) || s.zeroPoint < t[1] || s.zeroPoint > t[2]) {
        throw new RangeError(`${fn}: ${name}: zero point ${s.zeroPoint} does not fit ${s.type}`);
      }
    }
    if (!("op" in s) || s.b.kind === "scalar") return;
    if (s.b.kind === "tensor" && n === undefined) throw new RangeError(`${fn}: ${name}: tensor operands are refused`);
    const want = s.b.kind === "channel" ? channels : n!;
    checkOperand(fn, `${name}.b`, s.b.values, [Float32Array]);
    checkCount(fn, `${name}.b`, s.b.values, want, 4);
    at[i] = ins.length;
    ins.push({ name: `${name}.b`, value: s.b.values, bytes: 4 * want, inPlace: true });
  });
  return at;
}

/** Writes the kernel program of `steps` (4 u32 each) to scratch `slot`; `ptrs[at[i]]` is step i's operand. */
function writeProgram(slot: number, steps: readonly ChainStep[], ptrs: number[], at: number[]): number {
  return writeProgramAt(scratchBlock(slot, 16 * Math.max(1, steps.length)), steps, ptrs, at);
}

/** {@link writeProgram} at address `prog` (16 bytes per step); returns `prog`. */
function writeProgramAt(prog: number, steps: readonly ChainStep[], ptrs: number[], at: number[]): number {
  const u32 = memoryViews().u32, p = prog >>> 2;
  steps.forEach((s, i) => {
    let w: number[];
    if ("op" in s) {
      const code = { add: 0, sub: 1, mul: 2, div: 3 }[s.op];
      const c = s.reverse && (s.op === "sub" || s.op === "div") ? code + 3 : code;
      w = s.b.kind === "scalar" ? [c, 0, f32bits(s.b.value), 0] : [c, s.b.kind === "channel" ? 1 : 2, ptrs[at[i]], 0];
    } else if (s.kind === "qdq") {
      w = [9, f32bits(s.scale), s.zeroPoint >>> 0, QDQ_TYPES[s.type][0]];
    } else {
      const [k, lo, hi] = actWords(s);
      w = k === 0 ? [2, 0, f32bits(1), 0] : [k + 5, 0, lo, hi]; // "none" as x * 1 (exact)
    }
    for (let j = 0; j < 4; j++) u32[p + 4 * i + j] = w[j];
  });
  return prog;
}

/** Geometry of a 2-D ConvTranspose (NCHW; weights `[c, m / group, kh, kw]`). */
export interface ConvTransposeGeometry {
  n: number;
  c: number;
  m: number;
  group: number;
  inSp: [number, number];
  outSp: [number, number];
  kSp: [number, number];
  strides: [number, number];
  dil: [number, number];
  /** Begin pads [top, left]. */
  pads: [number, number];
}

/**
 * 2-D ConvTranspose in float32 with optional bias and a fused activation: sums over input
 * channels in order (float32 multiply, then add), then `+ bias` (skipped for a 0 bias),
 * then the activation.
 *
 * @throws {RangeError} on operand sizes that do not fit the geometry.
 * @example
 * ```ts
 * import { convTranspose } from "./fused.ts";
 * const y = convTranspose(new Float32Array([1]), new Float32Array([1, 2, 3, 4]), null, new Float32Array(4),
 *   { n: 1, c: 1, m: 1, group: 1, inSp: [1, 1], outSp: [2, 2], kSp: [2, 2], strides: [2, 2], dil: [1, 1], pads: [0, 0] },
 *   { kind: "relu" });
 * console.log(y); // Float32Array [1, 2, 3, 4]
 * ```
 */
export function convTranspose<D extends Float32Array | WasmBuffer>(
  x: Float32Array | WasmBuffer,
  w: Float32Array | WasmBuffer,
  bias: Float32Array | WasmBuffer | null,
  y: D,
  g: ConvTransposeGeometry,
  act: Activation = { kind: "none" },
): D {
  const fn = "convTranspose";
  const geo = checkConvTranspose(fn, "", x, w, bias, y, g);
  if (g.n * g.m * g.outSp[0] * g.outSp[1] === 0) return y;
  const ins: Arg[] = [{ name: "x", value: x, bytes: 4 * count(x) }, { name: "w", value: w, bytes: 4 * count(w) }];
  if (bias) ins.push({ name: "bias", value: bias, bytes: 4 * g.m });
  callKernel(fn, ins, [{ name: "y", value: y, bytes: 4 * count(y) }], [...geo, ...actWords(act)], (p, [py], pp) => {
    const k = kernelExports();
    const col = scratchBlock(COL_SLOT, 4 * Math.max(1, k.conv_transpose_scratch_f32(pp)));
    k.conv_transpose_f32(p[0], p[1], bias ? p[2] : 0, py, col, pp);
  });
  return y;
}

/** Checks the operands of a ConvTranspose against its geometry; returns the geometry's 16 words. */
function checkConvTranspose(
  fn: string,
  prefix: string,
  x: Float32Array | WasmBuffer | null,
  w: Float32Array | WasmBuffer,
  bias: Float32Array | WasmBuffer | null,
  y: Float32Array | WasmBuffer | null,
  g: ConvTransposeGeometry,
): number[] {
  const geo = [g.n, g.c, g.m, g.group, ...g.inSp, ...g.outSp, ...g.kSp, ...g.strides, ...g.dil, ...g.pads];
  if (geo.length !== 16 || !geo.every(isU32) || g.group < 1) {
    throw new RangeError(`${fn}: invalid ${prefix}geometry ${JSON.stringify(g)}`);
  }
  if (g.c % g.group || g.m % g.group) throw new RangeError(`${fn}: ${prefix}channels not divisible by group`);
  const [ih, iw] = g.inSp, [oh, ow] = g.outSp, [kh, kw] = g.kSp;
  if (x) {
    checkOperand(fn, `${prefix}x`, x, [Float32Array]);
    checkCount(fn, `${prefix}x`, x, g.n * g.c * ih * iw, 4);
  }
  checkOperand(fn, `${prefix}w`, w, [Float32Array]);
  checkCount(fn, `${prefix}w`, w, g.c * (g.m / g.group) * kh * kw, 4);
  if (y) {
    checkOperand(fn, `${prefix}y`, y, [Float32Array]);
    checkCount(fn, `${prefix}y`, y, g.n * g.m * oh * ow, 4);
  }
  if (bias) {
    checkOperand(fn, `${prefix}bias`, bias, [Float32Array]);
    checkCount(fn, `${prefix}bias`, bias, g.m, 4);
  }
  return geo;
}

/**
 * One ConvTranspose of {@link convTransposePair}: weights, bias (or null), geometry,
 * activation, and the element-wise chain applied to its output (scalar and per-output-
 * channel operands only).
 */
export interface ConvTransposeStage {
  w: Float32Array | WasmBuffer;
  bias: Float32Array | WasmBuffer | null;
  g: ConvTransposeGeometry;
  act: Activation;
  chain?: readonly ChainStep[];
}

/**
 * Whether {@link convTransposePair} runs `first` then `second`: both have stride = kernel
 * (width 2, height 1 or 2), no dilation or padding, and the second reads the first's output.
 * @example
 * ```ts
 * import { type ConvTransposeGeometry, convTransposePairs } from "./fused.ts";
 * const g: ConvTransposeGeometry = { n: 1, c: 4, m: 4, group: 1, inSp: [2, 8], outSp: [4, 16], kSp: [2, 2],
 *   strides: [2, 2], dil: [1, 1], pads: [0, 0] };
 * convTransposePairs(g, { ...g, m: 1, inSp: [4, 16], outSp: [8, 32] }); // true
 * ```
 */
export function convTransposePairs(first: ConvTransposeGeometry, second: ConvTransposeGeometry): boolean {
  const tiles = (g: ConvTransposeGeometry) =>
    g.kSp[1] === 2 && g.strides[1] === 2 && (g.kSp[0] === 1 || g.kSp[0] === 2) && g.strides[0] === g.kSp[0] &&
    g.dil[0] === 1 && g.dil[1] === 1 && g.pads[0] === 0 && g.pads[1] === 0 &&
    g.outSp[0] === g.inSp[0] * g.strides[0] && g.outSp[1] === g.inSp[1] * 2;
  return tiles(first) && tiles(second) && second.n === first.n && second.c === first.m &&
    second.inSp[0] === first.outSp[0] && second.inSp[1] === first.outSp[1];
}

/**
 * Two ConvTransposes back to back (`y = second(first(x))`, see {@link convTransposePairs}),
 * streamed by input rows of the first so that its output never leaves the cache: the same
 * bits as two {@link convTranspose} calls, without the intermediate tensor.
 *
 * @throws {RangeError} when the two do not form a pair or operand sizes do not fit.
 * @example
 * ```ts
 * import { type ConvTransposeGeometry, convTransposePair } from "./fused.ts";
 * const g: ConvTransposeGeometry = { n: 1, c: 1, m: 1, group: 1, inSp: [1, 1], outSp: [2, 2], kSp: [2, 2],
 *   strides: [2, 2], dil: [1, 1], pads: [0, 0] };
 * const y = convTransposePair(new Float32Array([1]),
 *   { w: new Float32Array([1, 2, 3, 4]), bias: null, g, act: { kind: "relu" } },
 *   { w: new Float32Array([1, 1, 1, 1]), bias: null, g: { ...g, inSp: [2, 2], outSp: [4, 4] }, act: { kind: "none" } },
 *   new Float32Array(16));
 * console.log(y[0], y[15]); // 1 4
 * ```
 */
export function convTransposePair<D extends Float32Array | WasmBuffer>(
  x: Float32Array | WasmBuffer,
  first: ConvTransposeStage,
  second: ConvTransposeStage,
  y: D,
): D {
  const fn = "convTransposePair";
  checkConvTranspose(fn, "first.", x, first.w, first.bias, null, first.g);
  checkConvTranspose(fn, "second.", null, second.w, second.bias, y, second.g);
  if (!convTransposePairs(first.g, second.g)) {
    throw new RangeError(`${fn}: the two ConvTransposes do not form a pair (see convTransposePairs)`);
  }
  if (count(y) === 0 || count(x) === 0) return y;
  const pair = prepare(fn, first, second);
  try {
    return pair.run(x, y);
  } finally {
    pair.free();
  }
}

/**
 * A {@link convTransposePair} made once: weights, biases, chain operands, chain programs
 * and parameters copied into one block of the kernels' memory, so that each `run` only
 * places `x` and `y` and calls the kernel (no per-call copies of constants, checks or
 * program writes). The graph runner's pipelines keep one per planned shape.
 */
export interface PreparedConvTransposePair {
  /** Floats `run` reads from `x`. */
  readonly inputLength: number;
  /** Floats `run` writes to `y`. */
  readonly outputLength: number;
  /**
   * `y = second(first(x))`, the bits of {@link convTransposePair}.
   * @throws {RangeError} when `x` or `y` do not have {@link inputLength} / {@link outputLength} floats.
   */
  run<D extends Float32Array | WasmBuffer>(x: Float32Array | WasmBuffer, y: D): D;
  /** Returns the block to the allocator; a later `run` throws. Idempotent. */
  free(): void;
}

/**
 * Checks two ConvTransposes that form a pair (see {@link convTransposePairs}) and copies
 * their constants into the kernels' memory once (see {@link PreparedConvTransposePair}).
 * Later changes to the stages' arrays are not seen.
 *
 * @throws {RangeError} when the two do not form a pair or operand sizes do not fit.
 * @example
 * ```ts
 * import { type ConvTransposeGeometry, prepareConvTransposePair } from "./fused.ts";
 * const g: ConvTransposeGeometry = { n: 1, c: 1, m: 1, group: 1, inSp: [1, 1], outSp: [2, 2], kSp: [2, 2],
 *   strides: [2, 2], dil: [1, 1], pads: [0, 0] };
 * const pair = prepareConvTransposePair(
 *   { w: new Float32Array([1, 2, 3, 4]), bias: null, g, act: { kind: "relu" } },
 *   { w: new Float32Array([1, 1, 1, 1]), bias: null, g: { ...g, inSp: [2, 2], outSp: [4, 4] }, act: { kind: "none" } },
 * );
 * const y = pair.run(new Float32Array([1]), new Float32Array(pair.outputLength));
 * pair.free();
 * console.log(y[0], y[15]); // 1 4
 * ```
 */
export function prepareConvTransposePair(
  first: ConvTransposeStage,
  second: ConvTransposeStage,
): PreparedConvTransposePair {
  return prepare("prepareConvTransposePair", first, second);
}

function prepare(fn: string, first: ConvTransposeStage, second: ConvTransposeStage): PreparedConvTransposePair {
  const geo1 = checkConvTranspose(fn, "first.", null, first.w, first.bias, null, first.g);
  const geo2 = checkConvTranspose(fn, "second.", null, second.w, second.bias, null, second.g);
  if (!convTransposePairs(first.g, second.g)) {
    throw new RangeError(`${fn}: the two ConvTransposes do not form a pair (see convTransposePairs)`);
  }
  const ins: Arg[] = [];
  const at: Record<string, number> = {};
  const add = (name: string, v: Float32Array | WasmBuffer | null) => {
    if (!v) return;
    at[name] = ins.length;
    ins.push({ name, value: v, bytes: 4 * count(v) });
  };
  add("first.w", first.w);
  add("first.bias", first.bias);
  add("second.w", second.w);
  add("second.bias", second.bias);
  const c1 = first.chain ?? [], c2 = second.chain ?? [];
  const at1 = chainArgs(fn, "first.chain.", c1, first.g.m, undefined, ins);
  const at2 = chainArgs(fn, "second.chain.", c2, second.g.m, undefined, ins);
  // one block: the operands (16-byte aligned), the two chain programs, the 42 parameters
  const offsets: number[] = [];
  let size = 0;
  for (const a of ins) {
    offsets.push(size);
    size += (a.bytes + 15) & ~15;
  }
  const prog1 = size, prog2 = (size += 16 * Math.max(1, c1.length));
  const params = (size += 16 * Math.max(1, c2.length));
  const block = allocate(size + 4 * 42);
  const base = block.byteOffset, ptrs = offsets.map((o) => base + o);
  const f32 = memoryViews().f32;
  ins.forEach((a, i) =>
    f32.set(a.value instanceof WasmBuffer ? a.value.f32() : a.value as Float32Array, ptrs[i] >>> 2)
  );
  writeProgramAt(base + prog1, c1, ptrs, at1);
  writeProgramAt(base + prog2, c2, ptrs, at2);
  const words = [
    ...geo1,
    ...actWords(first.act),
    ...geo2,
    ...actWords(second.act),
    base + prog1,
    c1.length,
    base + prog2,
    c2.length,
  ];
  const u32 = memoryViews().u32;
  words.forEach((w, i) => u32[((base + params) >>> 2) + i] = w);
  const pp = base + params;
  const scratch = 4 * Math.max(1, kernelExports().conv_transpose_pair_scratch_f32(pp));
  const ptr = (name: string) => (name in at ? ptrs[at[name]] : 0);
  const [w1, b1, w2, b2] = [ptr("first.w"), ptr("first.bias"), ptr("second.w"), ptr("second.bias")];
  const { g: g1 } = first, { g: g2 } = second;
  const inputLength = g1.n * g1.c * g1.inSp[0] * g1.inSp[1];
  const outputLength = g2.n * g2.m * g2.outSp[0] * g2.outSp[1];
  return {
    inputLength,
    outputLength,
    run<D extends Float32Array | WasmBuffer>(x: Float32Array | WasmBuffer, y: D): D {
      if (block.freed) throw new Error(`${fn}: run() after free()`);
      checkOperand(fn, "x", x, [Float32Array]);
      checkCount(fn, "x", x, inputLength, 4);
      checkOperand(fn, "y", y, [Float32Array]);
      checkCount(fn, "y", y, outputLength, 4);
      if (inputLength === 0 || outputLength === 0) return y;
      const io = (name: string, value: Float32Array | WasmBuffer, n: number): Arg => ({ name, value, bytes: 4 * n });
      callKernel(fn, [io("x", x, inputLength)], [io("y", y, outputLength)], undefined, ([px], [py]) => {
        const s = scratchBlock(COL_SLOT, scratch);
        const r = kernelExports().conv_transpose_pair_f32(px, w1, b1, w2, b2, py, s, pp);
        if (r !== 0) throw new RangeError(`${fn}: the kernel refused the pair (code ${r})`);
      });
      return y;
    },
    free: () => block.free(),
  };
}
