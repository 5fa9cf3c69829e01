/**
 * Fallback for the compiler's float executor: ops it does not implement itself (ArgMax,
 * TopK, Tile, Expand, Where, ...) run with the host graph runner's op table (`onnx/ops`),
 * so that shape inference and calibration work for any pre/postamble that the runtime
 * can run.
 *
 * @example
 * ```ts
 * import { runHostOp } from "./compiler/host_ops.ts";
 * const outs = runHostOp(node, inputs, 13); // undefined when onnx/ has no such op either
 * ```
 * @module
 */
import { OPS } from "../onnx/ops/registry.ts";
import type { NodeProto } from "../onnx/model.ts";
import type { Tensor } from "../onnx/tensor.ts";
import { allocData } from "../onnx/tensor.ts";
import { CompileError, type Const, constant, type DType, type Node } from "./graph.ts";
import { attributeProto, constData } from "./onnx_io.ts";

function toTensor(c: Const): Tensor {
  return { data: constData(c), shape: [...c.dims], dtype: c.dtype };
}

function fromTensor(t: Tensor, where: string): Const {
  if (Array.isArray(t.data)) throw new CompileError(`${where}: string tensors are not supported`);
  const d = t.data;
  if (t.dtype === "float32" || t.dtype === "float64" || t.dtype === "float16") {
    return constant(
      t.shape,
      d instanceof Float32Array ? Float32Array.from(d) : Float32Array.from(d as Float64Array),
      "float32",
    );
  }
  const data = d instanceof BigInt64Array || d instanceof BigUint64Array
    ? Float64Array.from(d as BigInt64Array, Number)
    : Float64Array.from(d as ArrayLike<number>);
  const dt: DType = t.dtype === "int8"
    ? "int8"
    : t.dtype === "uint8"
    ? "uint8"
    : t.dtype === "bool"
    ? "bool"
    : t.dtype === "int64" || t.dtype === "uint64"
    ? "int64"
    : "int32";
  return constant(t.shape, data, dt);
}

/**
 * Runs a node with the host graph runner's implementation; undefined when it has none.
 *
 * @example
 * ```ts
 * runHostOp({ op: "ArgMax", name: "a", inputs: ["x"], outputs: ["y"], attrs: { axis: 1 } }, [x], 13);
 * ```
 */
export function runHostOp(n: Node, ins: (Const | undefined)[], opset: number): Const[] | undefined {
  const impl = OPS[n.op];
  if (!impl || (n.domain && n.domain !== "ai.onnx")) return undefined;
  const node: NodeProto = {
    name: n.name,
    opType: n.op,
    domain: "",
    inputs: [...n.inputs],
    outputs: [...n.outputs],
    attributes: Object.entries(n.attrs).map(([k, v]) => attributeProto(k, v, n.attrTypes?.[k])),
  };
  const attrs = Object.fromEntries(node.attributes.map((a) => [a.name, a]));
  impl.check?.(attrs, node, opset);
  const outs = impl.run(
    {
      node,
      opset,
      alloc: (dtype, shape) => ({ data: allocData(dtype, shape.reduce((a, b) => a * b, 1)), shape, dtype }),
    },
    ins.map((c) => (c ? toTensor(c) : undefined)),
    attrs,
  );
  return outs.map((t) => fromTensor(t, `node ${n.name} (${n.op})`));
}
