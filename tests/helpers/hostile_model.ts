/**
 * Small model directories that declare huge tensors (the memory cap of
 * `loadModelInstance`, issue 18), written with the compiler's program writer.
 *
 * @module
 */
import { ProgramBuilder, writeModelDirectory } from "../../compiler/program.ts";

/**
 * Writes a model whose program (about 700 bytes) declares `mib` MiB (at most 1023)
 * of internal tensors twice: a 1x64x64x4 input resized to 1xHx4096x4 (H = mib * 64),
 * a 1x1 Conv over it (both live at once, plus the Conv's int16 scratch: about
 * 4 x mib MiB in all) and a global average pool down to a 1x1x1x4 output.
 * Returns the path of model.json.
 *
 * @example
 * ```ts
 * const path = writeHugeTensorModel("/tmp/huge", 1024); // 2 GiB of declared tensors
 * ```
 */
export function writeHugeTensorModel(dir: string, mib: number): string {
  const q = { scale: 0.05, zero_point: 0 };
  const p = new ProgramBuilder();
  const x = p.addInput({ name: "x", shape: [1, 64, 64, 4], ...q });
  const h = mib * 64;
  const big = p.addTensor({ name: "big", shape: [1, h, 4096, 4], ...q });
  const conv = p.addTensor({ name: "conv", shape: [1, h, 4096, 4], ...q });
  const y = p.addTensor({ name: "y", shape: [1, 1, 1, 4], ...q });
  p.addOp({ op: "Resize", name: "up", inputs: [x], outputs: [big], scales: [h / 64, 64] });
  p.addOp({
    op: "Conv",
    name: "conv",
    inputs: [big],
    outputs: [conv],
    kernel: [1, 1],
    weights: p.addData(new Int8Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1])),
    bias: p.addData(new Int32Array(4)),
    w_scale: p.addData(new Float32Array([1, 1, 1, 1])),
  });
  p.addOp({ op: "GlobalAveragePool", name: "gap", inputs: [conv], outputs: [y] });
  p.markOutput(y);
  return writeModelDirectory(dir, { name: "huge", program: p.finish() });
}
