/**
 * Float (NCHW, ONNX semantics) convolution and pooling for compiler/float_ops.ts:
 * Conv, ConvTranspose, MaxPool/AveragePool and their output-size rules. Plain loops.
 *
 * @example
 * ```ts
 * import { poolOut } from "./compiler/float_nn.ts";
 * poolOut(8, 3, 2, 1, 1, 1, false); // 4
 * ```
 * @module
 */
import { attrA, attrN, CompileError, type Const, f32, type Node } from "./graph.ts";

/**
 * Output size of a conv/pool axis (ONNX rule, floor or ceil, with the onnxruntime rule
 * that drops a last window starting past the input and the leading pad).
 *
 * @example
 * ```ts
 * poolOut(8, 3, 2, 1, 1, 1, false); // 4
 * ```
 */
export function poolOut(inp: number, k: number, s: number, d: number, lo: number, hi: number, ceil: boolean): number {
  const span = inp + lo + hi - d * (k - 1) - 1;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= inp + lo) o--;
  return o;
}

/**
 * Resolves ONNX `auto_pad` into explicit pads [top, left, bottom, right].
 *
 * @example
 * ```ts
 * resolvePads({ op: "Conv", name: "c", inputs: [], outputs: [], attrs: { auto_pad: "SAME_UPPER" } }, [8, 8], [3, 3], [1, 1], [1, 1]);
 * ```
 */
export function resolvePads(n: Node, spatial: number[], kernel: number[], str: number[], dil: number[]): number[] {
  const auto = (n.attrs.auto_pad as string) ?? "NOTSET";
  if (auto === "NOTSET" || auto === "VALID") return auto === "VALID" ? [0, 0, 0, 0] : attrA(n, "pads", [0, 0, 0, 0]);
  const pads = [0, 0, 0, 0];
  for (let i = 0; i < 2; i++) {
    const out = Math.ceil(spatial[i] / str[i]);
    const total = Math.max(0, (out - 1) * str[i] + dil[i] * (kernel[i] - 1) + 1 - spatial[i]);
    const small = Math.floor(total / 2);
    pads[i] = auto === "SAME_UPPER" ? small : total - small;
    pads[i + 2] = total - pads[i];
  }
  return pads;
}

export function conv(n: Node, x: Const, w: Const, b?: Const): Const {
  const [N, C, H, W] = x.dims;
  const [M, cg, kh, kw] = w.dims;
  const group = attrN(n, "group", 1);
  const [sh, sw] = attrA(n, "strides", [1, 1]);
  const [dh, dw] = attrA(n, "dilations", [1, 1]);
  const [pt, pl, pb, pr] = resolvePads(n, [H, W], [kh, kw], [sh, sw], [dh, dw]);
  const OH = poolOut(H, kh, sh, dh, pt, pb, false), OW = poolOut(W, kw, sw, dw, pl, pr, false);
  if (cg * group !== C) {
    throw new CompileError(`node ${n.name} (Conv): ${C} input channels, weights expect ${cg * group}`);
  }
  const mg = M / group;
  const out = new Float32Array(N * M * OH * OW);
  const xd = x.data, wd = w.data;
  for (let b0 = 0; b0 < N; b0++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / mg);
      const bias = b ? b.data[m] : 0;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let acc = 0;
          for (let c = 0; c < cg; c++) {
            const xc = ((b0 * C + g * cg + c) * H) * W;
            const wc = ((m * cg + c) * kh) * kw;
            for (let i = 0; i < kh; i++) {
              const ih = oh * sh - pt + i * dh;
              if (ih < 0 || ih >= H) continue;
              for (let j = 0; j < kw; j++) {
                const iw = ow * sw - pl + j * dw;
                if (iw < 0 || iw >= W) continue;
                acc += xd[xc + ih * W + iw] * wd[wc + i * kw + j];
              }
            }
          }
          out[((b0 * M + m) * OH + oh) * OW + ow] = acc + bias;
        }
      }
    }
  }
  return f32([N, M, OH, OW], out);
}

export function convTranspose(n: Node, x: Const, w: Const, b?: Const): Const {
  const [N, C, H, W] = x.dims;
  const [, mg, kh, kw] = w.dims;
  const group = attrN(n, "group", 1);
  const M = mg * group, cg = C / group;
  const [sh, sw] = attrA(n, "strides", [1, 1]);
  const [dh, dw] = attrA(n, "dilations", [1, 1]);
  const [pt, pl, pb, pr] = attrA(n, "pads", [0, 0, 0, 0]);
  const [oph, opw] = attrA(n, "output_padding", [0, 0]);
  const OH = sh * (H - 1) + oph + (kh - 1) * dh + 1 - pt - pb, OW = sw * (W - 1) + opw + (kw - 1) * dw + 1 - pl - pr;
  const out = new Float32Array(N * M * OH * OW);
  for (let b0 = 0; b0 < N; b0++) {
    for (let c = 0; c < C; c++) {
      const g = Math.floor(c / cg);
      for (let h = 0; h < H; h++) {
        for (let w0 = 0; w0 < W; w0++) {
          const v = x.data[((b0 * C + c) * H + h) * W + w0];
          for (let m = 0; m < mg; m++) {
            const om = g * mg + m;
            for (let i = 0; i < kh; i++) {
              const oh = h * sh - pt + i * dh;
              if (oh < 0 || oh >= OH) continue;
              for (let j = 0; j < kw; j++) {
                const ow = w0 * sw - pl + j * dw;
                if (ow < 0 || ow >= OW) continue;
                out[((b0 * M + om) * OH + oh) * OW + ow] += v * w.data[((c * mg + m) * kh + i) * kw + j];
              }
            }
          }
        }
      }
    }
    if (b) {
      for (let m = 0; m < M; m++) for (let k = 0; k < OH * OW; k++) out[(b0 * M + m) * OH * OW + k] += b.data[m];
    }
  }
  return f32([N, M, OH, OW], out);
}

export function pool(n: Node, x: Const, kind: "max" | "avg"): Const {
  const [N, C, H, W] = x.dims;
  const [kh, kw] = attrA(n, "kernel_shape", [1, 1]);
  const [sh, sw] = attrA(n, "strides", [1, 1]);
  const [dh, dw] = attrA(n, "dilations", [1, 1]);
  const [pt, pl, pb, pr] = resolvePads(n, [H, W], [kh, kw], [sh, sw], [dh, dw]);
  const ceil = attrN(n, "ceil_mode", 0) === 1;
  const incl = attrN(n, "count_include_pad", 0) === 1;
  const OH = poolOut(H, kh, sh, dh, pt, pb, ceil), OW = poolOut(W, kw, sw, dw, pl, pr, ceil);
  const out = new Float32Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let m = -Infinity, s = 0, cnt = 0;
        for (let i = 0; i < kh; i++) {
          const ih = oh * sh - pt + i * dh;
          for (let j = 0; j < kw; j++) {
            const iw = ow * sw - pl + j * dw;
            const inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
            if (incl ? ih < H + pb && iw < W + pr : inside) cnt++;
            if (!inside) continue;
            const v = x.data[(p * H + ih) * W + iw];
            if (v > m) m = v;
            s += v;
          }
        }
        out[(p * OH + oh) * OW + ow] = kind === "max" ? m : s / cnt;
      }
    }
  }
  return f32([N, C, OH, OW], out);
}
