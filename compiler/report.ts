/**
 * The compile report: which tensors the device quantizes and on which grid, where a
 * quantization clips what the float graph produced on the calibration set, which ops
 * stay on the host and why, and the share of multiply-accumulates on the device.
 *
 * @example
 * ```ts
 * import { compileReport } from "./compiler/report.ts";
 * const r = compileReport(graph, ranges, lowered);
 * console.log(r.lines.join("\n"), r.deviceMacShare);
 * ```
 * @module
 */
import type { Range } from "./calibrate.ts";
import { type Graph, type Node, numel } from "./graph.ts";
import type { LowerResult } from "./lower.ts";

/** Multiply-accumulates of one node (Conv, ConvTranspose, Gemm, MatMul; 0 for others). @example `nodeMacs(g, conv)` */
export function nodeMacs(g: Graph, n: Node): number {
  const w = g.shapes.get(n.inputs[1] ?? "");
  const y = g.shapes.get(n.outputs[0]);
  if (!w || !y) return 0;
  switch (n.op) {
    case "Conv":
      return numel(y) * numel(w.slice(1));
    case "ConvTranspose":
      return numel(g.shapes.get(n.inputs[0]) ?? []) * numel(w.slice(1));
    case "Gemm":
    case "MatMul":
      return numel(y) * (g.shapes.get(n.inputs[0])?.at(-1) ?? 0);
    default:
      return 0;
  }
}

/**
 * What the compile report says.
 *
 * @example
 * ```ts
 * const r: CompileReport = { lines: [], warnings: [], deviceMacShare: 1 };
 * ```
 */
export interface CompileReport {
  /** One line per device tensor (grid and range), per host op (why) and the MAC share. */
  lines: string[];
  /** Calibration problems: ranges that clip what the float graph produced. */
  warnings: string[];
  /** Multiply-accumulates on the device / all of the model's (1 when the model has none). */
  deviceMacShare: number;
}

/**
 * Builds the report of a lowering. `ranges` are the float ranges the graph's tensors
 * took on the calibration set (plain min/max, whatever the calibration method).
 *
 * @example
 * ```ts
 * const { warnings } = compileReport(graph, ranges, lower(graph, ranges));
 * ```
 */
export function compileReport(g: Graph, ranges: Map<string, Range>, lowered: LowerResult): CompileReport {
  const lines: string[] = [], warnings: string[] = [];
  const p = lowered.program.json;
  for (const t of p.tensors) {
    const lo = (-128 - t.zero_point) * t.scale, hi = (127 - t.zero_point) * t.scale;
    const src = g.quant.has(t.name) ? "given by the QDQ model" : "calibrated";
    lines.push(
      `quantized: ${t.name} [${lo.toPrecision(5)}, ${
        hi.toPrecision(5)
      }] scale ${t.scale} zero point ${t.zero_point} (${src})`,
    );
    const r = ranges.get(t.name);
    if (!r || !Number.isFinite(r.min) || !Number.isFinite(r.max)) continue;
    // clipped by more than one step: the device saturates values the float graph produces
    // (a grid starting at 0 is a Relu folded into the quantization: clipping below is its point)
    const relu = t.zero_point === -128;
    const below = relu ? 0 : lo - r.min, above = r.max - hi;
    if (below > t.scale || above > t.scale) {
      // with a Relu folded into the grid, the values below 0 are the Relu's to remove: shown as 0
      const seen = `[${(relu ? Math.max(r.min, 0) : r.min).toPrecision(5)}, ${r.max.toPrecision(5)}]`;
      const grid = `[${lo.toPrecision(5)}, ${hi.toPrecision(5)}]`;
      warnings.push(
        g.quant.has(t.name)
          ? `warning: tensor ${t.name}: the QDQ model's quantization ${grid} saturates values its own float ops ` +
            `reach on the calibration set, ${seen}${relu ? " after the Relu the grid folds in" : ""} ` +
            `(onnxruntime saturates them the same way; the compiled model keeps the QDQ model's values)`
          : `warning: tensor ${t.name}: its quantization ${grid} (${src}) clips the float range ${seen}` +
            `${relu ? " (after the Relu the grid folds in)" : ""} seen on the calibration set`,
      );
    }
  }
  let all = 0, dev = 0;
  for (const n of g.nodes) {
    const m = nodeMacs(g, n);
    all += m;
    if (!lowered.offDevice.has(n.name)) dev += m;
  }
  const deviceMacShare = all ? dev / all : 1;
  for (const [node, why] of lowered.offDevice) lines.push(`off the device: ${node} (${why})`);
  lines.push(
    `multiply-accumulates on the device: ${(100 * deviceMacShare).toFixed(1)}% of ${(all / 1e6).toFixed(2)} M`,
  );
  return { lines, warnings, deviceMacShare };
}
