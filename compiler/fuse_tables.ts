/**
 * Exact fusion of per-element device ops into lookup tables, on the lowered program.
 * Every op that maps one int8 code to one int8 code (`Lut`, `Relu`, `Clip`, `Requantize`)
 * is a 256-entry table, so:
 * - a chain of such ops whose intermediate tensors nothing else reads becomes one `Lut`
 *   (the composition of the tables: the same int8 values, every rounding kept);
 * - `Mul`/`Add` of a tensor `x` and a table of the same `x` (`x * Sigmoid(x)`,
 *   `x * HardSigmoid(x)` of QDQ models, where the activation is quantized before the Mul)
 *   becomes one `Lut` computing `q_y(dq_x(x) * dq_h(T[x]))` in float32, exactly the
 *   device's (and onnxruntime's) DQ -> Mul -> Q of the rounded activation.
 * Tensors left unused are removed from the program.
 *
 * @example
 * ```ts
 * import { fuseTables } from "./compiler/fuse_tables.ts";
 * const fused = fuseTables(builder.finish());
 * ```
 * @module
 */
import type { OpSpec, Program, TensorSpec } from "./program.ts";
import { dequantizeValue, quantizeValue } from "./quantize.ts";

const TABLE_OPS = new Set(["Lut", "ChannelLut", "Relu", "Clip", "Requantize"]);

/** An op as tables: C = 1 (one table) or the channel count (ChannelLut), channel-major. */
interface Tables {
  t: Int8Array;
  C: number;
}

const isInt8 = (t: TensorSpec) => (t.dtype ?? "int8") === "int8";
const qpOf = (t: TensorSpec) => ({ scale: t.scale, zeroPoint: t.zero_point });

/** The op's map from input code + 128 to output code (int8 tensors only). */
function tableOf(
  tensors: TensorSpec[],
  bytes: (r: { offset: number; length: number }) => Uint8Array,
  op: OpSpec,
): Tables | undefined {
  const x = tensors[op.inputs[0]], y = tensors[op.outputs[0]];
  if (!TABLE_OPS.has(op.op) || op.inputs.length !== 1 || !isInt8(x) || !isInt8(y)) return undefined;
  if (op.op === "ChannelLut") {
    const C = x.shape[3];
    const b = bytes(op.table as { offset: number; length: number });
    return { t: new Int8Array(b.buffer.slice(b.byteOffset, b.byteOffset + 256 * C)), C };
  }
  const t = new Int8Array(256);
  for (let i = 0; i < 256; i++) {
    const c = i - 128;
    switch (op.op) {
      case "Lut": {
        t[i] = bytes(op.table as { offset: number; length: number })[i] << 24 >> 24;
        break;
      }
      case "Relu":
        t[i] = Math.max(c, x.zero_point);
        break;
      case "Clip":
        t[i] = Math.min(Math.max(c, op.lo as number), op.hi as number);
        break;
      default:
        t[i] = quantizeValue(dequantizeValue(c, qpOf(x)), qpOf(y));
    }
  }
  return { t, C: 1 };
}

/** b after a: per channel when either is. */
function compose(a: Tables, b: Tables): Tables {
  const C = Math.max(a.C, b.C);
  const t = new Int8Array(256 * C);
  for (let c = 0; c < C; c++) {
    const ao = a.C > 1 ? c * 256 : 0, bo = b.C > 1 ? c * 256 : 0;
    for (let i = 0; i < 256; i++) t[c * 256 + i] = b.t[bo + a.t[ao + i] + 128];
  }
  return { t, C };
}

function sameShape(a: TensorSpec, b: TensorSpec): boolean {
  return a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
}

/**
 * Fuses table ops (chains, and Mul/Add of a tensor with a table of itself) into single
 * `Lut` ops without changing any int8 value; drops tensors nothing uses any more.
 *
 * @example
 * ```ts
 * const p = fuseTables(program); // p.json.ops.length <= program.json.ops.length
 * ```
 */
