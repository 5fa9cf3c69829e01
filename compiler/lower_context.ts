/**
 * The state of one lowering and the helpers every op's lowering uses: the program being
 * built, the device tensor of each ONNX tensor, quantization parameters (given by a QDQ
 * model or calibrated), emitting ops, reshapes across layouts, activations fused into a
 * Conv/Gemm clamp, and quantized weights.
 *
 * @example
 * ```ts
 * import { LowerContext } from "./compiler/lower_context.ts";
 * const lc = new LowerContext(graph, ranges, coreNodes, deviceOutputs);
 * lc.emit(node, "Relu", [lc.inp("x")], "y", lc.qp("x"));
 * ```
 * @module
 */
import { type DataRef, ProgramBuilder } from "./program.ts";
import { CompileError, type Graph, type Node } from "./graph.ts";
import { CLAMP_ACTIVATIONS } from "./activations.ts";
import { deviceShape, inOnnxOrder, sameQuant, scalar } from "./device_rules.ts";
import type { Range } from "./calibrate.ts";
import {
  activationParams,
  biasScaleFloor,
  type QParams,
  quantizeBias,
  quantizeValue,
  quantizeWeights,
  quantizeWithScales,
} from "./quantize.ts";

/**
 * One lowering's state and helpers (see the module doc).
 *
 * @example
 * ```ts
 * const lc = new LowerContext(graph, ranges, core, outputs);
 * ```
 */
export class LowerContext {
  /** The program being built. */
  readonly b: ProgramBuilder = new ProgramBuilder();
  /** The device tensor index of each ONNX tensor on the device. */
  readonly dev: Map<string, number> = new Map();
  /** Nodes already lowered as part of another (a Relu fused into a Conv's clamp). */
  readonly fused: Set<Node> = new Set();

  /**
   * @example
   * ```ts
   * new LowerContext(graph, new Map(), graph.nodes, ["y"]);
   * ```
   */
  constructor(
    readonly g: Graph,
    readonly ranges: Map<string, Range>,
    readonly core: Node[],
    readonly outputs: string[],
  ) {}

  /** The quantization of an ONNX tensor: given (QDQ) or from its calibrated range. @example `lc.qp("x")` */
  qp(t: string): QParams {
    const given = this.g.quant.get(t);
    if (given) return given;
    const r = this.ranges.get(t);
    if (!r) throw new CompileError(`tensor ${t} has no calibrated range`);
    return activationParams(r.min, r.max);
  }

  /** The static ONNX shape of a tensor. @example `lc.shapeOf("x")` */
  shapeOf(t: string): number[] {
    const s = this.g.shapes.get(t);
    if (!s) throw new CompileError(`tensor ${t} has no static shape`);
    return s;
  }

  /** A new device tensor for an ONNX shape. @example `lc.tensor("y", [1, 8, 4, 4], q)` */
  tensor(name: string, shape: number[], q: QParams): number {
    return this.b.addTensor({ name, shape: deviceShape(shape), scale: q.scale, zero_point: q.zeroPoint });
  }

  /** A device tensor's quantization. @example `lc.quantOf(0)` */
  quantOf(idx: number): QParams {
    return { scale: this.b.tensors[idx].scale, zeroPoint: this.b.tensors[idx].zero_point };
  }

  /** The device tensor of an ONNX tensor (it must be on the device already). @example `lc.inp("x")` */
  inp = (t: string): number => {
    const i = this.dev.get(t);
    if (i === undefined) throw new CompileError(`tensor ${t} is not on the device`);
    return i;
  };

  /** A blob in the data section. @example `lc.data(new Int8Array(256))` */
  data(a: ArrayBufferView): DataRef {
    return this.b.addData(a);
  }

  /** Emits an op producing ONNX tensor `out` with quantization `q`. @example `lc.emit(n, "Relu", [x], "y", q)` */
  emit(n: Node, op: string, ins: number[], out: string, q: QParams, attrs: Record<string, unknown> = {}): number {
    const y = this.tensor(out, this.shapeOf(out), q);
    this.b.addOp({ op, name: n.name, inputs: ins, outputs: [y], ...attrs });
    this.dev.set(out, y);
    return y;
  }

