/**
 * Loads the embedded WASM kernels module once, synchronously, from the bytes in
 * `wasm.generated.ts` (no file or network access, so it works from JSR and in single-file
 * executables). WebAssembly SIMD is required.
 *
 * @module
 */
import { initSync, WASM_BASE64 } from "./wasm.generated.ts";

/** The raw exports of the kernels module (functions take byte addresses as numbers). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  alloc(size: number): number;
  dealloc(ptr: number, size: number): void;
  quantize(src: number, dst: number, len: number, scale: number, zp: number, uint8: boolean): void;
  dequantize(src: number, dst: number, len: number, scale: number, zp: number, uint8: boolean): void;
  pad_u8(src: number, dst: number, geom: number, fill: number): void;
  pad_f32(src: number, dst: number, geom: number, fill: number): void;
  depad_u8(src: number, dst: number, geom: number): void;
  depad_f32(src: number, dst: number, geom: number): void;
  quantize_pad(src: number, dst: number, geom: number, scale: number, zp: number, uint8: boolean): void;
  depad_dequantize(src: number, dst: number, geom: number, scale: number, zp: number, uint8: boolean): void;
  depad_dequantize_nchw(src: number, dst: number, geom: number, scale: number, zp: number, uint8: boolean): void;
  nhwc_to_nchw_u8(src: number, dst: number, n: number, h: number, w: number, c: number): void;
  nchw_to_nhwc_u8(src: number, dst: number, n: number, h: number, w: number, c: number): void;
  nhwc_to_nchw_f32(src: number, dst: number, n: number, h: number, w: number, c: number): void;
  nchw_to_nhwc_f32(src: number, dst: number, n: number, h: number, w: number, c: number): void;
  binary_f32(op: number, a: number, b: number, out: number, params: number): void;
  exp_f32(src: number, dst: number, len: number): void;
  sigmoid_f32(src: number, dst: number, len: number): void;
  softmax_f32(src: number, dst: number, rows: number, cols: number): void;
  softmax_axis_f32(src: number, dst: number, outer: number, axis: number, inner: number): void;
  permute_x32(src: number, dst: number, params: number): void;
  conv1x1_permuted_f32(src: number, w: number, y: number, params: number): void;
  gemm_f32(a: number, b: number, c: number, params: number): void;
  gemm_packed_f32(a: number, bp: number, c: number, params: number): void;
  gemm_pack_b_f32(b: number, dst: number, params: number): void;
  gemm_stepwise_f32(a: number, b: number, c: number, params: number): void;
  gemm_dot_f32(a: number, b: number, c: number, params: number): void;
  im2col_f32(x: number, offs: number, col: number, params: number): void;
  conv_transpose_f32(x: number, w: number, bias: number, y: number, col: number, params: number): void;
  conv_transpose_scratch_f32(params: number): number;
  conv_transpose_pair_f32(
    x: number,
    w1: number,
    b1: number,
    w2: number,
    b2: number,
    y: number,
    scratch: number,
    params: number,
  ): number;
  conv_transpose_pair_scratch_f32(params: number): number;
  chain_f32(src: number, dst: number, len: number, inner: number, count: number, prog: number, nsteps: number): void;
  softmax_chain_f32(src: number, dst: number, rows: number, cols: number, prog: number, nsteps: number): void;
  softmax_chain_conv1x1_f32(
    src: number,
    rows: number,
    cols: number,
    prog: number,
    nsteps: number,
    w: number,
    y: number,
    params: number,
  ): void;
  set_dequantize_narrow_loads(on: boolean): void;
  set_softmax_sums_apart(on: boolean): void;
}

/** Thrown when the JavaScript engine has no WebAssembly SIMD (the kernels need it). */
export class WasmSimdUnsupportedError extends Error {
  /**
   * @example
   * ```ts
   * import { WasmSimdUnsupportedError } from "./wasm.ts";
   * const e = new WasmSimdUnsupportedError();
   * console.log(e.name); // "WasmSimdUnsupportedError"
   * ```
   */
  constructor() {
    super(
      "WebAssembly SIMD (simd128) is not supported by this JavaScript engine; the kernels of " +
        "@axelera/runtime need it (Deno >= 1.9, Bun >= 1.0, Node >= 16.4, current browsers)",
    );
    this.name = "WasmSimdUnsupportedError";
  }
}

// (module (func (result v128) v128.const i32x4 0 0 0 0))
const SIMD_PROBE = new Uint8Array([
  0x00,
  0x61,
  0x73,
  0x6d,
  0x01,
  0x00,
  0x00,
  0x00,
  0x01,
  0x05,
  0x01,
  0x60,
  0x00,
  0x01,
  0x7b,
  0x03,
  0x02,
  0x01,
  0x00,
  0x0a,
  0x16,
  0x01,
  0x14,
  0x00,
  0xfd,
  0x0c,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x00,
  0x0b,
]);

let simd: boolean | undefined;

/**
 * Whether this engine supports WebAssembly SIMD (required by the kernels).
 *
 * @example
 * ```ts
 * import { simdSupported } from "./mod.ts";
 * if (!simdSupported()) console.error("no WASM SIMD here");
 * ```
 */
export function simdSupported(): boolean {
  if (simd === undefined) {
    try {
      simd = typeof WebAssembly === "object" && WebAssembly.validate(SIMD_PROBE);
    } catch {
      simd = false;
    }
  }
  return simd;
}

function decodeBase64(s: string): Uint8Array {
  const from = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (typeof from === "function") return from(s);
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let exportsCache: KernelExports | undefined;

/**
 * The kernels module's exports, instantiated on first use.
 *
 * @throws {WasmSimdUnsupportedError} when the engine lacks WebAssembly SIMD.
 * @example
 * ```ts
 * import { kernelExports } from "./wasm.ts";
 * console.log(kernelExports().memory.buffer.byteLength);
 * ```
 */
export function kernelExports(): KernelExports {
  if (exportsCache) return exportsCache;
  if (!simdSupported()) throw new WasmSimdUnsupportedError();
  const bytes = decodeBase64(WASM_BASE64);
  exportsCache = initSync({ module: bytes }) as unknown as KernelExports;
  // Per-engine formulation of the dequantize loops (same results): JavaScriptCore compiles
  // extend_high with a false dependency, so Bun takes the form without it (kernels/README.md).
  exportsCache.set_dequantize_narrow_loads("Bun" in globalThis);
  // and where the DFL kernel (softmax then a 1x1 conv) adds up its exponentials: JavaScriptCore
  // reloads fewer of exp's constants with the sums in a pass of their own, V8 does not gain
  exportsCache.set_softmax_sums_apart("Bun" in globalThis);
  return exportsCache;
}