export function fuseTables(program: Program): Program {
  const ops = [...program.json.ops];
  const tensors = program.json.tensors;
  const chunks: Uint8Array[] = [program.data];
  let size = program.data.length;
  const added = new Map<number, Uint8Array>();
  const addTable = (t: Int8Array) => {
    const pad = (16 - (size % 16)) % 16;
    const b = new Uint8Array(t.buffer.slice(0));
    chunks.push(new Uint8Array(pad), b);
    const offset = size + pad;
    size = offset + b.length;
    added.set(offset, b);
    return { offset, length: b.length };
  };
  const bytes = (r: { offset: number; length: number }) =>
    added.get(r.offset) ?? program.data.subarray(r.offset, r.offset + r.length);
  const tableOfOp = (op: OpSpec) => tableOf(tensors, bytes, op);
  const pinned = new Set([...program.json.outputs, ...program.json.inputs]);
  const readers = (t: number) => ops.filter((o) => o.inputs.includes(t));
  const producer = (t: number) => ops.find((o) => o.outputs.includes(t));
  let changed = true;
  while (changed) {
    changed = false;
    for (const op of ops) {
      const single = (t: number) => !pinned.has(t) && readers(t).length === 1;
      if (TABLE_OPS.has(op.op)) {
        const a = producer(op.inputs[0]);
        const tb = tableOfOp(op), ta = a && tableOfOp(a);
        if (!a || !tb || !ta || !single(op.inputs[0])) continue;
        const t = compose(ta, tb);
        replace(ops, a, op, {
          op: t.C > 1 ? "ChannelLut" : "Lut",
          name: op.name,
          inputs: [a.inputs[0]],
          outputs: op.outputs,
          table: addTable(t.t),
        });
        changed = true;
        break;
      }
      if ((op.op === "Mul" || op.op === "Add") && op.inputs.length === 2) {
        const y = tensors[op.outputs[0]];
        let done = false;
        for (const k of [0, 1]) {
          const h = op.inputs[k], x = op.inputs[1 - k];
          const a = producer(h);
          const ta = a && a.inputs[0] === x ? tableOfOp(a) : undefined;
          if (!a || !ta || ta.C > 1 || !single(h) || !isInt8(y) || !isInt8(tensors[x])) continue;
          if (!sameShape(tensors[x], y) || !sameShape(tensors[h], y)) continue;
          const qx = qpOf(tensors[x]), qh = qpOf(tensors[h]), qy = qpOf(y);
          const t = new Int8Array(256);
          for (let i = 0; i < 256; i++) {
            const vx = dequantizeValue(i - 128, qx), vh = dequantizeValue(ta.t[i], qh);
            t[i] = quantizeValue(Math.fround(op.op === "Mul" ? vx * vh : vx + vh), qy);
          }
          replace(ops, a, op, { op: "Lut", name: op.name, inputs: [x], outputs: op.outputs, table: addTable(t) });
          done = true;
          break;
        }
        if (done) {
          changed = true;
          break;
        }
      }
    }
  }
  return compact({ json: { ...program.json, ops }, data: concat(chunks, size) });
}

/** Removes `first`, puts `fused` in place of `second`. */
function replace(ops: OpSpec[], first: OpSpec, second: OpSpec, fused: OpSpec): void {
  ops[ops.indexOf(second)] = fused;
  ops.splice(ops.indexOf(first), 1);
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Drops tensors no op, input or output refers to, renumbering the rest. */
function compact(p: Program): Program {
  const used = new Set<number>([...p.json.inputs, ...p.json.outputs]);
  for (const o of p.json.ops) for (const t of [...o.inputs, ...o.outputs]) used.add(t);
  const map = new Map<number, number>();
  const tensors: TensorSpec[] = [];
  p.json.tensors.forEach((t, i) => {
    if (used.has(i)) {
      map.set(i, tensors.length);
      tensors.push(t);
    }
  });
  const m = (i: number) => map.get(i)!;
  return {
    json: {
      ...p.json,
      tensors,
      inputs: p.json.inputs.map(m),
      outputs: p.json.outputs.map(m),
      ops: p.json.ops.map((o) => ({ ...o, inputs: o.inputs.map(m), outputs: o.outputs.map(m) })),
    },
    data: p.data,
  };
}