  /** Reshape between arbitrary ONNX shapes (with device transposes when needed). @example `lc.reshape(n, x, [1, 8, 2, 2], "flat")` */
  reshape(n: Node, x: number, from: number[], out: string): void {
    const b = this.b;
    const to = this.shapeOf(out);
    const q = this.quantOf(x);
    let cur = x;
    if (!inOnnxOrder(from)) {
      const s = b.tensors[cur].shape;
      const t = b.addTensor({
        name: `${n.name}_to_nchw`,
        shape: [s[0], s[3], s[1], s[2]],
        scale: q.scale,
        zero_point: q.zeroPoint,
      });
      b.addOp({ op: "Transpose", name: `${n.name}_to_nchw`, inputs: [cur], outputs: [t], perm: [0, 3, 1, 2] });
      cur = t;
    }
    if (inOnnxOrder(to)) {
      const y = b.addTensor({ name: out, shape: deviceShape(to), scale: q.scale, zero_point: q.zeroPoint });
      b.addOp({ op: "Reshape", name: n.name, inputs: [cur], outputs: [y] });
      this.dev.set(out, y);
      return;
    }
    const r = b.addTensor({ name: `${n.name}_nchw`, shape: to, scale: q.scale, zero_point: q.zeroPoint });
    b.addOp({ op: "Reshape", name: n.name, inputs: [cur], outputs: [r] });
    const y = b.addTensor({ name: out, shape: deviceShape(to), scale: q.scale, zero_point: q.zeroPoint });
    b.addOp({ op: "Transpose", name: `${n.name}_to_nhwc`, inputs: [r], outputs: [y], perm: [0, 2, 3, 1] });
    this.dev.set(out, y);
  }

  /**
   * A Relu/Clip fused into a Conv/Gemm: clamp bounds and the final output name (only when
   * no rounding lies between them).
   *
   * @example
   * ```ts
   * const { out, q, clamp } = lc.fuseAct(convNode);
   * ```
   */
  fuseAct(n: Node): { out: string; q: QParams; clamp?: number[] } {
    const g = this.g;
    const cs = g.nodes.filter((m) => m.inputs.includes(n.outputs[0]));
    const m = cs[0];
    if (
      cs.length === 1 && !g.outputs.includes(n.outputs[0]) && !this.outputs.includes(n.outputs[0]) &&
      this.core.includes(m) && CLAMP_ACTIVATIONS.has(m.op) &&
      sameQuant(g.quant.get(n.outputs[0]), g.quant.get(m.outputs[0]))
    ) {
      const q = this.qp(m.outputs[0]);
      let lo = 0, hi = Infinity;
      if (m.op === "Clip") {
        lo = scalar(g.consts.get(m.inputs[1])) ?? (m.attrs.min as number | undefined) ?? -Infinity;
        hi = scalar(g.consts.get(m.inputs[2])) ?? (m.attrs.max as number | undefined) ?? Infinity;
      }
      this.fused.add(m);
      const qlo = lo === -Infinity ? -128 : quantizeValue(lo, q), qhi = hi === Infinity ? 127 : quantizeValue(hi, q);
      return { out: m.outputs[0], q, clamp: [qlo, qhi] };
    }
    return { out: n.outputs[0], q: this.qp(n.outputs[0]) };
  }

  /**
   * Quantized weights, int32 bias and weight scales of a Conv/Gemm (a QDQ model's weights
   * keep their scales, and so their int8 values).
   *
   * @example
   * ```ts
   * const attrs = lc.weightsOp(n, x, weightsOhwi, cout, bias);
   * ```
   */
  weightsOp(n: Node, x: number, w: Float32Array, cout: number, bias: ArrayLike<number> | undefined) {
    const given = this.g.weightScales.get(n.inputs[1]);
    const xScale = this.b.tensors[x].scale;
    // keep the worst-case accumulator within int32 (the loader checks it)
    const limit = 2147483647 - (w.length / cout) * 255 * 128;
    if (limit <= 0) {
      throw new CompileError(
        `node ${n.name} (${n.op}): ${w.length / cout} products per output overflow an int32 accumulator`,
      );
    }
    // a float model's weight scales are ours to choose: wide enough that the bias fits
    const { q, scales } = given && given.length === cout
      ? quantizeWithScales(w, given)
      : quantizeWeights(w, cout, biasScaleFloor(bias, xScale, limit));
    const bq = quantizeBias(bias, xScale, scales);
    for (let c = 0; c < bq.length; c++) bq[c] = Math.max(-limit, Math.min(limit, bq[c]));
    return { weights: this.data(q), bias: this.data(bq), w_scale: this.data(scales) };
  }

  /**
   * After a node: an op that kept its input's grid, where the QDQ model quantizes its
   * output on another, gets a Requantize.
   *
   * @example
   * ```ts
   * lc.settle(reluNode);
   * ```
   */
  settle(n: Node): void {
    for (const o of n.outputs) {
      const given = this.g.quant.get(o), y = this.dev.get(o);
      if (!given || y === undefined || sameQuant(given, this.quantOf(y))) continue;
      this.b.tensors[y].name = `${o}_pre`;
      const r = this.tensor(o, this.shapeOf(o), given);
      this.b.addOp({ op: "Requantize", name: `${n.name}_requant`, inputs: [y], outputs: [r] });
      this.dev.set(o, r);
    }
  }
}
